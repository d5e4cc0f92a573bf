package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/pigeon-mail/pigeon/shared/mail"
	"github.com/pigeon-mail/pigeon/shared/thread"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Delivery is one inbound message for one inbox.
type Delivery struct {
	Inbox      InboxRecord
	SourceKey  string        // S3 key of the raw mail; with the inbox, the delivery's idempotency key
	Parsed     *mail.Message // the raw mail parsed
	Labels     []string      // added to received and unread (e.g. spam)
	Verdicts   Verdicts
	EventType  string // wire.EventMessageReceived (default) or one of its .spam/.blocked/.unauthenticated variants
	ReceivedAt time.Time
}

// deliveryAttempts bounds the retries of a delivery that loses a race on its thread.
const deliveryAttempts = 6

// markerItem records that a raw object was delivered to an inbox (sk SRC#<object key>).
type markerItem struct {
	keys
	MessageID string    `json:"message_id"`
	ThreadID  string    `json:"thread_id"`
	CreatedAt time.Time `json:"created_at"`
}

// midItem maps a canonical Message-ID of the inbox to its message and thread. Fingerprint is
// the received mail's mail.Message.Fingerprint; empty for sent messages.
type midItem struct {
	keys
	MessageID   string `json:"message_id"`
	ThreadID    string `json:"thread_id"`
	Fingerprint string `json:"fingerprint,omitempty"`
}

// DeliverInbound stores a received message in d.Inbox: the message, its thread (new or
// updated), its Message-ID index entry, the delivery marker and a message.received* event,
// in one transaction. Attachments and large bodies are written to S3 first, under keys
// derived from the inbox, the message id and the mail's fingerprint, so a retry overwrites
// rather than duplicates.
//
// It is idempotent on (d.SourceKey, inbox): delivering the same object again returns the
// message stored the first time with created=false and emits no event. A copy of a mail the
// inbox already holds, from another object (a sender's retry, or the mail arriving both
// directly and through a forwarder), is also reported as delivered, created=false, with no new
// message and no event: a copy has the Message-ID and the fingerprint of the mail held (see
// identify). A different mail that reuses a Message-ID is a message of its own, and so is a
// mail without a Message-ID; both are stored under derivedMessageID.
//
// Concurrent deliveries to the same thread are serialised by a version check on the thread
// item; the loser recomputes the thread and retries (ErrConflict after a few attempts).
// ErrNotFound: the inbox no longer exists (or is being deleted).
func (s *Store) DeliverInbound(ctx context.Context, d Delivery) (wire.Message, wire.ThreadItem, bool, error) {
	if d.Parsed == nil || d.SourceKey == "" || d.Inbox.InboxID == "" {
		return wire.Message{}, wire.ThreadItem{}, false, errors.New("store: delivery needs an inbox, a source key and a parsed message")
	}
	inbox := d.Inbox.InboxID
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = s.now()
	}
	if msg, th, ok, err := s.delivered(ctx, inbox, d.SourceKey); err != nil || ok {
		return msg, th, false, err
	}
	// A message id lost to a concurrent delivery of another mail is decided again: the second
	// round finds that mail in the index and takes the derived id (or finds this mail's copy).
	for range identifyAttempts {
		msgID, held, err := s.identify(ctx, inbox, d)
		if err != nil {
			return wire.Message{}, wire.ThreadItem{}, false, err
		}
		if held {
			msg, th, ok, err := s.existing(ctx, inbox, msgID)
			if err != nil || ok {
				return msg, th, false, err
			}
			// the index named a message that is gone: store the mail under that id again
		}
		msg, th, created, err := s.deliverAs(ctx, d, msgID)
		if errors.Is(err, errMessageIDTaken) {
			continue
		}
		return msg, th, created, err
	}
	return wire.Message{}, wire.ThreadItem{}, false, fmt.Errorf("store: deliver %s to %s: message id: %w", d.SourceKey, inbox, ErrConflict)
}

// identifyAttempts bounds the rounds of identify for one delivery: a race for a Message-ID
// settles in two.
const identifyAttempts = 3

// errMessageIDTaken: another delivery stored a message under the id between identify and
// the transaction.
var errMessageIDTaken = errors.New("store: message id taken")

// identify decides which message of the inbox an arriving mail is. When the inbox holds a copy
// of it, that message's id with held=true; otherwise the id to store it under: its Message-ID
// as written when the inbox has no message with that Message-ID, else derivedMessageID.
//
// A message found through the Message-ID index is a copy when its fingerprint equals the
// mail's, or when it has none: a message the inbox sent (its own copy coming back is not a new
// mail), or one indexed before fingerprints were recorded.
func (s *Store) identify(ctx context.Context, inbox string, d Delivery) (string, bool, error) {
	written := strings.TrimSpace(d.Parsed.MessageID)
	if written != "" && len(written) <= maxMessageIDLength {
		mid, found, err := s.messageIDIndex(ctx, inbox, written)
		switch {
		case err != nil:
			return "", false, err
		case !found:
			return written, false, nil
		case mid.Fingerprint == "" || mid.Fingerprint == d.Parsed.Fingerprint:
			return mid.MessageID, true, nil
		}
	}
	derived := derivedMessageID(d)
	mid, found, err := s.messageIDIndex(ctx, inbox, derived)
	if err != nil || !found {
		return derived, false, err
	}
	return mid.MessageID, true, nil
}

// messageIDIndex reads the MID# item of a Message-ID in the inbox.
func (s *Store) messageIDIndex(ctx context.Context, inbox, messageID string) (midItem, bool, error) {
	var mid midItem
	switch err := s.getItem(ctx, inboxPK(inbox), midSK(canonicalID(messageID)), &mid); {
	case errors.Is(err, ErrNotFound):
		return midItem{}, false, nil
	case err != nil:
		return midItem{}, false, err
	}
	return mid, true, nil
}

// deliverAs stores d as the new message msgID: its blobs, then the delivery transaction,
// retried while it loses races on the thread. errMessageIDTaken when a message msgID appeared
// meanwhile.
func (s *Store) deliverAs(ctx context.Context, d Delivery, msgID string) (wire.Message, wire.ThreadItem, bool, error) {
	inbox := d.Inbox.InboxID
	msg := inboundMessage(d, msgID)
	threadID, err := thread.Find(ctx, s.threadLookup(inbox), msg.InReplyTo, msg.References)
	if err != nil {
		return wire.Message{}, wire.ThreadItem{}, false, err
	}
	// Blob keys name the fingerprint too: two different mails racing for one Message-ID each
	// write their own objects, and the loser's never replace the winner's.
	blobName := msgID + " " + d.Parsed.Fingerprint
	attKeys, err := s.putAttachments(ctx, inbox, blobName, d.Parsed.Attachments, msg.Attachments)
	if err != nil {
		return wire.Message{}, wire.ThreadItem{}, false, err
	}
	item := messageItem{MessageRecord: MessageRecord{
		OrgID: d.Inbox.OrgID, PodID: d.Inbox.PodID, RawKey: d.SourceKey, AttachmentKeys: attKeys, Verdicts: d.Verdicts,
	}, Fingerprint: d.Parsed.Fingerprint}
	if b := bodiesOf(&msg); b.size() > InlineBodyLimit {
		data, err := json.Marshal(b)
		if err != nil {
			return wire.Message{}, wire.ThreadItem{}, false, fmt.Errorf("store: encode bodies: %w", err)
		}
		item.BodyKey = bodyObjectKey(inbox, blobName)
		if err := s.blobs.Put(ctx, item.BodyKey, "application/json", data); err != nil {
			return wire.Message{}, wire.ThreadItem{}, false, err
		}
	}
	eventType := d.EventType
	if eventType == "" {
		eventType = wire.EventMessageReceived
	}

	for attempt := range deliveryAttempts {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return wire.Message{}, wire.ThreadItem{}, false, err
			}
		}
		var prev *threadItem
		if threadID != "" {
			var it threadItem
			switch err := s.getItem(ctx, threadPK(threadID), skThread, &it); {
			case err == nil:
				prev = &it
			case errors.Is(err, ErrNotFound):
				// the thread named by the index is gone (inbox being swept); start a new one
			default:
				return wire.Message{}, wire.ThreadItem{}, false, err
			}
		}
		if prev == nil {
			threadID = thread.NewID()
		}
		msg.ThreadID = threadID
		th, tx, pos, err := s.deliveryTransaction(d, msg, item, prev, eventType)
		if err != nil {
			return wire.Message{}, wire.ThreadItem{}, false, err
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
		reasons := cancelReasons(err)
		switch {
		case err == nil:
			return msg, th.ThreadItem, true, nil
		case conditionFailed(reasons, pos.marker):
			msg, th, _, err := s.delivered(ctx, inbox, d.SourceKey)
			return msg, th, false, err
		case conditionFailed(reasons, pos.message):
			return wire.Message{}, wire.ThreadItem{}, false, errMessageIDTaken
		case conditionFailed(reasons, pos.inbox):
			return wire.Message{}, wire.ThreadItem{}, false, fmt.Errorf("inbox %s: %w", inbox, ErrNotFound)
		case conditionFailed(reasons, pos.thread), isTransactionConflict(reasons):
			continue
		default:
			return wire.Message{}, wire.ThreadItem{}, false, fmt.Errorf("store: deliver %s to %s: %w", d.SourceKey, inbox, err)
		}
	}
	return wire.Message{}, wire.ThreadItem{}, false, fmt.Errorf("store: deliver %s to %s: thread %s: %w", d.SourceKey, inbox, threadID, ErrConflict)
}

// deliveryPositions are where the conditional actions of a delivery transaction stand.
type deliveryPositions struct {
	marker int
	messagePositions
}

// deliveryTransaction is the one transaction of an inbound delivery: the delivery marker
// (idempotency on (object key, inbox)), the message with its thread, inbox check and
// Message-ID index (addMessage), and the event item.
func (s *Store) deliveryTransaction(d Delivery, msg wire.Message, item messageItem, prev *threadItem, eventType string) (threadItem, []types.TransactWriteItem, deliveryPositions, error) {
	now := wire.UTC(d.ReceivedAt)
	inbox := d.Inbox.InboxID
	b := &txBuilder{table: s.table}
	var pos deliveryPositions
	marker := markerItem{keys: keys{PK: inboxPK(inbox), SK: sourceSK(sourceKeyPart(d.SourceKey))}, MessageID: msg.MessageID, ThreadID: msg.ThreadID, CreatedAt: now}
	var err error
	if pos.marker, err = b.put(marker, "attribute_not_exists(pk)", nil); err != nil {
		return threadItem{}, nil, pos, err
	}
	th, mpos, err := b.addMessage(d.Inbox, msg, item, prev, now)
	if err != nil {
		return th, nil, pos, err
	}
	pos.messagePositions = mpos
	evMsg := eventMessage(msg)
	ev, err := s.eventPut(
		EventRecord{OrgID: d.Inbox.OrgID, PodID: d.Inbox.PodID, InboxID: inbox, CreatedAt: wire.UTC(s.now())},
		wire.Event{Type: wire.EventTypeEvent, EventType: eventType, EventID: NewEventID(), Message: &evMsg, Thread: &th.ThreadItem},
	)
	if err != nil {
		return th, nil, pos, err
	}
	b.add(ev)
	return th, b.tx, pos, nil
}

// isTransactionConflict reports a cancellation caused by another transaction on the same
// items (worth retrying).
func isTransactionConflict(reasons []string) bool {
	return slices.Contains(reasons, "TransactionConflict")
}

// eventMessage is the message as the event carries it: whole when its bodies are inline;
// otherwise the bodies that fit InlineBodyLimit, in the order agents need them
// (extracted_text, text, extracted_html, html), so the event item stays below 400 KB.
func eventMessage(m wire.Message) wire.Message {
	if bodiesOf(&m).size() <= InlineBodyLimit {
		return m
	}
	budget := InlineBodyLimit
	for _, f := range []*string{&m.ExtractedText, &m.Text, &m.ExtractedHTML, &m.HTML} {
		if len(*f) > budget {
			*f = ""
		}
		budget -= len(*f)
	}
	return m
}

// delivered returns the message an earlier delivery of sourceKey stored in the inbox.
func (s *Store) delivered(ctx context.Context, inbox, sourceKey string) (wire.Message, wire.ThreadItem, bool, error) {
	var m markerItem
	switch err := s.getItem(ctx, inboxPK(inbox), sourceSK(sourceKeyPart(sourceKey)), &m); {
	case errors.Is(err, ErrNotFound):
		return wire.Message{}, wire.ThreadItem{}, false, nil
	case err != nil:
		return wire.Message{}, wire.ThreadItem{}, false, err
	}
	return s.existing(ctx, inbox, m.MessageID)
}

// existing returns a stored message of the inbox and its thread; ok=false when there is none.
func (s *Store) existing(ctx context.Context, inbox, messageID string) (wire.Message, wire.ThreadItem, bool, error) {
	rec, err := s.GetMessage(ctx, inbox, messageID)
	if errors.Is(err, ErrNotFound) {
		return wire.Message{}, wire.ThreadItem{}, false, nil
	}
	if err != nil {
		return wire.Message{}, wire.ThreadItem{}, false, err
	}
	th, err := s.GetThread(ctx, rec.ThreadID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return wire.Message{}, wire.ThreadItem{}, false, err
	}
	return rec.Message, th.ThreadItem, true, nil
}

// threadLookup finds threads of the inbox by canonical Message-ID through the MID# items.
func (s *Store) threadLookup(inbox string) thread.Lookup {
	return func(ctx context.Context, ids []string) (map[string]string, error) {
		found := map[string]string{}
		pending := make([]map[string]types.AttributeValue, 0, len(ids))
		for _, id := range ids {
			if len(id) <= maxKeyPartBytes {
				pending = append(pending, key(inboxPK(inbox), midSK(id)))
			}
		}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 0 {
				if err := sleep(ctx, backoff(attempt)); err != nil {
					return nil, err
				}
			}
			n := min(100, len(pending))
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				s.table: {Keys: pending[:n], ConsistentRead: aws.Bool(true)},
			}})
			if err != nil {
				return nil, fmt.Errorf("store: thread lookup in %s: %w", inbox, err)
			}
			pending = append(pending[n:], out.UnprocessedKeys[s.table].Keys...)
			for _, av := range out.Responses[s.table] {
				var it midItem
				if err := unmarshal(av, &it); err != nil {
					return nil, err
				}
				found[strings.TrimPrefix(it.SK, "MID#")] = it.ThreadID
			}
		}
		return found, nil
	}
}

// putAttachments writes each attachment's content to S3 (at most four at a time) and returns
// attachment_id → key.
func (s *Store) putAttachments(ctx context.Context, inbox, msgID string, parsed []mail.Attachment, described []wire.Attachment) (map[string]string, error) {
	if len(described) == 0 {
		return nil, nil
	}
	keys := make(map[string]string, len(described))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i, a := range described {
		k := attachmentObjectKey(inbox, msgID, a.AttachmentID)
		keys[a.AttachmentID] = k
		content := parsed[i].Content
		g.Go(func() error { return s.blobs.Put(gctx, k, a.ContentType, content) })
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("store: attachments of %s: %w", msgID, err)
	}
	return keys, nil
}

// inboundMessage is the wire message for d, before its thread is known.
func inboundMessage(d Delivery, msgID string) wire.Message {
	p := d.Parsed
	now := wire.UTC(d.ReceivedAt)
	ts := p.Timestamp
	if ts.IsZero() {
		ts = now
	}
	labels := []string{wire.LabelReceived, wire.LabelUnread}
	for _, l := range d.Labels {
		if l = strings.ToLower(strings.TrimSpace(l)); l != "" && !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	m := wire.Message{
		InboxID: d.Inbox.InboxID, MessageID: msgID, Labels: labels, Timestamp: wire.UTC(ts),
		From: p.From, ReplyTo: p.ReplyTo, To: wire.NonNil(slices.Clone(p.To)), Cc: p.Cc, Bcc: p.Bcc,
		Subject: p.Subject, Preview: p.Preview,
		Text: p.Text, HTML: p.HTML, ExtractedText: p.ExtractedText, ExtractedHTML: p.ExtractedHTML,
		InReplyTo: p.InReplyTo, References: slices.Clone(p.References), Headers: p.Headers,
		Size: p.Size, UpdatedAt: now, CreatedAt: now,
	}
	seen := map[string]bool{}
	for i, a := range p.Attachments {
		wa := a.Attachment
		if wa.AttachmentID == "" || seen[wa.AttachmentID] || strings.ContainsAny(wa.AttachmentID, "/\\") {
			wa.AttachmentID = "att_" + strconv.Itoa(i)
		}
		seen[wa.AttachmentID] = true
		if wa.Size == 0 {
			wa.Size = int64(len(a.Content))
		}
		m.Attachments = append(m.Attachments, wa)
	}
	capMessage(&m)
	return m
}

// derivedMessageID is the message_id of a mail stored under an id of its own (one without a
// usable Message-ID, or whose Message-ID the inbox holds for a different mail):
// <h@pigeon.invalid>, h the first 32 hex digits of the mail's fingerprint, so that every copy
// of the mail gets the same id. A message parsed without a fingerprint takes h from the hash
// of its object key instead.
func derivedMessageID(d Delivery) string {
	h, ok := strings.CutPrefix(d.Parsed.Fingerprint, "sha256:")
	if !ok || len(h) < 32 {
		sum := sha256.Sum256([]byte(d.SourceKey))
		h = hex.EncodeToString(sum[:])
	}
	return "<" + h[:32] + "@pigeon.invalid>"
}

// canonicalID is the MID# form of a message id (the id itself when it does not parse).
func canonicalID(id string) string {
	if c := mail.CanonicalMessageID(id); c != "" {
		return c
	}
	return id
}

// sourceKeyPart is the object key as used in the SRC# sort key: the key itself, or its hash
// when too long for a sort key.
func sourceKeyPart(k string) string {
	if len(k) <= maxKeyPartBytes {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return "sha256:" + hex.EncodeToString(sum[:])
}
