package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Label events are the inbox's label audit log: event items like the
// others (EVT#<event_id>, listed under INBOX#<inbox>#EVTS, kept for the event retention) whose
// event_type is label.added or label.removed and whose event attribute is the wire.InboxEvent
// as JSON. The stream hands them to fanout too, which pushes only §7.1 types and skips them.

// labelEventPut is the transaction action that records a label change of a message, to be
// written in the same transaction as the change itself.
func (s *Store) labelEventPut(orgID, podID, inboxID, messageID, label string, added bool, at time.Time) (types.TransactWriteItem, error) {
	now := wire.UTC(s.now())
	ev := wire.InboxEvent{
		OrganizationID: orgID, PodID: podID, InboxID: inboxID, EventID: NewEventID(), EventType: wire.EventLabelRemoved,
		MessageID: messageID, Label: label, EventAt: wire.UTC(at), CreatedAt: now,
	}
	if added {
		ev.EventType = wire.EventLabelAdded
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("store: encode label event: %w", err)
	}
	rec := EventRecord{EventID: ev.EventID, EventType: ev.EventType, OrgID: orgID, PodID: podID, InboxID: inboxID, CreatedAt: now}
	item, err := marshal(eventItem{
		keys:        keys{PK: eventPK(rec.EventID), SK: skEvent, GSI1PK: inboxEventsPK(inboxID), GSI1SK: timeID(now, rec.EventID)},
		EventRecord: rec,
		Event:       string(payload),
		TTL:         now.Add(s.eventRetention).Unix(),
	})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}, nil
}

// LabelEvents lists the inbox's unexpired label events, newest first unless pg.Ascending.
// Filtered pages can come back short (see Page).
func (s *Store) LabelEvents(ctx context.Context, inboxID string, pg Page) ([]wire.InboxEvent, string, error) {
	items, next, err := s.queryPage(ctx, listQuery{
		index: indexGSI1, pkName: attrGSI1PK, skName: attrGSI1SK, pk: inboxEventsPK(NormalizeAddress(inboxID)),
		filter:      "#fttl > :fnow AND #ftype IN (:fadded, :fremoved)",
		filterNames: map[string]string{"#fttl": attrTTL, "#ftype": "event_type"},
		filterValues: map[string]types.AttributeValue{
			":fnow": epochAV(s.now().Unix()), ":fadded": strAV(wire.EventLabelAdded), ":fremoved": strAV(wire.EventLabelRemoved),
		},
	}, pg)
	if err != nil {
		return nil, "", err
	}
	out := make([]wire.InboxEvent, 0, len(items))
	for _, item := range items {
		rec, err := DecodeEvent(item)
		if err != nil {
			return nil, "", err
		}
		var ev wire.InboxEvent
		if err := json.Unmarshal(rec.Payload, &ev); err != nil {
			return nil, "", fmt.Errorf("store: decode label event %s: %w", rec.EventID, err)
		}
		out = append(out, ev)
	}
	return out, next, nil
}
