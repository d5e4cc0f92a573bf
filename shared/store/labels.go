package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Label changes on messages and threads. A message's labels live on its item; a thread's
// labels are the union of its messages' labels, recomputed from them whenever one changes, and
// written in the same transaction as the messages (the thread's version guards it against a
// concurrent delivery).

// MaxThreadUpdate is the most messages a thread label update changes in one transaction
// (DynamoDB allows 100 actions: the messages and the thread). A larger thread answers
// ErrThreadTooLarge (AgentMail answers 422 for threads of 100 messages or more).
const MaxThreadUpdate = 99

// MaxBatchUpdate is the most messages one batch label update changes,
// which with their threads stays within one transaction.
const MaxBatchUpdate = 50

// ErrThreadTooLarge: the thread has more messages than one label update may change.
var ErrThreadTooLarge = errors.New("store: the thread has too many messages to update at once")

// labelAttempts bounds the attempts of a label update that loses races. Label changes commute
// (adding one label and removing another give the same labels in either order), so a lost race
// is never the caller's problem: the update reads the message and thread again and reapplies
// its change. Between attempts it waits a random time up to backoff(attempt) ("full jitter"),
// which spreads many writers of one message or thread over time so that each gets its turn: 50
// concurrent changes of one message all land within a few attempts each. ErrConflict (409)
// after the last attempt means contention the bounded retries could not outlast.
const labelAttempts = 24

// labelBackoff is the wait before attempt (1 and up) of a label update.
func labelBackoff(attempt int) time.Duration { return rand.N(backoff(attempt)) }

// LabelChange adds and removes labels (already validated and lower-cased by the caller). A
// label in both is removed: remove wins.
type LabelChange struct {
	Add, Remove []string
}

// apply returns labels after the change, keeping their order and appending new ones.
func (c LabelChange) apply(labels []string) []string {
	out := make([]string, 0, len(labels)+len(c.Add))
	for _, l := range labels {
		if !slices.Contains(c.Remove, l) && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	for _, l := range c.Add {
		if !slices.Contains(c.Remove, l) && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// labelTarget is a message read for a label change.
type labelTarget struct {
	id, threadID string
	org, pod     string
	labels, next []string
	updatedAt    types.AttributeValue // as stored, for the optimistic condition
}

// UpdateMessageLabels applies ch to the messages of the inbox named by ids (at most
// MaxBatchUpdate), all or nothing: every message and each affected thread's labels change in
// one transaction. It returns the labels of each message found, in the order of ids; ids the
// inbox does not hold are left out.
func (s *Store) UpdateMessageLabels(ctx context.Context, inboxID string, ids []string, ch LabelChange) ([]wire.UpdateMessageResponse, error) {
	if len(ids) > MaxBatchUpdate {
		return nil, fmt.Errorf("store: %d messages in one label update; at most %d", len(ids), MaxBatchUpdate)
	}
	targets, err := s.updateLabelsOf(ctx, NormalizeAddress(inboxID), ids, ch)
	if err != nil {
		return nil, err
	}
	out := make([]wire.UpdateMessageResponse, 0, len(targets))
	for _, t := range targets {
		out = append(out, wire.UpdateMessageResponse{MessageID: t.id, Labels: wire.NonNil(t.next)})
	}
	return out, nil
}

// UpdateThreadLabels applies ch to every message of a thread and returns the thread's labels
// after. A thread of more than MaxThreadUpdate messages is ErrThreadTooLarge, unless chunked:
// its messages are then changed MaxThreadUpdate at a time, each chunk in its own transaction
// (moving a long thread to trash).
func (s *Store) UpdateThreadLabels(ctx context.Context, threadID string, ch LabelChange, chunked bool) ([]string, error) {
	th, err := s.GetThread(ctx, threadID)
	if err != nil {
		return nil, err
	}
	ids, err := s.threadMessageIDs(ctx, threadID)
	if err != nil {
		return nil, err
	}
	if len(ids) > MaxThreadUpdate && !chunked {
		return nil, fmt.Errorf("thread %s has %d messages: %w", threadID, len(ids), ErrThreadTooLarge)
	}
	for chunk := range slices.Chunk(ids, MaxThreadUpdate) {
		if _, err := s.updateLabelsOf(ctx, th.InboxID, chunk, ch); err != nil {
			return nil, err
		}
	}
	th, err = s.GetThread(ctx, threadID)
	if err != nil {
		return nil, err
	}
	return th.Labels, nil
}

// updateLabelsOf is UpdateMessageLabels without the batch limit (the caller chunks): it
// retries lost races (see labelAttempts) and returns the targets with their labels after.
func (s *Store) updateLabelsOf(ctx context.Context, inbox string, ids []string, ch LabelChange) ([]labelTarget, error) {
	for attempt := range labelAttempts {
		if attempt > 0 {
			if err := sleep(ctx, labelBackoff(attempt)); err != nil {
				return nil, err
			}
		}
		targets, err := s.labelTargets(ctx, inbox, ids)
		if err != nil {
			return nil, err
		}
		if err = s.relabel(ctx, inbox, targets, ch); !errors.Is(err, errLabelRace) {
			return targets, err
		}
	}
	return nil, fmt.Errorf("store: label update in %s: %w", inbox, ErrConflict)
}

// errLabelRace: a message or thread changed between reading and writing; read again.
var errLabelRace = errors.New("store: label update raced")

// labelTargets reads the messages ids of the inbox (strongly consistent), in the order of ids,
// leaving out those that do not exist.
func (s *Store) labelTargets(ctx context.Context, inbox string, ids []string) ([]labelTarget, error) {
	items, raw, err := s.readMessages(ctx, inbox, ids)
	if err != nil {
		return nil, err
	}
	out := make([]labelTarget, len(items))
	for i, it := range items {
		out[i] = labelTarget{id: it.MessageID, threadID: it.ThreadID, org: it.OrgID, pod: it.PodID, labels: it.Labels, updatedAt: raw[i]["updated_at"]}
	}
	return out, nil
}

// relabel writes ch on targets (setting each target's next labels) and the recomputed labels
// of their threads, in one transaction; errLabelRace when a condition failed.
func (s *Store) relabel(ctx context.Context, inbox string, targets []labelTarget, ch LabelChange) error {
	changed := map[string][]string{} // message id → new labels
	threads := []string{}
	for i := range targets {
		t := &targets[i]
		t.next = ch.apply(t.labels)
		if !slices.Equal(t.next, t.labels) {
			changed[t.id] = t.next
			if !slices.Contains(threads, t.threadID) {
				threads = append(threads, t.threadID)
			}
		}
	}
	if len(changed) == 0 {
		return nil
	}
	now := wire.UTC(s.now())
	nowAV, err := attributevalue.Marshal(now)
	if err != nil {
		return err
	}
	var tx []types.TransactWriteItem
	for _, t := range targets {
		next, ok := changed[t.id]
		if !ok {
			continue
		}
		u := &types.Update{
			TableName: aws.String(s.table), Key: key(inboxPK(inbox), messageSK(t.id)),
			ExpressionAttributeNames:  map[string]string{"#labels": "labels", "#upd": "updated_at"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": nowAV},
		}
		if len(next) == 0 {
			u.UpdateExpression = aws.String("REMOVE #labels SET #upd = :now")
		} else {
			lv, err := attributevalue.Marshal(next)
			if err != nil {
				return err
			}
			u.ExpressionAttributeValues[":l"] = lv
			u.UpdateExpression = aws.String("SET #labels = :l, #upd = :now")
		}
		if t.updatedAt != nil {
			u.ConditionExpression = aws.String("#upd = :prev")
			u.ExpressionAttributeValues[":prev"] = t.updatedAt
		} else {
			u.ConditionExpression = aws.String("attribute_exists(pk) AND attribute_not_exists(#upd)")
		}
		tx = append(tx, types.TransactWriteItem{Update: u})
	}
	for _, th := range threads {
		put, err := s.threadLabelsPut(ctx, th, changed)
		if err != nil {
			return err
		}
		if put != nil {
			tx = append(tx, *put)
		}
	}
	events, err := s.labelEvents(inbox, targets, now)
	if err != nil {
		return err
	}
	// The label audit log joins the change's transaction when it fits DynamoDB's 100 actions;
	// the rest follows right after, in transactions of its own.
	n := min(len(events), maxTransactItems-len(tx))
	tx, events = append(tx, events[:n]...), events[n:]
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	if reasons := cancelReasons(err); reasons != nil {
		if slices.Contains(reasons, "ConditionalCheckFailed") || isTransactionConflict(reasons) {
			return errLabelRace
		}
	}
	if err != nil {
		return fmt.Errorf("store: label update in %s: %w", inbox, err)
	}
	for chunk := range slices.Chunk(events, maxTransactItems) {
		if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: chunk}); err != nil {
			return fmt.Errorf("store: label events of %s: %w", inbox, err)
		}
	}
	return nil
}

// maxTransactItems is DynamoDB's limit of actions in one transaction.
const maxTransactItems = 100

// labelEvents are the label.added and label.removed events of the targets whose labels change.
func (s *Store) labelEvents(inbox string, targets []labelTarget, at time.Time) ([]types.TransactWriteItem, error) {
	var out []types.TransactWriteItem
	for _, t := range targets {
		for _, change := range []struct {
			from, to []string
			added    bool
		}{{t.labels, t.next, true}, {t.next, t.labels, false}} {
			for _, l := range change.to {
				if slices.Contains(change.from, l) {
					continue
				}
				ev, err := s.labelEventPut(t.org, t.pod, inbox, t.id, l, change.added, at)
				if err != nil {
					return nil, err
				}
				out = append(out, ev)
			}
		}
	}
	return out, nil
}

// threadLabelsPut is the transaction action that rewrites a thread's labels as the union of
// its messages' labels, with changed overriding what the index says of those messages; nil
// when the thread is gone (the messages are then updated alone).
func (s *Store) threadLabelsPut(ctx context.Context, threadID string, changed map[string][]string) (*types.TransactWriteItem, error) {
	var it threadItem
	switch err := s.getItem(ctx, threadPK(threadID), skThread, &it); {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	msgs, err := s.threadMessageLabels(ctx, threadID)
	if err != nil {
		return nil, err
	}
	for id, labels := range changed {
		if _, ok := msgs[id]; ok {
			msgs[id] = labels
		}
	}
	it.Labels = unionLabels(it.Labels, msgs)
	it.UpdatedAt = wire.UTC(s.now())
	version := it.Version
	it.Version++
	av, err := marshal(it)
	if err != nil {
		return nil, err
	}
	return &types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.table), Item: av, ConditionExpression: aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.Itoa(version)}},
	}}, nil
}

// unionLabels is the union of the messages' labels: the labels the thread had that remain, in
// their order, then new ones in sorted order (stable whatever order the messages come in).
func unionLabels(prev []string, msgs map[string][]string) []string {
	all := map[string]bool{}
	for _, labels := range msgs {
		for _, l := range labels {
			all[l] = true
		}
	}
	out := []string{}
	for _, l := range prev {
		if all[l] && !slices.Contains(out, l) {
			out = append(out, l)
			delete(all, l)
		}
	}
	var rest []string
	for l := range all {
		rest = append(rest, l)
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// threadMessageLabels reads message id → labels of every message of a thread, through the
// thread's message index (eventually consistent: a message delivered a moment ago may be
// missing, and the next change of the thread corrects its labels).
func (s *Store) threadMessageLabels(ctx context.Context, threadID string) (map[string][]string, error) {
	out := map[string][]string{}
	err := s.queryThreadMessages(ctx, threadID, []string{"message_id", "labels"}, func(item map[string]types.AttributeValue) error {
		var m struct {
			MessageID string   `json:"message_id"`
			Labels    []string `json:"labels"`
		}
		if err := unmarshal(item, &m); err != nil {
			return err
		}
		out[m.MessageID] = m.Labels
		return nil
	})
	return out, err
}

// threadMessageIDs lists the ids of a thread's messages, oldest first.
func (s *Store) threadMessageIDs(ctx context.Context, threadID string) ([]string, error) {
	var ids []string
	err := s.queryThreadMessages(ctx, threadID, []string{"message_id"}, func(item map[string]types.AttributeValue) error {
		var m struct {
			MessageID string `json:"message_id"`
		}
		if err := unmarshal(item, &m); err != nil {
			return err
		}
		ids = append(ids, m.MessageID)
		return nil
	})
	return ids, err
}

// queryThreadMessages calls fn for every message item of a thread (projected to the named
// attributes, whole items when none), oldest first, through the thread's message index.
func (s *Store) queryThreadMessages(ctx context.Context, threadID string, projection []string, fn func(map[string]types.AttributeValue) error) error {
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(indexGSI2),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrGSI2PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": strAV(threadMsgsPK(threadID))},
	}
	if len(projection) > 0 {
		var names []string
		for i, a := range projection {
			n := "#p" + strconv.Itoa(i)
			in.ExpressionAttributeNames[n] = a
			names = append(names, n)
		}
		in.ProjectionExpression = aws.String(strings.Join(names, ", "))
	}
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("store: messages of thread %s: %w", threadID, err)
		}
		for _, item := range out.Items {
			if err := fn(item); err != nil {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
