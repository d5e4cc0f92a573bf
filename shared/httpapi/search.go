package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Search (agentmail-v0.md §2.1, §3.1, §4): q is split into words, and every word must occur,
// ignoring case, in one of the searched fields. Results come newest first (AgentMail ranks
// by relevance; Pigeon has no relevance index yet, and says so in the README). Spam, blocked,
// unauthenticated and trash are always left out. Literal …/search segments beat the
// {inbox_id} and {message_id} wildcards by ServeMux precedence.
func (s *server) searchRoutes() {
	for _, prefix := range []string{"/v0", "/v0/pods/{pod_id}"} {
		s.handle("GET "+prefix+"/inboxes/search", "inbox_read", s.searchInboxes)
	}
	s.handle("GET /v0/inboxes/{inbox_id}/messages/search", "message_read", s.searchMessages)
	for _, scope := range []string{"/v0/inboxes/{inbox_id}", "/v0/pods/{pod_id}", "/v0"} {
		s.handle("GET "+scope+"/threads/search", "message_read", s.searchThreads)
	}
}

// Limits of a search query.
const (
	minSearchQuery = 2
	maxSearchQuery = 256
	maxSearchWords = 10
)

// Fields each kind of search looks in (stored attribute names; bodies are searched where the
// message keeps them inline, which is every message up to 64 KB of text).
var (
	inboxSearchFields   = []string{"inbox_id", "display_name"}
	messageSearchFields = []string{"from", "to", "cc", "bcc", "subject", "preview", "text", "extracted_text"}
	threadSearchFields  = []string{"senders", "recipients", "subject", "preview"}
)

// searchPage reads a search's parameters: q (required), limit, page_token, before, after.
func searchPage(q url.Values, fields []string) (store.Page, string, error) {
	pg, err := listPage(q)
	if err != nil {
		return pg, "", err
	}
	text := strings.TrimSpace(q.Get("q"))
	if n := utf8.RuneCountInString(text); n < minSearchQuery || n > maxSearchQuery {
		return pg, "", invalid("q", "q must be %d to %d characters", minSearchQuery, maxSearchQuery)
	}
	words := strings.Fields(text)
	if len(words) > maxSearchWords {
		return pg, "", invalid("q", "q may have at most %d words", maxSearchWords)
	}
	for _, w := range words {
		pg.Contains = append(pg.Contains, store.Substring{Attributes: fields, Value: w})
	}
	pg.ExcludeLabels = []string{wire.LabelSpam, wire.LabelBlocked, wire.LabelUnauthenticated, wire.LabelTrash}
	return pg, text, nil
}

func (s *server) searchInboxes(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	podID := p.PodID
	if r.PathValue("pod_id") != "" {
		pod, err := s.pod(r, p)
		if err != nil {
			return err
		}
		podID = pod.PodID
	}
	pg, text, err := searchPage(r.URL.Query(), inboxSearchFields)
	if err != nil {
		return err
	}
	pg.ExcludeLabels = nil // inboxes carry no labels
	var inboxes []wire.Inbox
	var next string
	if p.InboxID != "" {
		inboxes, err = s.ownInboxMatching(r, p, podID, pg)
	} else {
		inboxes, next, err = s.st.ListInboxes(r.Context(), p.OrgID, podID, pg)
	}
	if err != nil {
		return err
	}
	// An exact address match ranks first.
	want := strings.ToLower(text)
	if i := slices.IndexFunc(inboxes, func(in wire.Inbox) bool { return in.InboxID == want }); i > 0 {
		exact := inboxes[i]
		inboxes = append([]wire.Inbox{exact}, slices.Delete(inboxes, i, i+1)...)
	}
	inboxes = wire.NonNil(inboxes)
	return ok(w, wire.ListInboxesResponse{Count: len(inboxes), Limit: pg.Limit, NextPageToken: next, Inboxes: inboxes})
}

// ownInboxMatching is an inbox key's search: its own inbox, when it matches every word.
func (s *server) ownInboxMatching(r *http.Request, p auth.Principal, podID string, pg store.Page) ([]wire.Inbox, error) {
	in, err := s.st.GetInbox(r.Context(), p.InboxID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (pg.Token != "" || (podID != "" && in.PodID != podID))) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, f := range pg.Contains {
		v := strings.ToLower(f.Value)
		if !strings.Contains(in.InboxID, v) && !strings.Contains(strings.ToLower(in.DisplayName), v) {
			return nil, nil
		}
	}
	return []wire.Inbox{in.Inbox}, nil
}

func (s *server) searchMessages(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	in, err := s.inbox(r, p)
	if err != nil {
		return err
	}
	pg, _, err := searchPage(r.URL.Query(), messageSearchFields)
	if err != nil {
		return err
	}
	msgs, next, err := s.st.ListMessages(r.Context(), in.InboxID, pg)
	if err != nil {
		return err
	}
	msgs = wire.NonNil(msgs)
	return ok(w, wire.ListMessagesResponse{Count: len(msgs), Limit: pg.Limit, NextPageToken: next, Messages: msgs})
}

func (s *server) searchThreads(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	sc, err := s.listScope(r, p)
	if err != nil {
		return err
	}
	pg, _, err := searchPage(r.URL.Query(), threadSearchFields)
	if err != nil {
		return err
	}
	threads, next, err := s.st.ListThreads(r.Context(), sc, pg)
	if err != nil {
		return err
	}
	threads = wire.NonNil(threads)
	for i := range threads {
		threads[i] = threadItem(threads[i])
	}
	return ok(w, wire.ListThreadsResponse{Count: len(threads), Limit: pg.Limit, NextPageToken: next, Threads: threads})
}
