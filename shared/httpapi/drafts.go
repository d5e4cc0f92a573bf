package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/drafts"
	"github.com/pigeon-mail/pigeon/shared/mail"
	"github.com/pigeon-mail/pigeon/shared/outbound"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// draftRoutes registers the draft routes: reads at the three scopes,
// changes at inbox scope. The rules (derivation, limits, sending) are package drafts'; here
// bodies are read and every draft and message is resolved in the key's scope.
func (s *server) draftRoutes() {
	for _, scope := range []string{"/v0/inboxes/{inbox_id}", "/v0/pods/{pod_id}", "/v0"} {
		s.handle("GET "+scope+"/drafts", "draft_read", s.listDrafts)
		s.handle("GET "+scope+"/drafts/{draft_id}", "draft_read", s.getDraft)
		s.handle("GET "+scope+"/drafts/{draft_id}/attachments/{attachment_id}", "draft_read", s.getDraftAttachment)
	}
	const d = "/v0/inboxes/{inbox_id}/drafts"
	s.handle("POST "+d, "draft_create", s.createDraft)
	s.handle("PATCH "+d+"/{draft_id}", "draft_update", s.updateDraft)
	s.handle("DELETE "+d+"/{draft_id}", "draft_delete", s.deleteDraft)
	s.handle("POST "+d+"/{draft_id}/send", "draft_send", s.sendDraft)
}

// listDrafts lists the drafts of the route's scope narrowed to the key's, most recently
// updated first unless ascending; labels[] keeps drafts carrying all of them.
func (s *server) listDrafts(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	sc, err := s.listScope(r, p)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	pg, err := listPage(q)
	if err != nil {
		return err
	}
	if pg.Labels, err = arrayParam(q, "labels"); err != nil {
		return err
	}
	for i, l := range pg.Labels {
		pg.Labels[i] = strings.ToLower(l)
	}
	items, next, err := s.st.ListDrafts(r.Context(), sc, pg)
	if err != nil {
		return err
	}
	items = wire.NonNil(items)
	return ok(w, wire.ListDraftsResponse{Count: len(items), Limit: pg.Limit, NextPageToken: next, Drafts: items})
}

// draft resolves the route's {draft_id} within the route's scope narrowed to the key's.
func (s *server) draft(r *http.Request, p auth.Principal) (store.DraftRecord, error) {
	sc, err := s.listScope(r, p)
	if err != nil {
		return store.DraftRecord{}, err
	}
	id := r.PathValue("draft_id")
	var d store.DraftRecord
	if sc.InboxID != "" {
		d, err = s.st.GetDraft(r.Context(), sc.InboxID, id)
	} else {
		d, err = s.st.FindDraft(r.Context(), id)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.DraftRecord{}, notFound("draft")
	}
	if err != nil {
		return store.DraftRecord{}, err
	}
	if d.OrgID != sc.OrgID || (sc.PodID != "" && d.PodID != sc.PodID) || (sc.InboxID != "" && d.InboxID != sc.InboxID) {
		return store.DraftRecord{}, notFound("draft")
	}
	return d, nil
}

func (s *server) getDraft(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	d, err := s.draft(r, p)
	if err != nil {
		return err
	}
	return ok(w, d.Draft)
}

// getDraftAttachment answers a presigned URL of one of the draft's attachments.
func (s *server) getDraftAttachment(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	d, err := s.draft(r, p)
	if err != nil {
		return err
	}
	return s.attachment(w, r, store.MessageRecord{Message: wire.Message{Attachments: d.Attachments}, AttachmentKeys: d.AttachmentKeys}, r.PathValue("attachment_id"))
}

// createDraft stores a new draft in the route's inbox. A reply (in_reply_to) or forward
// (forward_of) draft names a message of the same inbox, which the key must be able to read.
// A repeated client_id returns the draft it made.
func (s *server) createDraft(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	in, err := s.inbox(r, p)
	if err != nil {
		return err
	}
	var req wire.CreateDraftRequest
	if err := decodeJSONLimit(w, r, &req, outbound.MaxRequestBytes); err != nil {
		return err
	}
	d := wire.Draft{
		ClientID: req.ClientID, ReplyTo: req.ReplyTo, To: req.To, Cc: req.Cc, Bcc: req.Bcc,
		Subject: strings.TrimSpace(req.Subject), Text: req.Text, HTML: req.HTML,
		InReplyTo: strings.TrimSpace(req.InReplyTo), ForwardOf: strings.TrimSpace(req.ForwardOf),
	}
	if utf8.RuneCountInString(d.ClientID) > drafts.MaxClientIDLength {
		return invalid("client_id", "client_id must be at most %d characters", drafts.MaxClientIDLength)
	}
	if d.Labels, err = drafts.Labels("labels", req.Labels); err != nil {
		return err
	}
	if req.SendAt != nil {
		at, err := sendAt(*req.SendAt)
		if err != nil {
			return err
		}
		d.SendAt, d.SendStatus = &at, wire.DraftScheduled
	}
	replyAll := req.ReplyAll != nil && *req.ReplyAll
	switch {
	case d.InReplyTo != "" && d.ForwardOf != "":
		return invalid("forward_of", "in_reply_to and forward_of cannot both be given: a draft is a reply or a forward")
	case replyAll && d.InReplyTo == "":
		return invalid("reply_all", "reply_all needs in_reply_to")
	case replyAll && (len(d.To) > 0 || len(d.Cc) > 0 || len(d.Bcc) > 0):
		return invalid("to", "a reply-all draft takes its recipients from the message it answers; to, cc and bcc are not allowed")
	}
	if orig := d.InReplyTo + d.ForwardOf; orig != "" {
		field := "in_reply_to"
		if d.ForwardOf != "" {
			field = "forward_of"
		}
		if !p.Can("message_read") {
			return forbidden("message_read")
		}
		m, err := s.st.GetMessage(r.Context(), in.InboxID, orig)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !canSeeLabels(p, m.Labels)) {
			return invalid(field, "no message %s in inbox %s", orig, in.InboxID)
		}
		if err != nil {
			return err
		}
		if field == "in_reply_to" && d.Subject != "" && d.Subject != mail.ReplySubject(m.Subject) {
			return invalid("subject", "a reply draft's subject is derived from the message it answers (%q); leave subject out", mail.ReplySubject(m.Subject))
		}
		drafts.Derive(&d, in, &m, replyAll)
	}
	d.Preview = drafts.Preview(d.Text, d.HTML)
	if err := drafts.Check(&d); err != nil {
		return err
	}
	atts, err := s.draftAttachments(r, "attachments", req.Attachments, store.DraftRecord{})
	if err != nil {
		return err
	}
	rec, _, err := s.st.CreateDraft(r.Context(), in, d, atts)
	if err != nil {
		return draftError(err)
	}
	return ok(w, rec.Draft)
}

// updateDraft changes a draft: N fields absent stay, null (or [] for recipients) clears;
// attachments and labels are added and removed; send_at schedules (null unschedules). The
// draft's kind cannot change, nor a draft being sent (409).
func (s *server) updateDraft(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	in, err := s.inbox(r, p)
	if err != nil {
		return err
	}
	var req wire.UpdateDraftRequest
	if err := decodeJSONLimit(w, r, &req, outbound.MaxRequestBytes); err != nil {
		return err
	}
	addLabels, err := drafts.Labels("add_labels", req.AddLabels)
	if err != nil {
		return err
	}
	removeLabels, err := drafts.Labels("remove_labels", req.RemoveLabels)
	if err != nil {
		return err
	}
	var at *time.Time
	if req.SendAt.Set && !req.SendAt.Null {
		t, err := sendAt(req.SendAt.Value)
		if err != nil {
			return err
		}
		at = &t
	}
	id := r.PathValue("draft_id")
	cur, err := s.st.GetDraft(r.Context(), in.InboxID, id)
	if err != nil {
		return draftError(err)
	}
	if cur.SendStatus == wire.DraftSending {
		return draftError(store.ErrDraftSending)
	}
	for i, aid := range req.RemoveAttachments {
		if _, found := findAttachment(cur.Attachments, aid); !found {
			return invalid("remove_attachments["+strconv.Itoa(i)+"]", "the draft has no attachment %q", aid)
		}
	}
	kept := cur
	kept.Attachments = nil
	for _, a := range cur.Attachments {
		if !contains(req.RemoveAttachments, a.AttachmentID) {
			kept.Attachments = append(kept.Attachments, a)
		}
	}
	add, err := s.draftAttachments(r, "add_attachments", req.AddAttachments, kept)
	if err != nil {
		return err
	}

	rec, err := s.st.UpdateDraft(r.Context(), in.InboxID, id, add, func(d *store.DraftRecord) error {
		for _, f := range []struct {
			field *[]string
			req   wire.Nullable[[]string]
		}{{&d.ReplyTo, req.ReplyTo}, {&d.To, req.To}, {&d.Cc, req.Cc}, {&d.Bcc, req.Bcc}} {
			if f.req.Set {
				*f.field = f.req.Value // null: nil
			}
		}
		if req.Subject.Set {
			subject := strings.TrimSpace(req.Subject.Value)
			if drafts.KindOf(d.Draft) == outbound.KindReply && subject != d.Subject {
				return invalid("subject", "a reply draft's subject is derived from the message it answers (%q) and cannot change", d.Subject)
			}
			d.Subject = subject
		}
		if req.Text.Set {
			d.Text = req.Text.Value
		}
		if req.HTML.Set {
			d.HTML = req.HTML.Value
		}
		atts := d.Attachments[:0:0]
		for _, a := range d.Attachments {
			if !contains(req.RemoveAttachments, a.AttachmentID) {
				atts = append(atts, a)
			}
		}
		if len(atts) > outbound.MaxAttachments || totalSize(atts) > outbound.MaxAttachmentBytes {
			// Only when attachments were added concurrently: the check above held then.
			return invalid("add_attachments", "the draft would hold more than %d attachments or %d MB", outbound.MaxAttachments, outbound.MaxAttachmentBytes>>20)
		}
		d.Attachments = atts
		d.Labels = drafts.ApplyLabels(d.Labels, addLabels, removeLabels)
		if len(d.Labels) > maxDraftLabels {
			return invalid("add_labels", "a draft has at most %d labels", maxDraftLabels)
		}
		if req.SendAt.Set {
			d.Schedule(at)
		}
		d.Preview = drafts.Preview(d.Text, d.HTML)
		return drafts.Check(&d.Draft)
	})
	if err != nil {
		return draftError(err)
	}
	return ok(w, rec.Draft)
}

// maxDraftLabels bounds a draft's labels (as outbound's bound on a message's).
const maxDraftLabels = 50

func (s *server) deleteDraft(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	in, err := s.inbox(r, p)
	if err != nil {
		return err
	}
	if err := s.st.DeleteDraft(r.Context(), in.InboxID, r.PathValue("draft_id")); err != nil {
		return draftError(err)
	}
	return noContent(w)
}

// sendDraft sends a draft now and deletes it. The body's add_labels/remove_labels change the
// draft's labels for the sent message. A repeat with the same Idempotency-Key answers the
// first result; without one, a sent draft is gone (404).
func (s *server) sendDraft(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	in, err := s.inbox(r, p)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	var body wire.UpdateMessageRequest
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if s.out == nil {
		return noSender()
	}
	draftID := r.PathValue("draft_id")
	opts := drafts.SendOptions{AddLabels: body.AddLabels, RemoveLabels: body.RemoveLabels, IdempotencyKey: key}
	if key != "" {
		if opts.Fingerprint, err = requestFingerprint("draft-send", draftID, body); err != nil {
			return err
		}
	}
	sender := &drafts.Sender{Store: s.st, Outbound: s.out, Now: s.now, Log: s.log}
	res, err := sender.Send(r.Context(), in, draftID, opts)
	if err != nil {
		return draftError(err)
	}
	return ok(w, wire.SendMessageResponse{MessageID: res.MessageID, ThreadID: res.ThreadID})
}

// draftAttachments gathers attachments given to a draft that already holds held's (bytes
// decoded or downloaded now, within the limits of a send).
func (s *server) draftAttachments(r *http.Request, field string, given []wire.SendAttachment, held store.DraftRecord) ([]mail.Attachment, error) {
	if len(given) == 0 {
		return nil, nil
	}
	if s.out == nil {
		return nil, noSender()
	}
	req := make([]outbound.Attachment, len(given))
	for i, a := range given {
		switch a.ContentDisposition {
		case "", "inline", "attachment":
		default:
			return nil, invalid(field+"["+strconv.Itoa(i)+"].content_disposition", "content_disposition must be inline or attachment")
		}
		req[i] = outbound.Attachment{
			Filename: a.Filename, ContentType: a.ContentType, ContentDisposition: a.ContentDisposition,
			ContentID: a.ContentID, Content: a.Content, URL: a.URL,
		}
	}
	got, err := s.out.DraftAttachments(r.Context(), field, req, len(held.Attachments), totalSize(held.Attachments))
	if err != nil {
		return nil, err
	}
	out := make([]mail.Attachment, len(got))
	for i, a := range got {
		out[i] = mail.Attachment{Attachment: wire.Attachment{
			Filename: a.Filename, ContentType: a.ContentType, ContentDisposition: a.ContentDisposition, ContentID: a.ContentID,
		}, Content: a.Content}
	}
	return out, nil
}

// sendAt reads a send_at value: an ISO-8601 time, in the past or the future (a past one is due
// at once; see package drafts).
func sendAt(v string) (time.Time, error) {
	t, err := timeParam(map[string][]string{"send_at": {v}}, "send_at")
	if err != nil {
		return time.Time{}, err
	}
	if t == nil {
		return time.Time{}, invalid("send_at", "send_at must be an ISO-8601 timestamp such as 2025-01-02T03:04:05.000Z, or null")
	}
	return *t, nil
}

// draftError maps the draft states the store reports to the API's errors; others pass on to
// writeError.
func draftError(err error) error {
	var sent *store.DraftSentError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound("draft")
	case errors.Is(err, store.ErrDraftSending):
		return &apiError{status: http.StatusConflict, body: wire.Error{
			Name: "ConflictError", Code: "draft_sending", Message: "the draft is being sent; it cannot be changed or sent again",
		}}
	case errors.As(err, &sent):
		return &apiError{status: http.StatusConflict, body: wire.Error{
			Name: "ConflictError", Code: "draft_sent",
			Message: "the draft created with this client_id (" + sent.DraftID + ") has been sent as message " + sent.MessageID,
			Fix:     "use a new client_id for a new draft",
		}}
	}
	return err
}

func noSender() error {
	return &apiError{status: http.StatusServiceUnavailable, body: wire.Error{
		Name: "ServiceUnavailableError", Code: "sending_not_configured", Message: "this deployment cannot send mail",
	}}
}

func totalSize(atts []wire.Attachment) int64 {
	var n int64
	for _, a := range atts {
		n += a.Size
	}
	return n
}
