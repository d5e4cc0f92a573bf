package inbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pigeon-mail/pigeon/shared/mail"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// MaxHeaderRecipients bounds the inbox lookups for mail without an envelope (imports): SES
// accepts at most 50 recipients per message.
const MaxHeaderRecipients = 50

// Receipt is one stored raw message to deliver.
type Receipt struct {
	Key        string         // S3 object key of the raw mail
	Recipients []string       // envelope recipients; empty = take them from the headers
	Verdicts   store.Verdicts // SES's verdicts; zero for imports
	ReceivedAt time.Time      // zero = now
}

// Receive reads the raw mail under r.Key and delivers it to each Pigeon inbox among its
// recipients. It fails only when the work must be retried: the object cannot be read, or a
// delivery failed.
func (h *Handler) Receive(ctx context.Context, r Receipt) error {
	log := h.log().With("key", r.Key)
	if strings.HasSuffix(r.Key, SetupNotificationKey) {
		log.Info("inbound: SES setup notification skipped")
		return nil
	}
	if r.ReceivedAt.IsZero() {
		r.ReceivedAt = h.now()
	}
	parsed, err := h.read(ctx, r.Key, r.ReceivedAt)
	if err != nil {
		return err
	}
	parsed.Timestamp = arrivalTime(parsed.Timestamp, r.ReceivedAt)
	if len(parsed.Problems) > 0 {
		log.Info("inbound: mail parsed with problems", "problems", parsed.Problems)
	}
	recipients := r.Recipients
	if len(recipients) == 0 {
		recipients = h.headerRecipients(parsed)
	}
	labels, eventType := classify(r.Verdicts)

	var delivered, duplicate, unknown int
	var errs []error
	for _, addr := range distinct(recipients) {
		in, err := h.Store.GetInbox(ctx, addr)
		if errors.Is(err, store.ErrNotFound) {
			unknown++
			log.Info("inbound: recipient is no Pigeon inbox", "recipient", addr)
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("inbox %s: %w", addr, err))
			continue
		}
		inboxLabels, inboxEvent, err := h.applyReceiveList(ctx, in, parsed.From, labels, eventType)
		if err != nil {
			errs = append(errs, fmt.Errorf("receive list for %s: %w", addr, err))
			continue
		}
		msg, _, created, err := h.Store.DeliverInbound(ctx, store.Delivery{
			Inbox: in, SourceKey: r.Key, Parsed: parsed, Labels: inboxLabels,
			Verdicts: r.Verdicts, EventType: inboxEvent, ReceivedAt: r.ReceivedAt,
		})
		switch {
		case errors.Is(err, store.ErrNotFound):
			unknown++
			log.Info("inbound: inbox deleted during delivery", "recipient", addr)
		case err != nil:
			errs = append(errs, fmt.Errorf("deliver %s to %s: %w", r.Key, addr, err))
		case created:
			delivered++
			log.Debug("inbound: delivered", "inbox", addr, "message_id", msg.MessageID, "thread_id", msg.ThreadID)
		default:
			duplicate++
		}
	}
	log.Info("inbound: mail processed", "delivered", delivered, "duplicate", duplicate, "unknown_recipients", unknown,
		"failed", len(errs), "event_type", eventType)
	return errors.Join(errs...)
}

// read fetches and parses the raw mail; beyond MaxInboundBytes only its header block.
func (h *Handler) read(ctx context.Context, key string, receivedAt time.Time) (*mail.Message, error) {
	if limit := h.Config.MaxInboundBytes; limit > 0 {
		size, err := h.Blobs.Size(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("raw mail %s: %w", key, err)
		}
		if size > limit {
			head, err := h.Blobs.GetRange(ctx, key, 0, headerReadBytes)
			if err != nil {
				return nil, fmt.Errorf("raw mail %s: %w", key, err)
			}
			m := mail.Parse(headerBlock(head), receivedAt)
			m.Size = size
			m.Fingerprint = mail.HeaderOnlyFingerprint(m, size)
			m.Problems = append(m.Problems, fmt.Sprintf("message of %d bytes exceeds the %d-byte limit: header only", size, limit))
			return m, nil
		}
	}
	raw, err := h.Blobs.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("raw mail %s: %w", key, err)
	}
	return mail.Parse(raw, receivedAt), nil
}

// headerReadBytes is how much of an oversized message is read to find its header block.
const headerReadBytes = 256 << 10

// headerBlock returns the header of raw mail up to and including the blank line that ends it
// (all of b when no blank line is found).
func headerBlock(b []byte) []byte {
	for _, sep := range [][]byte{[]byte("\r\n\r\n"), []byte("\n\n")} {
		if i := bytes.Index(b, sep); i >= 0 {
			return b[:i+len(sep)]
		}
	}
	return b
}

// headerRecipients are the recipients of mail without an envelope: To, Cc, Bcc and
// Delivered-To, addresses on the deployment's domains first, at most MaxHeaderRecipients.
func (h *Handler) headerRecipients(m *mail.Message) []string {
	var all []string
	all = append(all, m.To...)
	all = append(all, m.Cc...)
	all = append(all, m.Bcc...)
	for name, v := range m.Headers {
		if strings.EqualFold(name, "Delivered-To") || strings.EqualFold(name, "X-Original-To") {
			all = append(all, strings.Split(v, ",")...)
		}
	}
	var ours, others []string
	for _, a := range distinct(all) {
		if h.Config.OwnsDomain(a[strings.LastIndexByte(a, '@')+1:]) {
			ours = append(ours, a)
		} else {
			others = append(others, a)
		}
	}
	out := append(ours, others...)
	return out[:min(len(out), MaxHeaderRecipients)]
}

// distinct returns the lower-cased addr-specs of addresses, without duplicates, in order.
func distinct(addresses []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range addresses {
		addr := addrSpec(a)
		if addr == "" || seen[addr] {
			continue
		}
		seen[addr] = true
		out = append(out, addr)
	}
	return out
}

// addrSpec extracts the lower-cased address from "Name <a@b>", "<a@b>" or "a@b"; "" when
// there is none.
func addrSpec(a string) string {
	a = strings.TrimSpace(a)
	if i := strings.LastIndexByte(a, '<'); i >= 0 {
		a = a[i+1:]
		if j := strings.IndexByte(a, '>'); j >= 0 {
			a = a[:j]
		}
	}
	a = strings.ToLower(strings.TrimSpace(a))
	if strings.Count(a, "@") != 1 || strings.HasPrefix(a, "@") || strings.HasSuffix(a, "@") || strings.ContainsAny(a, " \t\r\n") {
		return ""
	}
	return a
}

// arrivalTime refines a message's timestamp. The Date header has whole seconds; when it agrees
// with the receipt time (Date at most maxDateLead before it), the receipt time is the same
// instant measured more precisely, and using it keeps a conversation in order when a reply
// arrives within the second of the message it answers (whose sent copy has milliseconds).
func arrivalTime(date, received time.Time) time.Time {
	if lead := received.Sub(date); lead >= 0 && lead < maxDateLead {
		return wire.UTC(received)
	}
	return date
}

// maxDateLead is how far a Date header may precede the receipt and still be taken as the
// same instant: under two seconds covers the header's rounding and the hop through SES.
const maxDateLead = 2 * time.Second
