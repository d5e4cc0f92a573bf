package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/outbound"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Message and thread changes: labels, batch reads, and
// deletes. Lifecycle labels (received, sent, delivered, …) cannot be added or removed; other
// labels are stored lower-cased; a label both added and removed is removed.

func (s *server) messageLabelRoutes() {
	const m = "/v0/inboxes/{inbox_id}/messages"
	s.handle("PATCH "+m+"/{message_id}", "message_update", s.updateMessage)
	s.handle("DELETE "+m+"/{message_id}", "message_delete", s.deleteMessage)
	s.handle("POST "+m+"/batch-get", "message_read", s.batchGetMessages)
	s.handle("POST "+m+"/batch-update", "message_update", s.batchUpdateMessages)
}

func (s *server) threadUpdateRoutes() {
	for _, scope := range []string{"/v0/inboxes/{inbox_id}", "/v0/pods/{pod_id}", "/v0"} {
		s.handle("PATCH "+scope+"/threads/{thread_id}", "message_update", s.updateThread)
		s.handle("DELETE "+scope+"/threads/{thread_id}", "message_delete", s.deleteThread)
	}
}

// labelChange checks add_labels and remove_labels; at least one must name a label.
func labelChange(add, remove []string) (store.LabelChange, error) {
	a, err := outbound.UserLabels("add_labels", add)
	if err != nil {
		return store.LabelChange{}, err
	}
	r, err := outbound.UserLabels("remove_labels", remove)
	if err != nil {
		return store.LabelChange{}, err
	}
	if len(a) == 0 && len(r) == 0 {
		return store.LabelChange{}, invalid("add_labels", "add_labels or remove_labels is required")
	}
	return store.LabelChange{Add: a, Remove: r}, nil
}

func (s *server) updateMessage(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	m, err := s.message(r, p)
	if err != nil {
		return err
	}
	var body wire.UpdateMessageRequest
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	ch, err := labelChange(body.AddLabels, body.RemoveLabels)
	if err != nil {
		return err
	}
	res, err := s.st.UpdateMessageLabels(r.Context(), m.InboxID, []string{m.MessageID}, ch)
	if err != nil {
		return err
	}
	if len(res) == 0 {
		return notFound("message")
	}
	return ok(w, res[0])
}

func (s *server) deleteMessage(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	m, err := s.message(r, p)
	if err != nil {
		return err
	}
	if err := s.st.DeleteMessage(r.Context(), m.InboxID, m.MessageID); errors.Is(err, store.ErrNotFound) {
		return notFound("message")
	} else if err != nil {
		return err
	}
	return noContent(w)
}

// messageIDs checks a batch's message_ids: present, at most max, no duplicates.
func messageIDs(ids []string, max int) error {
	if ids == nil {
		return invalid("message_ids", "message_ids is required")
	}
	if len(ids) > max {
		return invalid("message_ids", "at most %d message_ids", max)
	}
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		if seen[id] {
			return invalid(fmt.Sprintf("message_ids[%d]", i), "%q is named twice", id)
		}
		seen[id] = true
	}
	return nil
}

// visibleMessages reads the named messages of the inbox that the key may see, in order.
func (s *server) visibleMessages(r *http.Request, p auth.Principal, inbox string, ids []string) ([]wire.Message, error) {
	recs, err := s.st.BatchGetMessages(r.Context(), inbox, ids)
	if err != nil {
		return nil, err
	}
	out := make([]wire.Message, 0, len(recs))
	for _, m := range recs {
		if canSeeLabels(p, m.Labels) {
			out = append(out, fullMessage(m.Message))
		}
	}
	return out, nil
}

func (s *server) batchGetMessages(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	in, err := s.inbox(r, p)
	if err != nil {
		return err
	}
	var body wire.BatchGetMessagesRequest
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if err := messageIDs(body.MessageIDs, store.MaxBatchGet); err != nil {
		return err
	}
	msgs, err := s.visibleMessages(r, p, in.InboxID, body.MessageIDs)
	if err != nil {
		return err
	}
	return ok(w, wire.BatchGetMessagesResponse{Limit: len(body.MessageIDs), Count: len(msgs), Messages: msgs})
}

// batchUpdateMessages changes the labels of the named messages all or nothing; ids the inbox
// does not hold, or the key may not see, are left out.
func (s *server) batchUpdateMessages(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	in, err := s.inbox(r, p)
	if err != nil {
		return err
	}
	var body wire.BatchUpdateMessagesRequest
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if err := messageIDs(body.MessageIDs, store.MaxBatchUpdate); err != nil {
		return err
	}
	ch, err := labelChange(body.AddLabels, body.RemoveLabels)
	if err != nil {
		return err
	}
	msgs, err := s.visibleMessages(r, p, in.InboxID, body.MessageIDs)
	if err != nil {
		return err
	}
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.MessageID
	}
	updates := []wire.UpdateMessageResponse{}
	if len(ids) > 0 {
		if updates, err = s.st.UpdateMessageLabels(r.Context(), in.InboxID, ids, ch); err != nil {
			return err
		}
	}
	return ok(w, wire.BatchUpdateMessagesResponse{Limit: len(body.MessageIDs), Count: len(updates), Updates: wire.NonNil(updates)})
}

func (s *server) updateThread(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	sc, err := s.listScope(r, p)
	if err != nil {
		return err
	}
	t, err := s.thread(r, p, sc)
	if err != nil {
		return err
	}
	var body wire.UpdateThreadRequest
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	ch, err := labelChange(body.AddLabels, body.RemoveLabels)
	if err != nil {
		return err
	}
	labels, err := s.st.UpdateThreadLabels(r.Context(), t.ThreadID, ch, false)
	if err != nil {
		return err
	}
	return ok(w, wire.UpdateThreadResponse{ThreadID: t.ThreadID, Labels: wire.NonNil(labels)})
}

// deleteThread moves a thread to trash (label trash on every message); with permanent=true,
// or when every message of the thread is already in trash, it deletes the thread and its
// messages for good. The second rule is how the official SDKs, whose threads.delete sends no
// query parameters, empty the trash: delete once to trash, delete again to destroy.
func (s *server) deleteThread(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	sc, err := s.listScope(r, p)
	if err != nil {
		return err
	}
	t, err := s.thread(r, p, sc)
	if err != nil {
		return err
	}
	permanent, err := boolParam(r.URL.Query(), "permanent")
	if err != nil {
		return err
	}
	if !permanent && slices.Contains(t.Labels, wire.LabelTrash) {
		if permanent, err = s.allTrashed(r.Context(), t.ThreadID); err != nil {
			return err
		}
	}
	if permanent {
		err = s.st.DeleteThread(r.Context(), t.ThreadID)
	} else {
		_, err = s.st.UpdateThreadLabels(r.Context(), t.ThreadID, store.LabelChange{Add: []string{wire.LabelTrash}}, true)
	}
	if errors.Is(err, store.ErrNotFound) {
		return notFound("thread")
	}
	if err != nil {
		return err
	}
	return noContent(w)
}

// allTrashed reports whether every message of the thread carries the trash label.
func (s *server) allTrashed(ctx context.Context, threadID string) (bool, error) {
	pg := store.Page{Limit: store.MaxLimit}
	for {
		msgs, next, err := s.st.ThreadMessages(ctx, threadID, pg)
		if err != nil {
			return false, err
		}
		for _, m := range msgs {
			if !slices.Contains(m.Labels, wire.LabelTrash) {
				return false, nil
			}
		}
		if next == "" {
			return true, nil
		}
		pg.Token = next
	}
}
