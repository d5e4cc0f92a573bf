package drafts

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/pigeon-mail/pigeon/shared/outbound"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Sender sends drafts through the send path.
type Sender struct {
	Store    *store.Store
	Outbound *outbound.Service
	Now      func() time.Time // time.Now when nil
	Log      *slog.Logger     // slog.Default() when nil
}

// SendOptions are what a send request adds: label changes for the sent message (applied to
// the draft's labels; remove wins), the request's Idempotency-Key and the fingerprint of the
// request the key is bound to (outbound.Request.Fingerprint).
type SendOptions struct {
	AddLabels, RemoveLabels []string
	IdempotencyKey          string
	Fingerprint             string
}

// sendKey is the Idempotency-Key a draft is sent with: the request's, which shares the inbox's
// keys with the send routes (a key used for another request is refused by its fingerprint),
// or one per draft for a send without a key (the scheduler's).
func sendKey(draftID, requestKey string) string {
	if requestKey == "" {
		return "draft:" + draftID
	}
	return requestKey
}

// sendFingerprint is the fingerprint a draft's send key is bound to: the request's, or the
// draft's own for a send without a key.
func sendFingerprint(draftID string, o SendOptions) string {
	if o.IdempotencyKey == "" {
		return "draft:" + draftID
	}
	return o.Fingerprint
}

// Send sends a draft of inbox now, whatever its schedule, and deletes it. A repeat of a send
// with the same IdempotencyKey answers the first result (Replayed); without a key, a sent
// draft is gone (store.ErrNotFound). store.ErrSendInProgress: the first request with this
// key is still sending it. store.ErrIdempotencyKeyReused: the key was used for another
// request. store.ErrDraftSending: the draft is being sent by another request or by the
// scheduler. Other errors are outbound.Service.Send's; the draft is then left as it was.
func (s *Sender) Send(ctx context.Context, inbox store.InboxRecord, draftID string, o SendOptions) (outbound.Result, error) {
	key, fp := sendKey(draftID, o.IdempotencyKey), sendFingerprint(draftID, o)
	if o.IdempotencyKey != "" {
		prior, err := s.Store.SentResult(ctx, inbox.InboxID, key, fp)
		if err != nil {
			return outbound.Result{}, err
		}
		if prior != nil {
			s.finishLeftover(ctx, inbox, draftID, key, *prior)
			return outbound.Result{MessageID: prior.MessageID, ThreadID: prior.ThreadID, Replayed: true}, nil
		}
	}
	prev, err := s.Store.GetDraft(ctx, inbox.InboxID, draftID)
	if err != nil {
		return outbound.Result{}, err
	}
	add, err := Labels("add_labels", o.AddLabels)
	if err != nil {
		return outbound.Result{}, err
	}
	remove, err := Labels("remove_labels", o.RemoveLabels)
	if err != nil {
		return outbound.Result{}, err
	}
	labels := ApplyLabels(prev.Labels, add, remove)

	claim, err := s.Store.ClaimDraft(ctx, inbox.InboxID, draftID, key, fp, false, s.now())
	if errors.Is(err, store.ErrDraftSending) && o.IdempotencyKey != "" && prev.SendKey == key {
		return outbound.Result{}, store.ErrSendInProgress // the first request with this key has it
	}
	if err != nil {
		return outbound.Result{}, err
	}
	res, err := s.send(ctx, inbox, claim, labels)
	if err != nil {
		back := store.DraftRelease{Status: prev.SendStatus, Error: prev.SendError}
		if back.Status == wire.DraftSending { // taken over from a sender that died
			back.Status = wire.DraftScheduled
		}
		if rerr := s.Store.ReleaseDraft(context.WithoutCancel(ctx), claim, back); rerr != nil {
			s.log().ErrorContext(ctx, "drafts: claim not released", "inbox", inbox.InboxID, "draft_id", draftID, "err", rerr)
		}
		return outbound.Result{}, err
	}
	s.finish(ctx, claim, res)
	return res, nil
}

// finishLeftover deletes a draft whose send completed but whose sender died before deleting it.
func (s *Sender) finishLeftover(ctx context.Context, inbox store.InboxRecord, draftID, key string, sent store.SendResult) {
	d, err := s.Store.GetDraft(ctx, inbox.InboxID, draftID)
	if err != nil || d.SendStatus != wire.DraftSending || d.SendKey != key {
		return
	}
	s.finish(ctx, d, outbound.Result{MessageID: sent.MessageID, ThreadID: sent.ThreadID})
}

// finish deletes a sent draft. The message is out whatever happens here; a draft that cannot
// be deleted now is left sending, and the next sender replays the recorded result and
// deletes it.
func (s *Sender) finish(ctx context.Context, claim store.DraftRecord, res outbound.Result) {
	err := s.Store.FinishDraftSend(context.WithoutCancel(ctx), claim, store.SendResult{MessageID: res.MessageID, ThreadID: res.ThreadID})
	if err != nil {
		s.log().ErrorContext(ctx, "drafts: sent draft not deleted", "inbox", claim.InboxID, "draft_id", claim.DraftID, "message_id", res.MessageID, "err", err)
	}
}

// send sends a claimed draft as what its kind says, with the given labels on the message.
func (s *Sender) send(ctx context.Context, inbox store.InboxRecord, d store.DraftRecord, labels []string) (outbound.Result, error) {
	req := outbound.Request{
		Kind: KindOf(d.Draft), To: d.To, Cc: d.Cc, Bcc: d.Bcc, ReplyTo: d.ReplyTo,
		Text: d.Text, HTML: d.HTML, Labels: labels, IdempotencyKey: d.SendKey, Fingerprint: d.SendFingerprint,
	}
	switch req.Kind {
	case outbound.KindSend, outbound.KindForward:
		req.Subject = d.Subject
	}
	if orig := d.InReplyTo + d.ForwardOf; orig != "" {
		m, err := s.Store.GetMessage(ctx, inbox.InboxID, orig)
		if errors.Is(err, store.ErrNotFound) {
			field := map[outbound.Kind]string{outbound.KindReply: "in_reply_to", outbound.KindForward: "forward_of"}[req.Kind]
			return outbound.Result{}, invalid(field, "the message %s no longer exists", orig)
		}
		if err != nil {
			return outbound.Result{}, err
		}
		req.Original = &m
	}
	for _, a := range d.Attachments {
		data, err := s.Store.Blobs().Get(ctx, d.AttachmentKeys[a.AttachmentID])
		if err != nil {
			return outbound.Result{}, fmt.Errorf("drafts: attachment %s of %s: %w", a.AttachmentID, d.DraftID, err)
		}
		req.Attachments = append(req.Attachments, outbound.Attachment{
			Filename: a.Filename, ContentType: a.ContentType, ContentDisposition: a.ContentDisposition,
			ContentID: a.ContentID, Content: base64.StdEncoding.EncodeToString(data),
		})
	}
	return s.Outbound.Send(ctx, inbox, req)
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sender) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// ApplyLabels returns labels with add added and remove removed (remove wins), in order.
func ApplyLabels(labels, add, remove []string) []string {
	out := make([]string, 0, len(labels)+len(add))
	for _, l := range slices.Concat(labels, add) {
		if !slices.Contains(remove, l) && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}
