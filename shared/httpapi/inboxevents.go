package httpapi

import (
	"net/http"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// inboxEventRoutes serves the inbox's label audit log: label.added and
// label.removed entries, kept as long as events are (PIGEON_EVENT_RETENTION_DAYS). The log
// reveals message ids and labels, so it needs message_read.
func (s *server) inboxEventRoutes() {
	s.handle("GET /v0/inboxes/{inbox_id}/events", "message_read", s.listInboxEvents)
}

func (s *server) listInboxEvents(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	pg, err := listPage(r.URL.Query())
	if err != nil {
		return err
	}
	pg.Before, pg.After = nil, nil // not parameters of this list
	in, err := s.inbox(r, p)
	if err != nil {
		return err
	}
	evs, next, err := s.st.LabelEvents(r.Context(), in.InboxID, pg)
	if err != nil {
		return err
	}
	return ok(w, wire.ListInboxEventsResponse{Count: len(evs), Limit: pg.Limit, NextPageToken: next, Events: wire.NonNil(evs)})
}
