package store

import (
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pigeon-mail/pigeon/shared/thread"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// txBuilder collects the actions of one TransactWriteItems and remembers where each
// conditional one stands, so a cancellation's reasons can be read back by position.
type txBuilder struct {
	table string
	tx    []types.TransactWriteItem
}

// put adds a Put of v, conditional on cond when it is not empty, and returns its position.
func (b *txBuilder) put(v any, cond string, values map[string]types.AttributeValue) (int, error) {
	av, err := marshal(v)
	if err != nil {
		return 0, err
	}
	p := &types.Put{TableName: aws.String(b.table), Item: av, ExpressionAttributeValues: values}
	if cond != "" {
		p.ConditionExpression = aws.String(cond)
	}
	b.tx = append(b.tx, types.TransactWriteItem{Put: p})
	return len(b.tx) - 1, nil
}

// add appends a prepared action.
func (b *txBuilder) add(a types.TransactWriteItem) int {
	b.tx = append(b.tx, a)
	return len(b.tx) - 1
}

// messagePositions are where the conditional actions of addMessage stand.
type messagePositions struct{ message, thread, inbox int }

// addMessage adds what every new message's transaction holds, inbound or sent: the message
// item (new), its thread after the message joins it (new, or checked against the version it
// was read at: optimistic concurrency), a check that the inbox still exists and is not being
// deleted, and the Message-ID index item later replies are threaded on.
func (b *txBuilder) addMessage(in InboxRecord, msg wire.Message, item messageItem, prev *threadItem, now time.Time) (threadItem, messagePositions, error) {
	var pos messagePositions
	var prevThread *wire.ThreadItem
	version := 0
	if prev != nil {
		prevThread, version = &prev.ThreadItem, prev.Version
	}
	th := threadItem{ThreadRecord: ThreadRecord{
		ThreadItem: thread.Apply(prevThread, msg, now), OrgID: in.OrgID, PodID: in.PodID,
	}, Version: version + 1}
	th.keys = threadKeys(th.ThreadRecord)

	item.keys = messageKeys(&msg)
	item.Message = msg
	if item.BodyKey != "" {
		bodies{}.setOn(&item.Message) // kept in S3, not repeated in the item
	}
	var err error
	if pos.message, err = b.put(item, "attribute_not_exists(pk)", nil); err != nil {
		return th, pos, err
	}
	if prev == nil {
		pos.thread, err = b.put(th, "attribute_not_exists(pk)", nil)
	} else {
		pos.thread, err = b.put(th, "version = :v", map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.Itoa(version)}})
	}
	if err != nil {
		return th, pos, err
	}
	pos.inbox = b.add(types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: aws.String(b.table), Key: key(inboxPK(in.InboxID), skInbox),
		ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(deleting)"),
	}})
	mid := midItem{keys: keys{PK: inboxPK(in.InboxID), SK: midSK(canonicalID(msg.MessageID))}, MessageID: msg.MessageID, ThreadID: msg.ThreadID, Fingerprint: item.Fingerprint}
	_, err = b.put(mid, "", nil)
	return th, pos, err
}
