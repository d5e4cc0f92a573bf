package httpapi

import (
	"net/http"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// maxThreadScan bounds how many of a thread's messages are read to find one attachment.
const maxThreadScan = 1000

// threadRoutes registers the thread routes at the three scopes (organisation, pod, inbox).
func (s *server) threadRoutes() {
	for _, scope := range []string{"/v0/inboxes/{inbox_id}", "/v0/pods/{pod_id}", "/v0"} {
		s.handle("GET "+scope+"/threads", "message_read", s.listThreads)
		s.handle("GET "+scope+"/threads/{thread_id}", "message_read", s.getThread)
		s.handle("GET "+scope+"/threads/{thread_id}/attachments/{attachment_id}", "message_read", s.getThreadAttachment)
	}
}

// listThreads lists the threads of the route's scope narrowed to the key's, most recently
// active first unless ascending.
func (s *server) listThreads(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	sc, err := s.listScope(r, p)
	if err != nil {
		return err
	}
	pg, err := filteredPage(r.URL.Query(), p, threadFilters)
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

// getThread answers a thread with one page of its messages: the first page holds the newest
// messages, each page is in ascending order, next_page_token leads to older ones.
func (s *server) getThread(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	sc, err := s.listScope(r, p)
	if err != nil {
		return err
	}
	t, err := s.thread(r, p, sc)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit, err := limitParam(q, defaultLimit, maxLimit)
	if err != nil {
		return err
	}
	pg := store.Page{Limit: limit, Token: q.Get("page_token")}
	if len(pg.Token) > maxPageToken {
		return invalid("page_token", "page_token is not valid for this thread")
	}
	msgs, next, err := s.st.ThreadMessages(r.Context(), t.ThreadID, pg)
	if err != nil {
		return err
	}
	page := make([]wire.Message, 0, len(msgs))
	for _, m := range msgs {
		if canSeeLabels(p, m.Labels) {
			page = append(page, fullMessage(m))
		}
	}
	return ok(w, wire.Thread{ThreadItem: threadItem(t.ThreadItem), Count: len(page), Limit: limit, NextPageToken: next, Messages: page})
}

// getThreadAttachment finds the attachment among the thread's messages (newest first).
func (s *server) getThreadAttachment(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	sc, err := s.listScope(r, p)
	if err != nil {
		return err
	}
	t, err := s.thread(r, p, sc)
	if err != nil {
		return err
	}
	id := r.PathValue("attachment_id")
	pg := store.Page{Limit: maxLimit}
	for scanned := 0; scanned < maxThreadScan; {
		msgs, next, err := s.st.ThreadMessages(r.Context(), t.ThreadID, pg)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if _, found := findAttachment(m.Attachments, id); found && canSeeLabels(p, m.Labels) {
				rec, err := s.st.GetMessage(r.Context(), m.InboxID, m.MessageID)
				if err != nil {
					return err
				}
				return s.attachment(w, r, rec, id)
			}
		}
		scanned += len(msgs)
		if next == "" {
			break
		}
		pg.Token = next
	}
	return notFound("attachment")
}

// threadItem makes the required arrays of a ThreadItem non-nil.
func threadItem(t wire.ThreadItem) wire.ThreadItem {
	t.Labels, t.Senders, t.Recipients = wire.NonNil(t.Labels), wire.NonNil(t.Senders), wire.NonNil(t.Recipients)
	return t
}
