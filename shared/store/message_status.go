package store

import (
	"context"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// statusWord is what a status filter may hold: it becomes part of an expression placeholder.
var statusWord = regexp.MustCompile(`^[a-z]{1,32}$`)

// ListMessagesWithStatus lists an inbox's sent messages whose delivery status is status (the
// REST `status`, kept in the item as delivery.status), as ListMessages does otherwise. Like
// the label filters, the status filter applies after DynamoDB reads items; queryPage reads on
// until the page is full or the list ends.
//
// The status is written into the filter's placeholder name as well as its value, so that a
// page token, which is bound to the filter text, cannot be replayed with another status.
func (s *Store) ListMessagesWithStatus(ctx context.Context, inboxID, status string, pg Page) ([]wire.MessageItem, string, error) {
	if !statusWord.MatchString(status) {
		return nil, "", fmt.Errorf("store: %q is not a message status", status)
	}
	placeholder := ":fst_" + status
	items, next, err := s.queryPage(ctx, listQuery{
		index: indexGSI1, pkName: attrGSI1PK, skName: attrGSI1SK, pk: inboxMsgsPK(NormalizeAddress(inboxID)),
		filter:       "#fdlv.#fdst = " + placeholder,
		filterNames:  map[string]string{"#fdlv": "delivery", "#fdst": "status"},
		filterValues: map[string]types.AttributeValue{placeholder: strAV(status)},
	}, pg)
	if err != nil {
		return nil, "", err
	}
	out := make([]wire.MessageItem, 0, len(items))
	for _, item := range items {
		var it messageItem
		if err := unmarshal(item, &it); err != nil {
			return nil, "", err
		}
		it.fillStatus()
		out = append(out, it.Message.Item())
	}
	return out, next, nil
}
