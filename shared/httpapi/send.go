package httpapi

import (
	"errors"
	"net/http"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/outbound"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// sendRoutes registers send, reply, reply-all and forward. The work is
// package outbound's; here the body is read and the inbox and the original are resolved in the
// key's scope.
func (s *server) sendRoutes() {
	const m = "/v0/inboxes/{inbox_id}/messages"
	s.handle("POST "+m+"/send", "message_send", s.send(outbound.KindSend))
	s.handle("POST "+m+"/{message_id}/reply", "message_send", s.send(outbound.KindReply))
	s.handle("POST "+m+"/{message_id}/reply-all", "message_send", s.send(outbound.KindReplyAll))
	s.handle("POST "+m+"/{message_id}/forward", "message_send", s.send(outbound.KindForward))
}

func (s *server) send(kind outbound.Kind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if s.out == nil {
			return &apiError{status: http.StatusServiceUnavailable, body: wire.Error{
				Name: "ServiceUnavailableError", Code: "sending_not_configured", Message: "this deployment cannot send mail",
			}}
		}
		in, err := s.inbox(r, p)
		if err != nil {
			return err
		}
		key, err := idempotencyKey(r)
		if err != nil {
			return err
		}
		var body wire.SendMessageRequest
		if err := decodeJSONLimit(w, r, &body, outbound.MaxRequestBytes); err != nil {
			return err
		}
		req := outbound.Request{
			Kind: kind, ReplyTo: body.ReplyTo, Text: body.Text, HTML: body.HTML,
			Labels: body.Labels, Headers: body.Headers, IdempotencyKey: key, Delivery: body.Delivery,
		}
		if kind != outbound.KindReplyAll {
			req.To, req.Cc, req.Bcc = body.To, body.Cc, body.Bcc
		}
		if kind == outbound.KindSend || kind == outbound.KindForward {
			req.Subject = body.Subject
		}
		if kind == outbound.KindReply && body.ReplyAll != nil {
			req.ReplyAll = *body.ReplyAll
		}
		for _, a := range body.Attachments {
			req.Attachments = append(req.Attachments, outbound.Attachment{
				Filename: a.Filename, ContentType: a.ContentType, ContentDisposition: a.ContentDisposition,
				ContentID: a.ContentID, Content: a.Content, URL: a.URL,
			})
		}
		if kind != outbound.KindSend {
			orig, err := s.messageOf(r, p, in)
			if err != nil {
				return err
			}
			req.Original = &orig
		}
		if key != "" {
			target := ""
			if req.Original != nil {
				target = req.Original.MessageID
			}
			if req.Fingerprint, err = requestFingerprint(string(kind), target, body); err != nil {
				return err
			}
		}
		res, err := s.out.Send(r.Context(), in, req)
		if err != nil {
			return err
		}
		return ok(w, wire.SendMessageResponse{MessageID: res.MessageID, ThreadID: res.ThreadID})
	}
}

// messageOf resolves the route's {message_id} in an inbox already resolved; a message whose
// classification label the key may not read is treated as absent.
func (s *server) messageOf(r *http.Request, p auth.Principal, in store.InboxRecord) (store.MessageRecord, error) {
	m, err := s.st.GetMessage(r.Context(), in.InboxID, r.PathValue("message_id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !canSeeLabels(p, m.Labels)) {
		return store.MessageRecord{}, notFound("message")
	}
	return m, err
}
