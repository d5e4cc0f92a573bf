package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/oklog/ulid/v2"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// EventRecord is an event item: the outbox entry written in the same transaction as the
// change it announces. The table's stream feeds these to fanout, which matches subscriptions
// by organisation, pod and inbox and posts Payload (a wire.Event, JSON) unchanged.
type EventRecord struct {
	EventID   string          `json:"event_id"`
	EventType string          `json:"event_type"`
	OrgID     string          `json:"organization_id"`
	PodID     string          `json:"pod_id"`
	InboxID   string          `json:"inbox_id"`
	CreatedAt time.Time       `json:"created_at"`
	Payload   json.RawMessage `json:"-"`
}

type eventItem struct {
	keys
	EventRecord
	Event string `json:"event"` // the wire.Event as JSON text
	TTL   int64  `json:"ttl"`   // epoch seconds; DynamoDB's TTL deletes the item after
}

// NewEventID returns a new event id, "evt_" and a lower-case ULID.
func NewEventID() string { return "evt_" + strings.ToLower(ulid.Make().String()) }

// eventPut is the transaction action that writes ev as an event item of rec's owners.
func (s *Store) eventPut(rec EventRecord, ev wire.Event) (types.TransactWriteItem, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("store: encode event: %w", err)
	}
	rec.EventID, rec.EventType = ev.EventID, ev.EventType
	item, err := marshal(eventItem{
		keys: keys{
			PK: eventPK(rec.EventID), SK: skEvent,
			GSI1PK: inboxEventsPK(rec.InboxID), GSI1SK: timeID(rec.CreatedAt, rec.EventID),
		},
		EventRecord: rec,
		Event:       string(payload),
		TTL:         rec.CreatedAt.Add(s.eventRetention).Unix(),
	})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}, nil
}

// DecodeEvent reads an event item (from GetItem, a query or a stream image converted to
// SDK attribute values).
func DecodeEvent(item map[string]types.AttributeValue) (EventRecord, error) {
	var it eventItem
	if err := unmarshal(item, &it); err != nil {
		return EventRecord{}, err
	}
	it.Payload = json.RawMessage(it.Event)
	return it.EventRecord, nil
}

// InboxEvents lists the unexpired event items of an inbox, newest first unless pg.Ascending.
func (s *Store) InboxEvents(ctx context.Context, inboxID string, pg Page) ([]EventRecord, string, error) {
	items, next, err := s.queryPage(ctx, listQuery{
		index: indexGSI1, pkName: attrGSI1PK, skName: attrGSI1SK, pk: inboxEventsPK(NormalizeAddress(inboxID)),
		filter:       "#fttl > :fnow",
		filterNames:  map[string]string{"#fttl": attrTTL},
		filterValues: map[string]types.AttributeValue{":fnow": &types.AttributeValueMemberN{Value: fmt.Sprint(s.now().Unix())}},
	}, pg)
	if err != nil {
		return nil, "", err
	}
	out := make([]EventRecord, 0, len(items))
	for _, item := range items {
		rec, err := DecodeEvent(item)
		if err != nil {
			return nil, "", err
		}
		out = append(out, rec)
	}
	return out, next, nil
}
