package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pigeon-mail/pigeon/shared/thread"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Permanent deletion of messages and threads, and reads of several messages at once.
//
// A deleted message takes its Message-ID index entry and SES-id lookup item with it; its
// delivery marker (SRC#) stays, so a retried delivery of the same raw object does not bring it
// back. Raw mail, attachments and large bodies stay in S3, as with DeleteInbox.

// MaxBatchGet is the most messages one batch read names.
const MaxBatchGet = 500

// BatchGetMessages reads messages of an inbox by id, without their bodies (text, html and
// extracted_* are left empty), in the order of ids; ids the inbox does not hold are left out.
func (s *Store) BatchGetMessages(ctx context.Context, inboxID string, ids []string) ([]MessageRecord, error) {
	if len(ids) > MaxBatchGet {
		return nil, fmt.Errorf("store: %d messages in one batch read; at most %d", len(ids), MaxBatchGet)
	}
	inbox := NormalizeAddress(inboxID)
	items, _, err := s.readMessages(ctx, inbox, ids)
	if err != nil {
		return nil, err
	}
	out := make([]MessageRecord, 0, len(items))
	for _, it := range items {
		it.fillStatus()
		normalizeMessage(&it.Message)
		bodies{}.setOn(&it.Message)
		out = append(out, it.MessageRecord)
	}
	return out, nil
}

// readMessages reads messages of an inbox by id (strongly consistent, 100 keys a request), in
// the order of ids, each once, leaving out those the inbox does not hold; raw are the items as
// read, for callers that condition a write on an attribute's exact value.
func (s *Store) readMessages(ctx context.Context, inbox string, ids []string) (items []messageItem, raw []map[string]types.AttributeValue, err error) {
	ks := make([]map[string]types.AttributeValue, 0, len(ids))
	for _, id := range ids {
		if len(id) <= maxKeyPartBytes {
			ks = append(ks, key(inboxPK(inbox), messageSK(id)))
		}
	}
	type read struct {
		item messageItem
		raw  map[string]types.AttributeValue
	}
	byID := map[string]read{}
	for chunk := range slices.Chunk(ks, 100) {
		got, err := s.batchGet(ctx, chunk)
		if err != nil {
			return nil, nil, fmt.Errorf("store: read messages of %s: %w", inbox, err)
		}
		for _, av := range got {
			var it messageItem
			if err := unmarshal(av, &it); err != nil {
				return nil, nil, err
			}
			byID[it.MessageID] = read{it, av}
		}
	}
	for _, id := range ids {
		if r, ok := byID[id]; ok {
			items, raw = append(items, r.item), append(raw, r.raw)
			delete(byID, id)
		}
	}
	return items, raw, nil
}

// DeleteMessage deletes a message of an inbox for good, with its index items, and recomputes
// its thread from the messages that remain (the thread is deleted with its last message), in
// one transaction guarded by the thread's version.
func (s *Store) DeleteMessage(ctx context.Context, inboxID, messageID string) error {
	inbox := NormalizeAddress(inboxID)
	for attempt := range deliveryAttempts {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return err
			}
		}
		var it messageItem
		if err := s.getItem(ctx, inboxPK(inbox), messageSK(messageID), &it); err != nil {
			return err
		}
		tx := []types.TransactWriteItem{
			{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(inboxPK(inbox), messageSK(messageID)), ConditionExpression: aws.String("attribute_exists(pk)")}},
			{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(inboxPK(inbox), midSK(canonicalID(messageID)))}},
		}
		if it.SESMessageID != "" {
			tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(sesPK(it.SESMessageID), skSES)}})
		}
		thTx, err := s.threadAfterDelete(ctx, it.ThreadID, messageID)
		if err != nil {
			return err
		}
		if thTx != nil {
			tx = append(tx, *thTx)
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
		reasons := cancelReasons(err)
		switch {
		case err == nil:
			return nil
		case conditionFailed(reasons, 0):
			return ErrNotFound
		case slices.Contains(reasons, "ConditionalCheckFailed"), isTransactionConflict(reasons):
			continue
		default:
			return fmt.Errorf("store: delete message %s of %s: %w", messageID, inbox, err)
		}
	}
	return fmt.Errorf("store: delete message %s of %s: %w", messageID, inbox, ErrConflict)
}

// threadAfterDelete is the transaction action on a thread losing message gone: a put of the
// thread rebuilt from the remaining messages, or its deletion when none remain; nil when the
// thread no longer exists.
func (s *Store) threadAfterDelete(ctx context.Context, threadID, gone string) (*types.TransactWriteItem, error) {
	var it threadItem
	switch err := s.getItem(ctx, threadPK(threadID), skThread, &it); {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	cond := aws.String("version = :v")
	values := map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.Itoa(it.Version)}}
	var rest []wire.Message
	err := s.queryThreadMessages(ctx, threadID, nil, func(item map[string]types.AttributeValue) error {
		var m messageItem
		if err := unmarshal(item, &m); err != nil {
			return err
		}
		if m.MessageID != gone {
			rest = append(rest, m.Message)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(rest) == 0 {
		return &types.TransactWriteItem{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: key(threadPK(threadID), skThread),
			ConditionExpression: cond, ExpressionAttributeValues: values,
		}}, nil
	}
	rebuilt := rebuildThread(it.ThreadItem, rest, s.now())
	next := threadItem{ThreadRecord: ThreadRecord{ThreadItem: rebuilt, OrgID: it.OrgID, PodID: it.PodID}, Version: it.Version + 1}
	next.keys = threadKeys(next.ThreadRecord)
	av, err := marshal(next)
	if err != nil {
		return nil, err
	}
	return &types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.table), Item: av, ConditionExpression: cond, ExpressionAttributeValues: values,
	}}, nil
}

// rebuildThread is the thread as if only msgs (its remaining messages) had joined it, in time
// order; it keeps the thread's id, inbox and creation time.
func rebuildThread(prev wire.ThreadItem, msgs []wire.Message, now time.Time) wire.ThreadItem {
	slices.SortStableFunc(msgs, func(a, b wire.Message) int { return a.Timestamp.Compare(b.Timestamp) })
	var t *wire.ThreadItem
	for _, m := range msgs {
		m.ThreadID, m.InboxID = prev.ThreadID, prev.InboxID
		next := thread.Apply(t, m, now)
		t = &next
	}
	t.CreatedAt = prev.CreatedAt
	return *t
}

// DeleteThread deletes a thread for good with all its messages and their index items. It is
// not one transaction (a thread may hold more messages than one allows): messages go first,
// the thread last, so calling it again after a failure finishes the job.
func (s *Store) DeleteThread(ctx context.Context, threadID string) error {
	th, err := s.GetThread(ctx, threadID)
	if err != nil {
		return err
	}
	inbox := th.InboxID
	var doomed []map[string]types.AttributeValue
	err = s.queryThreadMessages(ctx, threadID, []string{"message_id", "ses_message_id"}, func(item map[string]types.AttributeValue) error {
		var m struct {
			MessageID    string `json:"message_id"`
			SESMessageID string `json:"ses_message_id"`
		}
		if err := unmarshal(item, &m); err != nil {
			return err
		}
		doomed = append(doomed, key(inboxPK(inbox), messageSK(m.MessageID)), key(inboxPK(inbox), midSK(canonicalID(m.MessageID))))
		if m.SESMessageID != "" {
			doomed = append(doomed, key(sesPK(m.SESMessageID), skSES))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.batchDelete(ctx, doomed); err != nil {
		return fmt.Errorf("store: delete thread %s: %w", threadID, err)
	}
	if err := s.batchDelete(ctx, []map[string]types.AttributeValue{key(threadPK(threadID), skThread)}); err != nil {
		return fmt.Errorf("store: delete thread %s: %w", threadID, err)
	}
	return nil
}
