package outbound

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pigeon-mail/pigeon/shared/delivery"
	"github.com/pigeon-mail/pigeon/shared/mail"
	"github.com/pigeon-mail/pigeon/shared/ses"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Service sends mail from inboxes.
type Service struct {
	Store  *store.Store
	Sender *ses.Sender
	// DryRun takes the sends whose delivery mode is dry-run (Request.Delivery, else the
	// inbox's) in place of Sender; nil refuses them.
	DryRun DryRunSender
	// MessageIDDomain is the domain of the Message-ID SES writes on sent mail:
	// ses.MessageIDDomain(region of the SES client), or PIGEON_SES_MESSAGE_ID_DOMAIN.
	MessageIDDomain string
	Deployed        bool             // deployed mode: URL attachments may not reach private addresses
	HTTPClient      *http.Client     // downloads URL attachments; newFetchClient(Deployed) when nil
	FetchTimeout    time.Duration    // FetchTimeout when zero
	Now             func() time.Time // time.Now when nil
	Log             *slog.Logger     // slog.Default() when nil

	clientOnce sync.Once
	client     *http.Client
}

// DryRunSender stands in for SES on dry-run sends (sesevents.DryRun): Send takes the message
// as SES would, without sending it; once the message is recorded, Settle gives it the outcome
// SES would have reported (status, labels, events), before the send answers.
type DryRunSender interface {
	Send(ctx context.Context, in ses.SendInput) (string, error)
	Settle(ctx context.Context, sesMessageID string, in ses.SendInput) error
}

// Result is a send's answer.
type Result struct {
	MessageID string
	ThreadID  string
	Replayed  bool // the Idempotency-Key had already sent this message; nothing was sent now
}

// Send composes req from inbox, sends it through SES and records it (see the package comment
// for the steps, the limits and what each failure leaves behind). Errors: *InvalidError,
// *TooLargeError, *BlockedError, store.ErrSendInProgress, store.ErrIdempotencyKeyReused,
// SES's *ses.Error (throttled, rejected), *UnsentError (recorded as failed),
// store.ErrNotFound (the inbox went away).
func (s *Service) Send(ctx context.Context, inbox store.InboxRecord, req Request) (Result, error) {
	now := wire.UTC(s.now())
	p, err := newPlan(inbox, req, now)
	if err != nil {
		return Result{}, err
	}
	dryRun, err := s.dryRun(inbox, req)
	if err != nil {
		return Result{}, err
	}
	b := &budget{left: MaxAttachmentBytes}
	atts, err := checkAttachments(req.Attachments, b)
	if err != nil {
		return Result{}, err
	}
	if p.forwarded {
		fwd, err := s.forwardedAttachments(ctx, req.Original, b)
		if err != nil {
			return Result{}, err
		}
		if len(atts)+len(fwd) > MaxAttachments {
			return Result{}, invalid("attachments", "the forward would carry %d attachments; at most %d", len(atts)+len(fwd), MaxAttachments)
		}
		atts = append(atts, fwd...)
	}
	if err := s.fetchAttachments(ctx, req.Attachments, atts, b); err != nil {
		return Result{}, err
	}
	p.out.Attachments = atts
	if err := s.checkSendLists(ctx, inbox, p.envelope); err != nil {
		return Result{}, err
	}
	p.out.MessageID = newPigeonMessageID(inbox.InboxID)
	raw, err := mail.Compose(p.out)
	var ce *mail.ComposeError
	switch {
	case errors.As(err, &ce):
		return Result{}, invalid(ce.Field, "%s", ce.Reason)
	case err != nil:
		return Result{}, err
	}

	if req.IdempotencyKey != "" {
		prior, err := s.Store.ClaimIdempotencyKey(ctx, inbox.InboxID, req.IdempotencyKey, req.Fingerprint)
		if err != nil {
			// The claim may have been written with its answer lost: give it back, or every
			// retry would find it pending.
			if !errors.Is(err, store.ErrSendInProgress) && !errors.Is(err, store.ErrIdempotencyKeyReused) {
				if relErr := s.Store.ReleaseIdempotencyKey(context.WithoutCancel(ctx), inbox.InboxID, req.IdempotencyKey); relErr != nil {
					s.log().ErrorContext(ctx, "outbound: idempotency key not released", "inbox", inbox.InboxID, "err", relErr)
				}
			}
			return Result{}, err
		}
		if prior != nil {
			return Result{MessageID: prior.MessageID, ThreadID: prior.ThreadID, Replayed: true}, nil
		}
	}
	release := func() {
		if req.IdempotencyKey == "" {
			return
		}
		if err := s.Store.ReleaseIdempotencyKey(context.WithoutCancel(ctx), inbox.InboxID, req.IdempotencyKey); err != nil {
			s.log().ErrorContext(ctx, "outbound: idempotency key not released", "inbox", inbox.InboxID, "err", err)
		}
	}

	input := ses.SendInput{
		From: inbox.InboxID, Recipients: p.envelope, Raw: raw,
		Tags: map[string]string{"pigeon_inbox": inbox.InboxID, store.SendTagName: sendTag(p.out.MessageID)},
	}
	send := s.Sender.Send
	if dryRun {
		send = s.DryRun.Send
	}
	sesID, sendErr := send(ctx, input)
	if sendErr != nil {
		if errors.Is(sendErr, ses.ErrThrottled) || errors.Is(sendErr, ses.ErrRejected) || isNotConnected(sendErr) {
			release()
			return Result{}, sendErr
		}
		if ses.OutcomeUnknown(sendErr) {
			return s.recordUnsettled(ctx, inbox, p, raw, now, req, sendErr)
		}
		// SES did not take it, or we cannot tell: keep the message, marked failed.
		msg := s.message(p, raw, p.out.MessageID, now, wire.LabelFailed)
		st := delivery.Fail(delivery.New(p.envelope), sendErr.Error())
		rec, _, err := s.Store.RecordOutbound(context.WithoutCancel(ctx), store.Outbound{
			Inbox: inbox, Message: msg.Message, Attachments: msg.Attachments, Raw: raw, Delivery: st,
		})
		release()
		if err != nil {
			return Result{}, errors.Join(sendErr, err)
		}
		s.log().WarnContext(ctx, "outbound: send failed, recorded as failed", "inbox", inbox.InboxID, "message_id", rec.MessageID, "err", sendErr)
		return Result{}, &UnsentError{MessageID: rec.MessageID, ThreadID: rec.ThreadID, Err: sendErr}
	}

	messageID := "<" + sesID + "@" + s.messageIDDomain() + ">"
	final := ses.ReplaceMessageID(raw, messageID)
	msg := s.message(p, final, messageID, now, wire.LabelSent)
	st, _ := delivery.Apply(delivery.New(p.envelope), delivery.Notification{Kind: delivery.KindSend, Timestamp: now})
	// The mail is gone: record it even if the caller has given up waiting.
	rec, _, err := s.recordSent(context.WithoutCancel(ctx), store.Outbound{
		Inbox: inbox, Message: msg.Message, Attachments: msg.Attachments, Raw: final, SESMessageID: sesID,
		Delivery: st, Recipients: p.envelope, IdempotencyKey: req.IdempotencyKey, IdempotencyFingerprint: req.Fingerprint,
	})
	if err != nil {
		// The idempotency claim stays pending (for its timeout), so a retry cannot send twice.
		s.log().ErrorContext(ctx, "outbound: sent but not recorded", "inbox", inbox.InboxID, "ses_message_id", sesID, "err", err)
		return Result{}, fmt.Errorf("outbound: message %s was sent but could not be recorded: %v", messageID, err)
	}
	if dryRun {
		// No SES will report on this message: settle its outcome now, before answering.
		if err := s.DryRun.Settle(context.WithoutCancel(ctx), sesID, input); err != nil {
			s.log().ErrorContext(ctx, "outbound: dry run not settled", "inbox", inbox.InboxID, "message_id", rec.MessageID, "err", err)
		}
	}
	return Result{MessageID: rec.MessageID, ThreadID: rec.ThreadID}, nil
}

// recordAttempts is how often a message SES took is written before the send gives up on
// recording it (the mail is gone: a lost record is a lost message).
const recordAttempts = 3

// recordSent records a message SES took, trying again when the store fails: RecordOutbound
// is idempotent (deterministic object keys; a transaction that took effect makes the next
// attempt find the message and answer it).
func (s *Service) recordSent(ctx context.Context, o store.Outbound) (wire.Message, wire.ThreadItem, error) {
	var err error
	for attempt := range recordAttempts {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
		}
		var msg wire.Message
		var th wire.ThreadItem
		if msg, th, err = s.Store.RecordOutbound(ctx, o); err == nil || errors.Is(err, store.ErrNotFound) {
			return msg, th, err
		}
	}
	return wire.Message{}, wire.ThreadItem{}, err
}

// recordUnsettled records a message whose send had an unknown outcome (ses.OutcomeUnknown):
// SES may have taken it. It is kept as sending under its composed Message-ID, with its send
// tag, and the Idempotency-Key is completed with it, so that a retry answers it instead of
// sending again; SES's first notification about it settles it (store.LinkSES).
func (s *Service) recordUnsettled(ctx context.Context, inbox store.InboxRecord, p *plan, raw []byte, now time.Time, req Request, sendErr error) (Result, error) {
	msg := s.message(p, raw, p.out.MessageID, now, wire.LabelSent)
	st := delivery.New(p.envelope)
	st.Status = delivery.Sending
	for i := range st.Recipients {
		st.Recipients[i].Status = delivery.Sending
	}
	rec, _, err := s.recordSent(context.WithoutCancel(ctx), store.Outbound{
		Inbox: inbox, Message: msg.Message, Attachments: msg.Attachments, Raw: raw, Delivery: st,
		Recipients: p.envelope, IdempotencyKey: req.IdempotencyKey, IdempotencyFingerprint: req.Fingerprint,
		SendTag: sendTag(p.out.MessageID),
	})
	if err != nil {
		return Result{}, errors.Join(sendErr, err)
	}
	s.log().WarnContext(ctx, "outbound: SES outcome unknown; kept as sending until SES reports", "inbox", inbox.InboxID, "message_id", rec.MessageID, "err", sendErr)
	return Result{MessageID: rec.MessageID, ThreadID: rec.ThreadID}, nil
}

// sendTag is the value of a send's store.SendTagName tag: the random part of the Message-ID
// it was composed with (hex, in SES's tag alphabet).
func sendTag(composedID string) string {
	id := strings.TrimPrefix(composedID, "<")
	local, _, _ := strings.Cut(id, "@")
	return local
}

// isNotConnected reports whether SES surely did not get the request: the connection could
// not be opened.
func isNotConnected(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// dryRun reports whether req is a dry run: its Delivery, else the inbox's, is dry-run.
func (s *Service) dryRun(inbox store.InboxRecord, req Request) (bool, error) {
	mode := req.Delivery
	if mode == "" {
		mode = inbox.Delivery
	}
	switch mode {
	case "", wire.DeliveryEmail:
		return false, nil
	case wire.DeliveryDryRun:
		if s.DryRun == nil {
			return false, invalid("delivery", "this deployment does not do dry runs")
		}
		return true, nil
	}
	return false, invalid("delivery", "delivery must be %q or %q", wire.DeliveryEmail, wire.DeliveryDryRun)
}

// sentMessage is the message to record and its attachments' contents.
type sentMessage struct {
	Message     wire.Message
	Attachments []mail.Attachment
}

// message is the record of a sent (or failed) message: the mail as recipients got it, read
// back with the parser that reads received mail (so both sides of a conversation show the
// same fields), with the envelope's Bcc, the send time and the labels.
func (s *Service) message(p *plan, raw []byte, messageID string, now time.Time, lifecycle string) sentMessage {
	parsed := mail.Parse(raw, now)
	labels := append([]string{lifecycle}, p.labels...)
	m := wire.Message{
		MessageID: messageID, Labels: labels, Timestamp: now,
		From: parsed.From, ReplyTo: parsed.ReplyTo, To: wire.NonNil(parsed.To), Cc: parsed.Cc, Bcc: p.out.Bcc,
		Subject: parsed.Subject, Preview: parsed.Preview,
		Text: parsed.Text, HTML: parsed.HTML, ExtractedText: parsed.ExtractedText, ExtractedHTML: parsed.ExtractedHTML,
		InReplyTo: parsed.InReplyTo, References: parsed.References, Headers: parsed.Headers,
		Size: int64(len(raw)), UpdatedAt: now, CreatedAt: now,
	}
	for _, a := range parsed.Attachments {
		m.Attachments = append(m.Attachments, a.Attachment)
	}
	return sentMessage{Message: m, Attachments: parsed.Attachments}
}

// checkSendLists asks the send lists about every recipient, in parallel (one read each).
func (s *Service) checkSendLists(ctx context.Context, inbox store.InboxRecord, rcpts []string) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(10)
	blocked := make([]*BlockedError, len(rcpts))
	for i, r := range rcpts {
		g.Go(func() error {
			d, err := s.Store.CheckList(gctx, inbox.OrgID, inbox.PodID, inbox.InboxID, wire.ListDirectionSend, r)
			if err != nil {
				return err
			}
			if !d.Allowed {
				blocked[i] = &BlockedError{Address: r}
				if d.Entry != nil {
					blocked[i].Entry, blocked[i].Reason = d.Entry.Entry, d.Entry.Reason
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, b := range blocked {
		if b != nil {
			return b
		}
	}
	return nil
}

// newPigeonMessageID is the Message-ID a message is composed with; SES replaces it when it
// takes the message, and a failed message keeps it.
func newPigeonMessageID(inbox string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	domain := inbox[strings.LastIndexByte(inbox, '@')+1:]
	return "<" + hex.EncodeToString(b[:]) + "@" + domain + ">"
}

func (s *Service) messageIDDomain() string {
	if s.MessageIDDomain != "" {
		return s.MessageIDDomain
	}
	return ses.MessageIDDomain(s.Sender.Client.Options().Region)
}

func (s *Service) httpClient() *http.Client {
	if s.HTTPClient != nil {
		return s.HTTPClient
	}
	s.clientOnce.Do(func() { s.client = newFetchClient(s.Deployed) })
	return s.client
}

func (s *Service) fetchTimeout() time.Duration {
	if s.FetchTimeout > 0 {
		return s.FetchTimeout
	}
	return FetchTimeout
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}
