package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pigeon-mail/pigeon/shared/events"
)

// Subscription index. A WebSocket connection's subscription and a webhook's filters are
// indexed by where their events come from: one index item per inbox and per pod they name,
// or one for the whole organisation when they name neither (events.Subscription's rule). The
// items live in the owner's partition (CONN#<id> or WEBHOOK#<id>, sort key SUB#<target>) and
// in GSI1 under SUB#<target>, so fanout finds everyone who may want an event with at most
// three queries (its inbox, its pod, its organisation) and an owner's index items go with it
// in one query on its partition.

// Target is one place subscriptions are indexed under.
type Target struct {
	Kind string // "inbox", "pod" or "org"
	ID   string
}

// Targets are the index entries of an event: its inbox, its pod and its organisation (the
// ones that apply).
func Targets(ev events.Envelope) []Target {
	var ts []Target
	if ev.InboxID != "" {
		ts = append(ts, Target{Kind: "inbox", ID: ev.InboxID})
	}
	if ev.PodID != "" {
		ts = append(ts, Target{Kind: "pod", ID: ev.PodID})
	}
	return append(ts, Target{Kind: "org", ID: ev.OrgID})
}

func (t Target) key() string {
	switch t.Kind {
	case "inbox":
		return "SUB#INBOX#" + t.ID
	case "pod":
		return "SUB#POD#" + t.ID
	}
	return "SUB#ORG#" + t.ID
}

// subscriptionTargets are the index entries of a subscription.
func subscriptionTargets(sub events.Subscription) []Target {
	if len(sub.InboxIDs) == 0 && len(sub.PodIDs) == 0 {
		return []Target{{Kind: "org", ID: sub.OrgID}}
	}
	var ts []Target
	for _, id := range sub.InboxIDs {
		ts = append(ts, Target{Kind: "inbox", ID: id})
	}
	for _, id := range sub.PodIDs {
		ts = append(ts, Target{Kind: "pod", ID: id})
	}
	return ts
}

// subscriptionAttr is an events.Subscription as stored.
type subscriptionAttr struct {
	OrgID      string   `json:"organization_id"`
	InboxIDs   []string `json:"inbox_ids,omitempty"`
	PodIDs     []string `json:"pod_ids,omitempty"`
	EventTypes []string `json:"event_types,omitempty"`
}

func subAttr(s events.Subscription) subscriptionAttr {
	return subscriptionAttr{OrgID: s.OrgID, InboxIDs: s.InboxIDs, PodIDs: s.PodIDs, EventTypes: s.EventTypes}
}

func (a subscriptionAttr) subscription() events.Subscription {
	return events.Subscription{OrgID: a.OrgID, InboxIDs: a.InboxIDs, PodIDs: a.PodIDs, EventTypes: a.EventTypes}
}

// Kinds of index items.
const (
	subKindConnection = "connection"
	subKindWebhook    = "webhook"
)

// subIndexItem is one index entry. A connection's carries its API key (fanout checks the key
// still exists); a webhook's carries a copy of the whole webhook, rewritten with it in one
// transaction, so fanout needs no further read to enqueue a delivery.
type subIndexItem struct {
	keys
	Kind         string           `json:"kind"`
	ConnectionID string           `json:"connection_id,omitempty"`
	APIKeyID     string           `json:"api_key_id,omitempty"`
	Sub          subscriptionAttr `json:"subscription"`
	Webhook      *Webhook         `json:"webhook,omitempty"`
	TTL          int64            `json:"ttl,omitempty"`
}

func subIndexKeys(ownerPK, ownerSK string, t Target) keys {
	return keys{PK: ownerPK, SK: t.key(), GSI1PK: t.key(), GSI1SK: ownerSK}
}

// Subscriber is one connection or webhook found in the index.
type Subscriber struct {
	ConnectionID string   // a WebSocket connection, or
	Webhook      *Webhook // a webhook
	APIKeyID     string   // the key the connection authenticated with
	Subscription events.Subscription
}

// Subscribers lists the connections and webhooks indexed under t, unexpired. Whether each
// wants a given event is events.Matches' call. GSI reads are eventually consistent: a
// subscription made a moment ago may be missed.
func (s *Store) Subscribers(ctx context.Context, t Target) ([]Subscriber, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(indexGSI1),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		FilterExpression:          aws.String("attribute_not_exists(#ttl) OR #ttl > :now"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrGSI1PK, "#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": strAV(t.key()), ":now": epochAV(s.now().Unix())},
	}
	var out []Subscriber
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("store: subscribers of %s %s: %w", t.Kind, t.ID, err)
		}
		for _, item := range page.Items {
			var it subIndexItem
			if err := unmarshal(item, &it); err != nil {
				return nil, err
			}
			sub := Subscriber{Subscription: it.Sub.subscription()}
			switch it.Kind {
			case subKindConnection:
				sub.ConnectionID, sub.APIKeyID = it.ConnectionID, it.APIKeyID
			case subKindWebhook:
				if it.Webhook == nil {
					continue
				}
				sub.Webhook = it.Webhook
			default:
				continue
			}
			out = append(out, sub)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// InboxPod is events.Directory's lookup of an inbox's pod within an organisation.
func (s *Store) InboxPod(ctx context.Context, orgID, inboxID string) (string, bool, error) {
	in, err := s.GetInbox(ctx, inboxID)
	if errors.Is(err, ErrNotFound) || (err == nil && in.OrgID != orgID) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return in.PodID, true, nil
}

// PodExists is events.Directory's check that an organisation has a pod.
func (s *Store) PodExists(ctx context.Context, orgID, podID string) (bool, error) {
	_, err := s.GetPod(ctx, orgID, podID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

var _ events.Directory = (*Store)(nil)

// epochAV is a Number attribute of epoch seconds (ttl values and bounds).
func epochAV(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// batchWrite runs write requests 25 at a time, resubmitting what DynamoDB leaves unprocessed.
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for attempt := 0; len(reqs) > 0; attempt++ {
		if attempt > 0 {
			if attempt > 8 {
				return fmt.Errorf("store: batch write: %d requests left unprocessed", len(reqs))
			}
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return err
			}
		}
		n := min(25, len(reqs))
		out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{s.table: reqs[:n]}})
		if err != nil {
			return fmt.Errorf("store: batch write: %w", err)
		}
		reqs = append(reqs[n:], out.UnprocessedItems[s.table]...)
	}
	return nil
}

// partition returns the keys of every item whose pk is pk.
func (s *Store) partition(ctx context.Context, pk string) ([]map[string]types.AttributeValue, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ProjectionExpression:      aws.String("#pk, #sk"),
		ConsistentRead:            aws.Bool(true),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": strAV(pk)},
	}
	var keys []map[string]types.AttributeValue
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("store: read %s: %w", pk, err)
		}
		keys = append(keys, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return keys, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
