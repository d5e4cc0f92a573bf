package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Sends with an unknown outcome. When SendEmail fails in a way that leaves open whether SES
// took the message (a timeout, a connection lost after the request went out, a 5xx), the
// send path records the message as sending under the Message-ID it composed, with no SES id,
// and completes its Idempotency-Key, so that no retry sends it again. Every send carries the
// SES tag SendTagName (a token of the composed Message-ID); SES returns it in every event
// notification. The first notification (Send, Delivery, …) about such a message finds it
// through that tag and links SES's id to it (LinkSES); from then on it is an ordinary sent
// message. If SES never took it, no notification comes and the message stays sending.

// SendTagName is the SES message tag naming the send (its value: the send tag).
const SendTagName = "pigeon_send"

func sendTagKey(tag string) string { return "TAG:" + tag }

// LinkSES gives the message recorded with send tag tag (Outbound.SendTag) its SES id: the
// SES# lookup item of sesMessageID and the message's ses_message_id, so that
// ApplyDeliveryNotification finds it. ErrNotFound: no message was recorded with that tag.
// Linking twice is harmless.
func (s *Store) LinkSES(ctx context.Context, tag, sesMessageID string) error {
	ref, err := s.FindSent(ctx, sendTagKey(tag))
	if err != nil {
		return err
	}
	link := sesItem{
		keys:    keys{PK: sesPK(sesMessageID), SK: skSES},
		InboxID: ref.InboxID, MessageID: ref.MessageID, ThreadID: ref.ThreadID, OrgID: ref.OrgID, PodID: ref.PodID,
	}
	av, err := marshal(link)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: av}},
		{Update: &types.Update{
			TableName: aws.String(s.table), Key: key(inboxPK(ref.InboxID), messageSK(ref.MessageID)),
			UpdateExpression:          aws.String("SET ses_message_id = :id"),
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": strAV(sesMessageID)},
		}},
	}})
	if slices.Contains(cancelReasons(err), "ConditionalCheckFailed") {
		return fmt.Errorf("store: message %s of %s: %w", ref.MessageID, ref.InboxID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: link SES message %s: %w", sesMessageID, err)
	}
	return nil
}
