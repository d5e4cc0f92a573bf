package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/blob"
	"github.com/pigeon-mail/pigeon/shared/delivery"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// downloadTTL is how long presigned download URLs (raw messages, attachments) stay valid.
const downloadTTL = 15 * time.Minute

func (s *server) messageRoutes() {
	const m = "/v0/inboxes/{inbox_id}/messages"
	s.handle("GET "+m, "message_read", s.listMessages)
	s.handle("GET "+m+"/{message_id}", "message_read", s.getMessage)
	s.handle("GET "+m+"/{message_id}/raw", "message_read", s.getRawMessage)
	s.handle("GET "+m+"/{message_id}/attachments/{attachment_id}", "message_read", s.getMessageAttachment)
}

// listMessages lists an inbox's messages, newest first unless ascending; spam, blocked,
// unauthenticated and trash are left out unless asked for (filteredPage). Pigeon adds
// `status`: only sent messages with that delivery status (statusParam).
func (s *server) listMessages(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	in, err := s.inbox(r, p)
	if err != nil {
		return err
	}
	pg, err := filteredPage(r.URL.Query(), p, messageFilters)
	if err != nil {
		return err
	}
	status, err := statusParam(r.URL.Query())
	if err != nil {
		return err
	}
	var msgs []wire.MessageItem
	var next string
	if status != "" {
		msgs, next, err = s.st.ListMessagesWithStatus(r.Context(), in.InboxID, status, pg)
	} else {
		msgs, next, err = s.st.ListMessages(r.Context(), in.InboxID, pg)
	}
	if err != nil {
		return err
	}
	msgs = wire.NonNil(msgs)
	return ok(w, wire.ListMessagesResponse{Count: len(msgs), Limit: pg.Limit, NextPageToken: next, Messages: msgs})
}

// messageStatuses are the values of a message's `status` (package delivery).
var messageStatuses = []delivery.Status{
	delivery.Queued, delivery.Sending, delivery.Sent, delivery.Delayed, delivery.Delivered,
	delivery.Bounced, delivery.Complained, delivery.Rejected, delivery.Failed,
}

// statusParam reads the status filter of a message list (Pigeon's addition; "" when absent).
func statusParam(q url.Values) (string, error) {
	v := strings.ToLower(strings.TrimSpace(q.Get("status")))
	if v == "" || slices.Contains(messageStatuses, delivery.Status(v)) {
		return v, nil
	}
	names := make([]string, len(messageStatuses))
	for i, st := range messageStatuses {
		names[i] = string(st)
	}
	return "", invalid("status", "status must be one of %s", strings.Join(names, ", "))
}

// message resolves the route's {message_id} in its inbox. A message whose classification
// label (spam, …) the key may not read is treated as absent.
func (s *server) message(r *http.Request, p auth.Principal) (store.MessageRecord, error) {
	in, err := s.inbox(r, p)
	if err != nil {
		return store.MessageRecord{}, err
	}
	m, err := s.st.GetMessage(r.Context(), in.InboxID, r.PathValue("message_id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !canSeeLabels(p, m.Labels)) {
		return store.MessageRecord{}, notFound("message")
	}
	return m, err
}

func (s *server) getMessage(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	m, err := s.message(r, p)
	if err != nil {
		return err
	}
	return ok(w, fullMessage(m.Message))
}

// getRawMessage answers a presigned URL of the message as received or sent (.eml).
func (s *server) getRawMessage(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	m, err := s.message(r, p)
	if err != nil {
		return err
	}
	if m.RawKey == "" {
		return notFound("raw message")
	}
	url, expires, err := s.blobs.PresignGet(r.Context(), m.RawKey, downloadTTL, "message/rfc822", "message.eml")
	if err != nil {
		return err
	}
	return ok(w, wire.RawMessageResponse{MessageID: m.MessageID, Size: m.Size, DownloadURL: url, ExpiresAt: wire.UTC(expires)})
}

func (s *server) getMessageAttachment(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	m, err := s.message(r, p)
	if err != nil {
		return err
	}
	return s.attachment(w, r, m, r.PathValue("attachment_id"))
}

// attachment answers an attachment of m with a presigned URL serving its bytes under its own
// content type and file name.
func (s *server) attachment(w http.ResponseWriter, r *http.Request, m store.MessageRecord, attachmentID string) error {
	att, found := findAttachment(m.Attachments, attachmentID)
	key := m.AttachmentKeys[attachmentID]
	if !found || key == "" {
		return notFound("attachment")
	}
	contentType := att.ContentType
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	url, expires, err := s.blobs.PresignGet(r.Context(), key, downloadTTL, contentType, att.Filename)
	if errors.Is(err, blob.ErrNotFound) {
		return notFound("attachment")
	}
	if err != nil {
		return err
	}
	return ok(w, wire.AttachmentResponse{Attachment: att, DownloadURL: url, ExpiresAt: wire.UTC(expires)})
}

func findAttachment(atts []wire.Attachment, id string) (wire.Attachment, bool) {
	for _, a := range atts {
		if a.AttachmentID == id {
			return a, true
		}
	}
	return wire.Attachment{}, false
}

// fullMessage makes the required arrays of a Message non-nil.
func fullMessage(m wire.Message) wire.Message {
	m.Labels, m.To = wire.NonNil(m.Labels), wire.NonNil(m.To)
	return m
}
