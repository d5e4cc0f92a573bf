package httpapi

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/lists"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// maxReasonLen bounds a list entry's reason.
const maxReasonLen = 1024

// listRoutes registers the allow/block list routes at the three
// scopes. A list belongs to its scope: only a key that covers the whole scope reads or
// changes it (a pod key gets 403 on the organisation's lists, an inbox key on its pod's).
// Entries are lower-cased addresses or domains (lists.ParseEntry); creating an entry that is
// already on the list answers the existing entry. How lists apply to mail is lists.Decide.
func (s *server) listRoutes() {
	for _, scope := range []string{"/v0", "/v0/pods/{pod_id}", "/v0/inboxes/{inbox_id}"} {
		l := scope + "/lists/{direction}/{type}"
		s.handle("GET "+l, "list_entry_read", s.listListEntries)
		s.handle("POST "+l, "list_entry_create", s.createListEntry)
		s.handle("GET "+l+"/{entry}", "list_entry_read", s.getListEntry)
		s.handle("DELETE "+l+"/{entry}", "list_entry_delete", s.deleteListEntry)
	}
}

// list resolves the route's list: its scope, which the key must cover, its direction and type.
func (s *server) list(r *http.Request, p auth.Principal, perm string) (sc store.Scope, direction, listType string, err error) {
	if sc, err = s.ownScope(r, p, perm); err != nil {
		return sc, "", "", err
	}
	direction, listType = r.PathValue("direction"), r.PathValue("type")
	if !lists.ValidDirection(direction) {
		return sc, "", "", invalid("direction", "direction must be send, receive or reply")
	}
	if !lists.ValidType(listType) {
		return sc, "", "", invalid("type", "type must be allow or block")
	}
	return sc, direction, listType, nil
}

// listListEntries pages through a list by entry, ascending.
func (s *server) listListEntries(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	sc, direction, listType, err := s.list(r, p, "list_entry_read")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit, err := limitParam(q, defaultLimit, maxLimit)
	if err != nil {
		return err
	}
	token := q.Get("page_token")
	if len(token) > maxPageToken {
		return invalid("page_token", "page_token is not valid for this list")
	}
	entries, next, err := s.st.ListListEntries(r.Context(), sc, direction, listType, store.Page{Limit: limit, Token: token})
	if err != nil {
		return err
	}
	entries = wire.NonNil(entries)
	return ok(w, wire.ListListEntriesResponse{Count: len(entries), Limit: limit, NextPageToken: next, Entries: entries})
}

// createListEntry adds an address or a domain to a list; an entry already there is answered
// as it is (200 either way, as for AgentMail's idempotent creates).
func (s *server) createListEntry(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	sc, direction, listType, err := s.list(r, p, "list_entry_create")
	if err != nil {
		return err
	}
	var req wire.CreateListEntryRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Entry) == "" {
		return invalid("entry", "entry is required: an email address or a domain")
	}
	entry, _, err := lists.ParseEntry(req.Entry)
	if err != nil {
		return invalid("entry", "entry %v", err)
	}
	reason := strings.TrimSpace(req.Reason)
	if utf8.RuneCountInString(reason) > maxReasonLen {
		return invalid("reason", "reason must be at most %d characters", maxReasonLen)
	}
	e, _, err := s.st.CreateListEntry(r.Context(), sc, wire.ListEntry{Entry: entry, Direction: direction, ListType: listType, Reason: reason})
	if err != nil {
		return err
	}
	return ok(w, e)
}

func (s *server) getListEntry(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	e, err := s.listEntry(r, p, "list_entry_read")
	if err != nil {
		return err
	}
	return ok(w, e)
}

// deleteListEntry removes an entry; read-only entries (managed by Pigeon) answer 400.
func (s *server) deleteListEntry(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	e, err := s.listEntry(r, p, "list_entry_delete")
	if err != nil {
		return err
	}
	if e.ReadOnly {
		return invalid("entry", "entry %s is read-only", e.Entry)
	}
	err = s.st.DeleteListEntry(r.Context(), store.Scope{OrgID: e.OrganizationID, PodID: e.PodID, InboxID: e.InboxID}, e.Direction, e.ListType, e.Entry)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("list entry")
	}
	if err != nil {
		return err
	}
	return noContent(w)
}

// listEntry resolves the route's {entry} (percent-decoded by the mux; matched after
// lists.ParseEntry's normalisation, so Ann@Example.com finds ann@example.com).
func (s *server) listEntry(r *http.Request, p auth.Principal, perm string) (wire.ListEntry, error) {
	sc, direction, listType, err := s.list(r, p, perm)
	if err != nil {
		return wire.ListEntry{}, err
	}
	e, err := s.st.GetListEntry(r.Context(), sc, direction, listType, r.PathValue("entry"))
	if errors.Is(err, store.ErrNotFound) {
		return wire.ListEntry{}, notFound("list entry")
	}
	return e, err
}
