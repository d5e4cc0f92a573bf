package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pigeon-mail/pigeon/shared/delivery"
	"github.com/pigeon-mail/pigeon/shared/lists"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// The delivery lifecycle of sent messages: SES event notifications applied to a message's
// delivery state (package delivery decides what moves), with the lifecycle labels and the
// message.* events they produce, written together.
//
// A sent message item carries its lifecycle in `delivery` (a delivery.State; its status is the
// message's REST status) and `delivery_version`, a counter every lifecycle write increments
// and requires unchanged — optimistic concurrency between notifications about one message,
// which SNS delivers concurrently, twice and out of order.

const attrDeliveryVersion = "delivery_version"

// lifecycleAttempts bounds the retries of a notification that loses a race on its message.
const lifecycleAttempts = 8

// lifecycleItem is a message item read for a lifecycle change.
type lifecycleItem struct {
	messageItem
	DeliveryVersion int `json:"delivery_version"`
}

// ApplyDeliveryNotification applies one SES event notification to the message SES knows as
// sesMessageID and reports whether anything changed. In one transaction, conditional on the
// message's delivery_version (retried on a lost race): the new delivery state, the lifecycle
// labels it reached (delivered, bounced, complained, delayed, rejected, failed — added, never
// removed, and the thread's labels with them), updated_at, and one event item per change
// (message.sent, .delivered, .bounced, .complained, .rejected; see lifecycleEvent).
//
// Duplicates and stale notifications change nothing and return false: delivery.Apply
// remembers notification ids and never moves a recipient backwards. A Send after the send
// path's own (synthetic) Send moves nobody, so message.sent is written once, by whoever moved
// the recipients to sent first.
//
// A permanent bounce or a complaint puts each recipient it newly reached on the
// organisation's send block list (AddSuppression), just BEFORE the transaction: a list entry
// cannot join it (creating one is conditional on the entry being absent, and an entry that
// exists must not cancel the lifecycle change), and doing it first means a failure leaves
// the notification unapplied, so its retry suppresses again (idempotently) rather than
// finding the change done and the suppression missing.
//
// ErrNotFound: Pigeon recorded no send with this SES id (mail it did not send, or a message
// since deleted); callers log and skip it.
func (s *Store) ApplyDeliveryNotification(ctx context.Context, sesMessageID string, n delivery.Notification) (bool, error) {
	ref, err := s.FindSent(ctx, sesMessageID)
	if err != nil {
		return false, fmt.Errorf("store: SES message %s: %w", sesMessageID, err)
	}
	for attempt := range lifecycleAttempts {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return false, err
			}
		}
		var it lifecycleItem
		if err := s.getItem(ctx, inboxPK(ref.InboxID), messageSK(ref.MessageID), &it); err != nil {
			return false, fmt.Errorf("store: sent message %s of %s: %w", ref.MessageID, ref.InboxID, err)
		}
		prev := delivery.New(nil)
		if it.MessageRecord.Delivery != nil {
			prev = *it.MessageRecord.Delivery
		}
		next, changes := delivery.Apply(prev, n)
		if sameOutcome(prev, next) {
			return false, nil
		}
		if err := s.suppress(ctx, ref, it.MessageID, changes); err != nil {
			return false, err
		}
		tx, err := s.lifecycleTransaction(ctx, ref, &it, next, changes, n)
		if err != nil {
			return false, err
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
		reasons := cancelReasons(err)
		switch {
		case err == nil:
			return true, nil
		case slices.Contains(reasons, "ConditionalCheckFailed"), isTransactionConflict(reasons):
			continue // another notification (or a label change of the thread) won; read again
		default:
			return false, fmt.Errorf("store: apply %s to %s: %w", n.Kind, ref.MessageID, err)
		}
	}
	return false, fmt.Errorf("store: apply %s to %s: %w", n.Kind, ref.MessageID, ErrConflict)
}

// lifecycleTransaction is the write of one lifecycle change: the message update first, then
// the event puts, then the thread's labels when the message gained any.
func (s *Store) lifecycleTransaction(ctx context.Context, ref SentRef, it *lifecycleItem, next delivery.State, changes []delivery.Change, n delivery.Notification) ([]types.TransactWriteItem, error) {
	now := wire.UTC(s.now())
	updatedAt := now
	if !updatedAt.After(it.UpdatedAt) {
		// Label updates guard messages with updated_at; make sure they see this write.
		updatedAt = it.UpdatedAt.Add(time.Millisecond)
	}
	state, err := marshal(next)
	if err != nil {
		return nil, err
	}
	upd, err := attributevalue.Marshal(updatedAt)
	if err != nil {
		return nil, err
	}
	u := &types.Update{
		TableName: aws.String(s.table), Key: key(inboxPK(ref.InboxID), messageSK(ref.MessageID)),
		ExpressionAttributeNames: map[string]string{"#del": "delivery", "#ver": attrDeliveryVersion, "#upd": "updated_at"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":state": &types.AttributeValueMemberM{Value: state},
			":ver":   &types.AttributeValueMemberN{Value: strconv.Itoa(it.DeliveryVersion + 1)},
			":upd":   upd,
		},
	}
	set := "SET #del = :state, #ver = :ver, #upd = :upd"
	cond := "attribute_exists(pk) AND attribute_not_exists(#ver)"
	if it.DeliveryVersion > 0 {
		cond = "#ver = :prev"
		u.ExpressionAttributeValues[":prev"] = &types.AttributeValueMemberN{Value: strconv.Itoa(it.DeliveryVersion)}
	}
	added := newLifecycleLabels(it.Labels, next)
	if len(added) > 0 {
		av, err := attributevalue.Marshal(added)
		if err != nil {
			return nil, err
		}
		u.ExpressionAttributeNames["#labels"] = "labels"
		u.ExpressionAttributeValues[":add"] = av
		if len(it.Labels) == 0 {
			// list_append needs a list; an absent one is set (and must still be absent).
			set += ", #labels = :add"
			cond += " AND attribute_not_exists(#labels)"
		} else {
			// Appended, not overwritten: a concurrent label PATCH keeps its change.
			set += ", #labels = list_append(#labels, :add)"
		}
	}
	u.UpdateExpression, u.ConditionExpression = aws.String(set), aws.String(cond)
	tx := []types.TransactWriteItem{{Update: u}}

	rec := EventRecord{OrgID: ref.OrgID, PodID: ref.PodID, InboxID: ref.InboxID, CreatedAt: now}
	for _, ch := range changes {
		ev, ok := lifecycleEvent(it.Message, ch, n, now)
		if !ok {
			continue
		}
		put, err := s.eventPut(rec, ev)
		if err != nil {
			return nil, err
		}
		tx = append(tx, put)
	}
	if len(added) > 0 && it.ThreadID != "" {
		labels := append(slices.Clone(it.Labels), added...)
		put, err := s.threadLabelsPut(ctx, it.ThreadID, map[string][]string{it.MessageID: labels})
		if err != nil {
			return nil, err
		}
		if put != nil {
			tx = append(tx, *put)
		}
	}
	return tx, nil
}

// lifecycleLabel is the label each recipient status (or, for rejected and failed, the
// message status) gives a message (failed is Pigeon's).
var lifecycleLabel = map[delivery.Status]string{
	delivery.Delivered:  wire.LabelDelivered,
	delivery.Bounced:    wire.LabelBounced,
	delivery.Complained: wire.LabelComplained,
	delivery.Delayed:    wire.LabelDelayed,
	delivery.Rejected:   wire.LabelRejected,
	delivery.Failed:     wire.LabelFailed,
}

// newLifecycleLabels are the lifecycle labels st earns that labels lacks: one for every status
// any recipient reached, and the message's own when it was rejected or failed. A recipient
// delayed and then delivered keeps "delayed" on the message: labels record what happened.
func newLifecycleLabels(labels []string, st delivery.State) []string {
	var add []string
	earn := func(status delivery.Status) {
		if l, ok := lifecycleLabel[status]; ok && !slices.Contains(labels, l) && !slices.Contains(add, l) {
			add = append(add, l)
		}
	}
	for _, r := range st.Recipients {
		earn(r.Status)
	}
	if st.Status.Terminal() {
		earn(st.Status)
	}
	return add
}

// lifecycleEvent is the event a change announces, with only the
// payload's documented keys: the SDKs parse event payloads strictly. DeliveryDelay and
// Rendering Failure announce nothing (AgentMail has no such events); their labels and status
// still change.
func lifecycleEvent(m wire.Message, ch delivery.Change, n delivery.Notification, now time.Time) (wire.Event, bool) {
	at := wire.UTC(ch.Timestamp)
	if ch.Timestamp.IsZero() {
		at = now
	}
	ev := wire.Event{Type: wire.EventTypeEvent, EventID: NewEventID()}
	switch ch.Kind {
	case delivery.KindSend:
		ev.EventType = wire.EventMessageSent
		ev.Send = &wire.Send{InboxID: m.InboxID, ThreadID: m.ThreadID, MessageID: m.MessageID, Timestamp: at, Recipients: wire.NonNil(ch.Recipients)}
	case delivery.KindDelivery:
		ev.EventType = wire.EventMessageDelivered
		ev.Delivery = &wire.Delivery{InboxID: m.InboxID, ThreadID: m.ThreadID, MessageID: m.MessageID, Timestamp: at, Recipients: wire.NonNil(ch.Recipients)}
	case delivery.KindBounce:
		rcpts := make([]wire.BounceRecipient, 0, len(ch.Recipients))
		for _, r := range ch.Recipients {
			rcpts = append(rcpts, wire.BounceRecipient{Address: r, Status: bounceStatus(n.Diagnostics[r])})
		}
		ev.EventType = wire.EventMessageBounced
		ev.Bounce = &wire.Bounce{InboxID: m.InboxID, ThreadID: m.ThreadID, MessageID: m.MessageID, Timestamp: at, Type: ch.Type, SubType: ch.SubType, Recipients: rcpts}
	case delivery.KindComplaint:
		ev.EventType = wire.EventMessageComplained
		ev.Complaint = &wire.Complaint{InboxID: m.InboxID, ThreadID: m.ThreadID, MessageID: m.MessageID, Timestamp: at, Type: ch.Type, SubType: ch.SubType, Recipients: wire.NonNil(ch.Recipients)}
	case delivery.KindReject:
		reason := ch.Reason
		if reason == "" {
			reason = "Bad content" // the only reason SES gives
		}
		ev.EventType = wire.EventMessageRejected
		ev.Reject = &wire.Reject{InboxID: m.InboxID, ThreadID: m.ThreadID, MessageID: m.MessageID, Timestamp: at, Reason: reason}
	default:
		return wire.Event{}, false
	}
	return ev, true
}

// enhancedStatus finds an RFC 3463 enhanced status code ("5.1.1") in an SMTP diagnostic.
var enhancedStatus = regexp.MustCompile(`\b[245]\.\d{1,3}\.\d{1,3}\b`)

// bounceStatus is a bounced recipient's status in message.bounced: the enhanced status code
// of SES's diagnostic ("smtp; 550 5.1.1 user unknown" → "5.1.1"), or "failed" (the DSN action
// SES reports for every bounced recipient) when it has none.
func bounceStatus(diagnostic string) string {
	if code := enhancedStatus.FindString(diagnostic); code != "" {
		return code
	}
	return "failed"
}

// suppress puts the recipients a permanent bounce or a complaint newly reached on the
// organisation's send block list, with the reason and the message that caused it (see
// ApplyDeliveryNotification for why it runs before the lifecycle transaction). An address
// that is no valid list entry cannot be blocked and is skipped.
func (s *Store) suppress(ctx context.Context, ref SentRef, messageID string, changes []delivery.Change) error {
	for _, ch := range changes {
		reason := SuppressionReason(ch, messageID)
		if reason == "" {
			continue
		}
		for _, r := range ch.Recipients {
			err := s.AddSuppression(ctx, ref.OrgID, r, reason, messageID)
			if err != nil && !errors.Is(err, lists.ErrInvalidEntry) {
				return fmt.Errorf("store: suppress %s after %s of %s: %w", r, ch.Kind, messageID, err)
			}
		}
	}
	return nil
}

// SuppressionReason is the reason a change puts its recipients on the send block list, or ""
// when it does not: a permanent bounce ("permanent bounce (Permanent/General) of message
// <id>") or a complaint ("complaint (abuse) about message <id>"). Transient and undetermined
// bounces do not suppress: SES publishes those only after giving up on one message, which
// says nothing certain about the next.
func SuppressionReason(ch delivery.Change, messageID string) string {
	switch {
	case ch.Kind == delivery.KindBounce && ch.Type == "Permanent":
		kind := ch.Type
		if ch.SubType != "" {
			kind += "/" + ch.SubType
		}
		return fmt.Sprintf("permanent bounce (%s) of message %s", kind, messageID)
	case ch.Kind == delivery.KindComplaint:
		kind := ch.Type
		if kind == "" {
			kind = "abuse"
		}
		return fmt.Sprintf("complaint (%s) about message %s", kind, messageID)
	}
	return ""
}

// sameOutcome reports whether b records what a does (the notification ids it remembers
// aside): nothing to write.
func sameOutcome(a, b delivery.State) bool {
	return a.Status == b.Status && a.Reason == b.Reason &&
		slices.EqualFunc(a.Recipients, b.Recipients, func(x, y delivery.Recipient) bool {
			return x.Address == y.Address && x.Status == y.Status && x.Detail == y.Detail && x.UpdatedAt.Equal(y.UpdatedAt)
		})
}

// deliveryRecipients is the REST form of a lifecycle's recipients; a recipient that has not
// moved yet shows the message's creation time.
func deliveryRecipients(st delivery.State, created time.Time) []wire.DeliveryRecipient {
	out := make([]wire.DeliveryRecipient, 0, len(st.Recipients))
	for _, r := range st.Recipients {
		at := r.UpdatedAt
		if at.IsZero() {
			at = created
		}
		out = append(out, wire.DeliveryRecipient{Address: r.Address, Status: string(r.Status), Detail: r.Detail, UpdatedAt: wire.UTC(at)})
	}
	return out
}
