// Package sesevents is the SES side of the delivery lifecycle. Handler takes the SES event
// notifications that SNS delivers from the configuration set (the sesevents function) and
// applies each to the message it concerns (store.ApplyDeliveryNotification). Simulate writes
// the notifications SES would publish for a send, by the rules of SES's mailbox simulator, for
// the two senders that have no SES behind them: dry-run sends (DryRun) and the local stack's
// SES emulator. Both go through Handler, so simulated and real outcomes take the same path.
package sesevents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pigeon-mail/pigeon/shared/delivery"
	"github.com/pigeon-mail/pigeon/shared/store"
)

// InboxTag is the SES message tag the send path puts on every message (package outbound), so
// its notifications say that Pigeon sent it: mail.tags.pigeon_inbox.
const InboxTag = "pigeon_inbox"

// RecordGrace is how long after SES accepted a Pigeon message a notification may find no
// record of it: SES can publish Send, and even Delivery, before the send path has stored the
// message (it records right after SendEmail returns, within the API's 29 s). Within it Handler
// fails, so that the invocation is retried (Lambda retries about 1 and 3 minutes later, and
// the first retry finds the message); after it, or for mail without InboxTag, the
// notification is skipped. It is short so that a message deleted right after it was sent
// (its SES-id item goes with it) is skipped by the last retry rather than dead-lettered.
const RecordGrace = 2 * time.Minute

// Handler applies SES event notifications to sent messages.
type Handler struct {
	Store *store.Store
	Now   func() time.Time // time.Now when nil
	Log   *slog.Logger     // slog.Default() when nil
}

// HandleSNS handles an SNS-to-Lambda event of the configuration set's topic, one SES event
// per record. Events that are not about delivery (Open, Click, …), malformed records and mail
// Pigeon did not send are logged and skipped. It fails — and Lambda retries the whole event,
// which is safe because applying a notification twice changes nothing — only when the store
// fails, or when a recent Pigeon message is not recorded yet (RecordGrace).
func (h *Handler) HandleSNS(ctx context.Context, ev events.SNSEvent) error {
	var errs []error
	for _, rec := range ev.Records {
		if err := h.Handle(ctx, []byte(rec.SNS.Message), rec.SNS.MessageID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Handle applies one SES event record (an SNS message body); snsMessageID is the dedupe key
// of events that carry no feedbackId.
func (h *Handler) Handle(ctx context.Context, body []byte, snsMessageID string) error {
	log := h.log().With("sns_message_id", snsMessageID)
	sesID, n, err := delivery.ParseSESEvent(body, snsMessageID)
	switch {
	case errors.Is(err, delivery.ErrNotLifecycle):
		log.DebugContext(ctx, "sesevents: not a lifecycle event; skipped", "ses_message_id", sesID)
		return nil
	case err != nil:
		log.ErrorContext(ctx, "sesevents: unreadable SES event; skipped", "err", err)
		return nil
	}
	log = log.With("ses_message_id", sesID, "event_type", string(n.Kind))
	changed, err := h.Store.ApplyDeliveryNotification(ctx, sesID, n)
	if tag := mailOf(body).Tags[store.SendTagName]; errors.Is(err, store.ErrNotFound) && len(tag) > 0 {
		// A send whose outcome was unknown to the send path: this notification settles it.
		if linkErr := h.Store.LinkSES(ctx, tag[0], sesID); linkErr == nil {
			log.InfoContext(ctx, "sesevents: SES id linked to a message whose send outcome was unknown")
			changed, err = h.Store.ApplyDeliveryNotification(ctx, sesID, n)
		} else if !errors.Is(linkErr, store.ErrNotFound) {
			return fmt.Errorf("sesevents: %s of SES message %s: %w", n.Kind, sesID, linkErr)
		}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		if mail := mailOf(body); mail.pigeon() && h.now().Sub(mail.Timestamp) < RecordGrace {
			return fmt.Errorf("sesevents: %s of SES message %s: the message is not recorded yet: %w", n.Kind, sesID, err)
		}
		log.InfoContext(ctx, "sesevents: no message sent by Pigeon has this SES id; skipped")
		return nil
	case err != nil:
		return fmt.Errorf("sesevents: %s of SES message %s: %w", n.Kind, sesID, err)
	}
	log.InfoContext(ctx, "sesevents: applied", "changed", changed)
	return nil
}

// eventMail is the part of an event's mail object Handle needs beyond ParseSESEvent.
type eventMail struct {
	Timestamp time.Time           `json:"timestamp"`
	Tags      map[string][]string `json:"tags"`
}

func mailOf(body []byte) eventMail {
	var ev struct {
		Mail eventMail `json:"mail"`
	}
	_ = json.Unmarshal(body, &ev) // ParseSESEvent has read it already
	return ev.Mail
}

func (m eventMail) pigeon() bool { return len(m.Tags[InboxTag]) > 0 }

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}
