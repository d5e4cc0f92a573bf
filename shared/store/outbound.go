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
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pigeon-mail/pigeon/shared/delivery"
	"github.com/pigeon-mail/pigeon/shared/mail"
	"github.com/pigeon-mail/pigeon/shared/thread"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Sent mail: the message an inbox sent (or could not send) with its thread, Message-ID index,
// SES-id lookup item, delivery lifecycle, message.sent event and idempotency record, written in
// one transaction by RecordOutbound; and the idempotency claims that keep a repeated
// Idempotency-Key from sending twice.

// IdempotencyTTL is how long an Idempotency-Key is remembered.
const IdempotencyTTL = 24 * time.Hour

// claimTimeout is how long a pending claim holds its key. A claim left pending longer belongs
// to a request that died between claiming and recording (a crashed or timed-out Lambda: the API
// is cut off after 29 s); a new request may then take the key over.
const claimTimeout = 5 * time.Minute

// ErrSendInProgress: another request with the same Idempotency-Key is being sent right now.
var ErrSendInProgress = errors.New("store: a send with this idempotency key is in progress")

// ErrIdempotencyKeyReused: the Idempotency-Key was first used for a different request (its
// fingerprint differs), so neither that request's result nor a new send is the right answer.
var ErrIdempotencyKeyReused = errors.New("store: the idempotency key was used for a different request")

func idempotencySK(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "IDEM#" + hex.EncodeToString(sum[:])
}

func sesPK(sesMessageID string) string { return "SES#" + sesMessageID }

const skSES = "SES"

// sentObjectKey is where the raw form of a sent message lives.
func sentObjectKey(inbox, messageID string) string {
	return "sent/" + inbox + "/" + objectHash(messageID) + ".eml"
}

// idempotencyItem records an Idempotency-Key of an inbox: pending while its send runs, done
// with the result once the message is recorded. Fingerprint is what the key is bound to: the
// caller's digest of the request that first used it (its route, target and body).
type idempotencyItem struct {
	keys
	State       string `json:"state"` // "pending" | "done"
	Fingerprint string `json:"fingerprint,omitempty"`
	ClaimedAt   int64  `json:"claimed_at"`
	MessageID   string `json:"message_id,omitempty"`
	ThreadID    string `json:"thread_id,omitempty"`
	TTL         int64  `json:"ttl"`
}

const (
	claimPending = "pending"
	claimDone    = "done"
)

// SendResult is what a send answers: the message and thread ids.
type SendResult struct {
	MessageID string
	ThreadID  string
}

// ClaimIdempotencyKey reserves key for one send from the inbox, before SES is called, bound
// to fingerprint (the request's digest). It returns ErrIdempotencyKeyReused when the key is
// held by a request with another fingerprint (pending or done), the recorded result when a
// send of this request already completed (the caller answers it again without sending),
// ErrSendInProgress when one is still running, and nil, nil when the key is now the caller's:
// it then either records the message with RecordOutbound (which completes the claim) or gives
// the key back with ReleaseIdempotencyKey.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, inboxID, key, fingerprint string) (*SendResult, error) {
	now := s.now()
	it := idempotencyItem{
		keys:  keys{PK: inboxPK(inboxID), SK: idempotencySK(key)},
		State: claimPending, Fingerprint: fingerprint, ClaimedAt: now.UnixMilli(), TTL: now.Add(IdempotencyTTL).Unix(),
	}
	av, err := marshal(it)
	if err != nil {
		return nil, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: av,
		ConditionExpression:      aws.String("attribute_not_exists(pk) OR #ttl < :now OR (#state = :pending AND claimed_at < :stale)"),
		ExpressionAttributeNames: map[string]string{"#ttl": attrTTL, "#state": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now":     &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
			":pending": strAV(claimPending),
			":stale":   &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(-claimTimeout).UnixMilli(), 10)},
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return nil, nil
	case !errors.As(err, &ccf):
		return nil, fmt.Errorf("store: claim idempotency key of %s: %w", inboxID, err)
	}
	var prev idempotencyItem
	if ccf.Item != nil {
		err = unmarshal(ccf.Item, &prev)
	} else {
		err = s.getItem(ctx, it.PK, it.SK, &prev)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return s.ClaimIdempotencyKey(ctx, inboxID, key, fingerprint) // released in between
	case err != nil:
		return nil, err
	case prev.Fingerprint != fingerprint:
		return nil, fmt.Errorf("inbox %s: %w", inboxID, ErrIdempotencyKeyReused)
	case prev.State == claimDone:
		return &SendResult{MessageID: prev.MessageID, ThreadID: prev.ThreadID}, nil
	}
	return nil, ErrSendInProgress
}

// ReleaseIdempotencyKey gives back a pending claim whose send did not happen (SES throttled or
// rejected the message, or SES failed and the message was recorded as failed), so that the
// request can be retried with the same key.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, inboxID, idempotencyKey string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: key(inboxPK(inboxID), idempotencySK(idempotencyKey)),
		ConditionExpression:       aws.String("#state = :pending"),
		ExpressionAttributeNames:  map[string]string{"#state": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pending": strAV(claimPending)},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("store: release idempotency key of %s: %w", inboxID, err)
	}
	return nil
}

// Outbound is a message an inbox sent, or tried to send, as RecordOutbound stores it.
type Outbound struct {
	Inbox InboxRecord
	// Message is complete but for ThreadID, which RecordOutbound finds from In-Reply-To and
	// References (a reply joins the thread of the message it answers).
	Message     wire.Message
	Attachments []mail.Attachment // the contents of Message.Attachments, in the same order
	Raw         []byte            // the mail as recipients got it (as composed when the send failed)
	// SESMessageID is SES's id of the message; "" when SES did not take it (Delivery then
	// says failed, and no message.sent event is written).
	SESMessageID   string
	Delivery       delivery.State
	Recipients     []string // the envelope recipients, for the message.sent event
	IdempotencyKey string   // when set, the claim on it is completed with the result
	// IdempotencyFingerprint is the request's digest the claim was made with, kept with the
	// result so that a repeat of another request with the key is still refused.
	IdempotencyFingerprint string
	// SendTag is the send's SendTagName tag when SES's outcome is unknown (SESMessageID ""):
	// a lookup item under it lets SES's first notification find the message (LinkSES).
	SendTag string
}

// sesItem maps an SES message id to the sent message, for delivery events (SES#<id>).
type sesItem struct {
	keys
	InboxID   string `json:"inbox_id"`
	MessageID string `json:"message_id"`
	ThreadID  string `json:"thread_id"`
	OrgID     string `json:"organization_id"`
	PodID     string `json:"pod_id"`
}

// SentRef locates a sent message from its SES message id.
type SentRef struct {
	InboxID, MessageID, ThreadID, OrgID, PodID string
}

// FindSent returns the message SES knows as sesMessageID (ErrNotFound when Pigeon recorded
// no such send, or the message was deleted).
func (s *Store) FindSent(ctx context.Context, sesMessageID string) (SentRef, error) {
	var it sesItem
	if err := s.getItem(ctx, sesPK(sesMessageID), skSES, &it); err != nil {
		return SentRef{}, err
	}
	return SentRef{InboxID: it.InboxID, MessageID: it.MessageID, ThreadID: it.ThreadID, OrgID: it.OrgID, PodID: it.PodID}, nil
}

// RecordOutbound stores a sent (or failed) message: the raw mail at sent/<inbox>/<hash>.eml,
// attachments and large bodies in S3, then in ONE transaction the message item (labels,
// delivery lifecycle), its thread (new, or the one its In-Reply-To/References name, with
// sent_timestamp), the MID# index item so replies from outside join the thread, the SES#
// lookup item and the message.sent event (when SES took it), and the completed idempotency
// record (when o.IdempotencyKey is set). ErrNotFound: the inbox is gone.
func (s *Store) RecordOutbound(ctx context.Context, o Outbound) (wire.Message, wire.ThreadItem, error) {
	inbox := o.Inbox.InboxID
	msg := o.Message
	msg.InboxID, msg.Status = inbox, ""
	if msg.MessageID == "" || inbox == "" {
		return wire.Message{}, wire.ThreadItem{}, errors.New("store: an outbound message needs an inbox and a message id")
	}
	capMessage(&msg)
	item := messageItem{MessageRecord: MessageRecord{
		OrgID: o.Inbox.OrgID, PodID: o.Inbox.PodID, RawKey: sentObjectKey(inbox, msg.MessageID),
		SESMessageID: o.SESMessageID, Delivery: &o.Delivery,
	}}
	if err := s.blobs.Put(ctx, item.RawKey, "message/rfc822", o.Raw); err != nil {
		return wire.Message{}, wire.ThreadItem{}, err
	}
	var err error
	if item.AttachmentKeys, err = s.putAttachments(ctx, inbox, msg.MessageID, o.Attachments, msg.Attachments); err != nil {
		return wire.Message{}, wire.ThreadItem{}, err
	}
	if b := bodiesOf(&msg); b.size() > InlineBodyLimit {
		data, err := json.Marshal(b)
		if err != nil {
			return wire.Message{}, wire.ThreadItem{}, fmt.Errorf("store: encode bodies: %w", err)
		}
		item.BodyKey = bodyObjectKey(inbox, msg.MessageID)
		if err := s.blobs.Put(ctx, item.BodyKey, "application/json", data); err != nil {
			return wire.Message{}, wire.ThreadItem{}, err
		}
	}
	threadID, err := thread.Find(ctx, s.threadLookup(inbox), msg.InReplyTo, msg.References)
	if err != nil {
		return wire.Message{}, wire.ThreadItem{}, err
	}
	for attempt := range deliveryAttempts {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return wire.Message{}, wire.ThreadItem{}, err
			}
		}
		var prev *threadItem
		if threadID != "" {
			var it threadItem
			switch err := s.getItem(ctx, threadPK(threadID), skThread, &it); {
			case err == nil:
				prev = &it
			case !errors.Is(err, ErrNotFound):
				return wire.Message{}, wire.ThreadItem{}, err
			}
		}
		if prev == nil {
			threadID = thread.NewID()
		}
		msg.ThreadID = threadID
		th, tx, pos, err := s.outboundTransaction(o, msg, item, prev)
		if err != nil {
			return wire.Message{}, wire.ThreadItem{}, err
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
		reasons := cancelReasons(err)
		switch {
		case err == nil:
			msg.Status = string(o.Delivery.Status)
			return msg, th.ThreadItem, nil
		case conditionFailed(reasons, pos.inbox):
			return wire.Message{}, wire.ThreadItem{}, fmt.Errorf("inbox %s: %w", inbox, ErrNotFound)
		case conditionFailed(reasons, pos.message):
			return s.recordSelfDelivered(ctx, o, msg)
		case conditionFailed(reasons, pos.thread), isTransactionConflict(reasons):
			continue
		default:
			return wire.Message{}, wire.ThreadItem{}, fmt.Errorf("store: record sent message %s in %s: %w", msg.MessageID, inbox, err)
		}
	}
	return wire.Message{}, wire.ThreadItem{}, fmt.Errorf("store: record sent message %s: thread %s: %w", msg.MessageID, threadID, ErrConflict)
}

// outboundTransaction is the one transaction that records a sent message: the message with
// its thread, inbox check and Message-ID index (addMessage), the SES id lookup item and the
// message.sent event (when SES took it), and the completed idempotency claim.
func (s *Store) outboundTransaction(o Outbound, msg wire.Message, item messageItem, prev *threadItem) (threadItem, []types.TransactWriteItem, messagePositions, error) {
	now := wire.UTC(s.now())
	inbox := o.Inbox.InboxID
	b := &txBuilder{table: s.table}
	th, pos, err := b.addMessage(o.Inbox, msg, item, prev, now)
	if err != nil {
		return th, nil, pos, err
	}
	if o.SESMessageID != "" {
		ses := sesItem{
			keys:    keys{PK: sesPK(o.SESMessageID), SK: skSES},
			InboxID: inbox, MessageID: msg.MessageID, ThreadID: msg.ThreadID, OrgID: o.Inbox.OrgID, PodID: o.Inbox.PodID,
		}
		if _, err := b.put(ses, "", nil); err != nil {
			return th, nil, pos, err
		}
		ev, err := s.eventPut(
			EventRecord{OrgID: o.Inbox.OrgID, PodID: o.Inbox.PodID, InboxID: inbox, CreatedAt: now},
			wire.Event{Type: wire.EventTypeEvent, EventType: wire.EventMessageSent, EventID: NewEventID(), Send: &wire.Send{
				InboxID: inbox, ThreadID: msg.ThreadID, MessageID: msg.MessageID, Timestamp: msg.Timestamp,
				Recipients: wire.NonNil(o.Recipients),
			}},
		)
		if err != nil {
			return th, nil, pos, err
		}
		b.add(ev)
	}
	if o.SendTag != "" && o.SESMessageID == "" {
		tag := sesItem{
			keys:    keys{PK: sesPK(sendTagKey(o.SendTag)), SK: skSES},
			InboxID: inbox, MessageID: msg.MessageID, ThreadID: msg.ThreadID, OrgID: o.Inbox.OrgID, PodID: o.Inbox.PodID,
		}
		if _, err := b.put(tag, "", nil); err != nil {
			return th, nil, pos, err
		}
	}
	if o.IdempotencyKey != "" {
		done := idempotencyItem{
			keys:  keys{PK: inboxPK(inbox), SK: idempotencySK(o.IdempotencyKey)},
			State: claimDone, Fingerprint: o.IdempotencyFingerprint, ClaimedAt: now.UnixMilli(), MessageID: msg.MessageID, ThreadID: msg.ThreadID,
			TTL: now.Add(IdempotencyTTL).Unix(),
		}
		if _, err := b.put(done, "", nil); err != nil {
			return th, nil, pos, err
		}
	}
	return th, b.tx, pos, nil
}

// fillStatus sets the REST status and per-recipient delivery of a sent message from its
// delivery lifecycle.
func (it *messageItem) fillStatus() {
	it.Status, it.Message.Delivery = "", nil
	if it.Delivery != nil {
		it.Status = string(it.Delivery.Status)
		it.Message.Delivery = deliveryRecipients(*it.Delivery, it.CreatedAt)
	}
}

// recordSelfDelivered records a send whose message the inbox already holds: mail the inbox
// sent to itself (to, cc or bcc), which the local delivery stored as received before the send
// was recorded. The received copy becomes the sent one too: it gains the send's labels, SES id
// and delivery lifecycle, its thread gains the labels and sent_timestamp, and the SES# item,
// message.sent event and idempotency record are written, in one transaction.
func (s *Store) recordSelfDelivered(ctx context.Context, o Outbound, sent wire.Message) (wire.Message, wire.ThreadItem, error) {
	inbox := o.Inbox.InboxID
	for attempt := range deliveryAttempts {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return wire.Message{}, wire.ThreadItem{}, err
			}
		}
		var it messageItem
		if err := s.getItem(ctx, inboxPK(inbox), messageSK(sent.MessageID), &it); err != nil {
			return wire.Message{}, wire.ThreadItem{}, err
		}
		var th threadItem
		if err := s.getItem(ctx, threadPK(it.ThreadID), skThread, &th); err != nil {
			return wire.Message{}, wire.ThreadItem{}, err
		}
		if it.Delivery != nil {
			// Not a received copy: this send is recorded already (a retry after a transaction
			// that took effect and whose answer was lost).
			it.fillStatus()
			normalizeMessage(&it.Message)
			return it.Message, th.ThreadItem, nil
		}
		prevUpdated := it.UpdatedAt
		it.Labels = LabelChange{Add: sent.Labels}.apply(it.Labels)
		it.SESMessageID, it.Delivery, it.UpdatedAt = o.SESMessageID, &o.Delivery, wire.UTC(s.now())
		if !it.UpdatedAt.After(prevUpdated) {
			it.UpdatedAt = prevUpdated.Add(time.Millisecond)
		}
		th.Labels = LabelChange{Add: sent.Labels}.apply(th.Labels)
		ts := wire.UTC(it.Timestamp)
		if th.SentTimestamp == nil || th.SentTimestamp.Before(ts) {
			th.SentTimestamp = &ts
		}
		th.UpdatedAt = it.UpdatedAt
		version := th.Version
		th.Version++
		msgAV, err := marshal(it)
		if err != nil {
			return wire.Message{}, wire.ThreadItem{}, err
		}
		thAV, err := marshal(th)
		if err != nil {
			return wire.Message{}, wire.ThreadItem{}, err
		}
		prevAV, err := attributevalue.Marshal(prevUpdated)
		if err != nil {
			return wire.Message{}, wire.ThreadItem{}, err
		}
		tx := []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(s.table), Item: msgAV, ConditionExpression: aws.String("updated_at = :u"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":u": prevAV}}},
			{Put: &types.Put{TableName: aws.String(s.table), Item: thAV, ConditionExpression: aws.String("version = :v"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.Itoa(version)}}}},
		}
		// The SES item, event and idempotency record, as for any send.
		o.Message = it.Message
		_, rest, _, err := s.outboundTransaction(o, it.Message, messageItem{}, &th)
		if err != nil {
			return wire.Message{}, wire.ThreadItem{}, err
		}
		tx = append(tx, rest[4:]...) // after message, thread, inbox check and MID
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
		reasons := cancelReasons(err)
		switch {
		case err == nil:
			it.fillStatus()
			normalizeMessage(&it.Message)
			return it.Message, th.ThreadItem, nil
		case slices.Contains(reasons, "ConditionalCheckFailed"), isTransactionConflict(reasons):
			continue
		default:
			return wire.Message{}, wire.ThreadItem{}, fmt.Errorf("store: record sent message %s in %s: %w", sent.MessageID, inbox, err)
		}
	}
	return wire.Message{}, wire.ThreadItem{}, fmt.Errorf("store: record sent message %s: %w", sent.MessageID, ErrConflict)
}
