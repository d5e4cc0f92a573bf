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

// Search: q is split into words, and every word must occur,
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
	words := searchWords(pg)
	items := make([]searchMessageItem, len(msgs))
	for i, m := range msgs {
		items[i] = searchMessageItem{MessageItem: m, Highlights: highlight(words, map[string][]string{
			"from": {m.From}, "recipients": slices.Concat(m.To, m.Cc, m.Bcc), "subject": {m.Subject}, "text": {m.Preview},
		})}
	}
	return ok(w, searchMessagesResponse{Count: len(items), Limit: pg.Limit, NextPageToken: next, Messages: items})
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
	words := searchWords(pg)
	items := make([]searchThreadItem, len(threads))
	for i, t := range threads {
		t = threadItem(t)
		items[i] = searchThreadItem{ThreadItem: t, Highlights: highlight(words, map[string][]string{
			"from": t.Senders, "recipients": t.Recipients, "subject": {t.Subject}, "text": {t.Preview},
		})}
	}
	return ok(w, searchThreadsResponse{Count: len(items), Limit: pg.Limit, NextPageToken: next, Threads: items})
}

// Search results: list items plus highlights, the matched
// fragments of each field with the matched words wrapped in **; a field is present only when
// it matched. The text highlight comes from the preview (list items carry no bodies).
type (
	searchMessageItem struct {
		wire.MessageItem
		Highlights *highlights `json:"highlights,omitempty"`
	}
	searchThreadItem struct {
		wire.ThreadItem
		Highlights *highlights `json:"highlights,omitempty"`
	}
	highlights struct {
		From       []string `json:"from,omitempty"`
		Recipients []string `json:"recipients,omitempty"`
		Subject    []string `json:"subject,omitempty"`
		Text       []string `json:"text,omitempty"`
	}
	searchMessagesResponse struct {
		Count         int                 `json:"count"`
		Limit         int                 `json:"limit,omitempty"`
		NextPageToken string              `json:"next_page_token,omitempty"`
		Messages      []searchMessageItem `json:"messages"`
	}
	searchThreadsResponse struct {
		Count         int                `json:"count"`
		Limit         int                `json:"limit,omitempty"`
		NextPageToken string             `json:"next_page_token,omitempty"`
		Threads       []searchThreadItem `json:"threads"`
	}
)

// searchWords are the words of a search's query, from its substring filters.
func searchWords(pg store.Page) []string {
	words := make([]string, len(pg.Contains))
	for i, f := range pg.Contains {
		words[i] = f.Value
	}
	return words
}

// maxHighlight is the most characters of context kept around the first match of a fragment.
const maxHighlight = 80

// highlight returns, per field, the values in which a word occurs (ignoring case), cut to a
// fragment around the first match with every match wrapped in **; nil when nothing matched.
func highlight(words []string, fields map[string][]string) *highlights {
	var h highlights
	for name, values := range fields {
		var out []string
		for _, v := range values {
			if frag, ok := markWords(v, words); ok {
				out = append(out, frag)
			}
		}
		switch name {
		case "from":
			h.From = out
		case "recipients":
			h.Recipients = out
		case "subject":
			h.Subject = out
		case "text":
			h.Text = out
		}
	}
	if h.From == nil && h.Recipients == nil && h.Subject == nil && h.Text == nil {
		return nil
	}
	return &h
}

// markWords wraps each occurrence of any word in v with ** and cuts v to a window around the
// first one; false when no word occurs.
func markWords(v string, words []string) (string, bool) {
	lower := strings.ToLower(v)
	type span struct{ from, to int }
	var spans []span
	for _, w := range words {
		w = strings.ToLower(w)
		if w == "" || len(lower) != len(v) { // case folding changed the length: match nothing rather than misplace marks
			continue
		}
		for i := 0; ; {
			j := strings.Index(lower[i:], w)
			if j < 0 {
				break
			}
			spans = append(spans, span{i + j, i + j + len(w)})
			i += j + len(w)
		}
	}
	if len(spans) == 0 {
		return "", false
	}
	slices.SortFunc(spans, func(a, b span) int { return a.from - b.from })
	start := max(0, spans[0].from-maxHighlight/2)
	end := min(len(v), spans[0].to+maxHighlight/2)
	for start > 0 && !utf8.RuneStart(v[start]) {
		start--
	}
	for end < len(v) && !utf8.RuneStart(v[end]) {
		end++
	}
	var b strings.Builder
	if start > 0 {
		b.WriteString("…")
	}
	at := start
	for _, sp := range spans {
		if sp.from < at || sp.to > end {
			continue
		}
		b.WriteString(v[at:sp.from])
		b.WriteString("**" + v[sp.from:sp.to] + "**")
		at = sp.to
	}
	b.WriteString(v[at:end])
	if end < len(v) {
		b.WriteString("…")
	}
	return b.String(), true
}
