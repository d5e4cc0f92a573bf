package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// FanoutMarkerTTL is how long fanout remembers whom it served an event to: longer than a
// stream record can be redelivered (24 hours of stream retention).
const FanoutMarkerTTL = 48 * time.Hour

// Fanout progress: one item per event, FANOUT#<event_id>, holding the string sets of the
// connections that got the event's frame and of the webhooks its deliveries were enqueued
// for. A stream batch delivered again skips both, so each connection sees a frame once and
// each webhook gets one queued delivery per event.
//
// About 20,000 connection ids fit the 400 KB item; past that, recording fails and a redelivery
// of the event would post to the connections again.

// FanoutDone is what earlier runs recorded for an event: connection and webhook ids served.
type FanoutDone struct {
	Connections map[string]bool
	Webhooks    map[string]bool
}

type fanoutItem struct {
	keys
	Connections []string `json:"connections,omitempty,stringset"`
	Webhooks    []string `json:"webhooks,omitempty,stringset"`
}

const skFanout = "FANOUT"

func fanoutPK(eventID string) string { return "FANOUT#" + eventID }

// FanoutProgress reads what earlier runs recorded for eventID (nothing, for a new event).
func (s *Store) FanoutProgress(ctx context.Context, eventID string) (FanoutDone, error) {
	all, err := s.FanoutProgressOf(ctx, []string{eventID})
	if err != nil {
		return FanoutDone{}, err
	}
	if done, ok := all[eventID]; ok {
		return done, nil
	}
	return FanoutDone{Connections: map[string]bool{}, Webhooks: map[string]bool{}}, nil
}

// FanoutProgressOf is FanoutProgress for many events at once (batch reads of 100): what a
// stream batch needs before it serves its first record. Events never served are absent.
func (s *Store) FanoutProgressOf(ctx context.Context, eventIDs []string) (map[string]FanoutDone, error) {
	out := make(map[string]FanoutDone, len(eventIDs))
	seen := map[string]bool{}
	var ks []map[string]types.AttributeValue
	for _, id := range eventIDs {
		if !seen[id] {
			seen[id] = true
			ks = append(ks, key(fanoutPK(id), skFanout))
		}
	}
	for len(ks) > 0 {
		n := min(100, len(ks))
		items, err := s.batchGet(ctx, ks[:n])
		if err != nil {
			return nil, fmt.Errorf("store: fanout progress: %w", err)
		}
		ks = ks[n:]
		for _, av := range items {
			var it fanoutItem
			if err := unmarshal(av, &it); err != nil {
				return nil, err
			}
			done := FanoutDone{Connections: map[string]bool{}, Webhooks: map[string]bool{}}
			for _, id := range it.Connections {
				done.Connections[id] = true
			}
			for _, id := range it.Webhooks {
				done.Webhooks[id] = true
			}
			out[strings.TrimPrefix(it.PK, "FANOUT#")] = done
		}
	}
	return out, nil
}

// RecordFanout adds connection and webhook ids to what eventID was served to.
func (s *Store) RecordFanout(ctx context.Context, eventID string, connections, webhooks []string) error {
	if len(connections) == 0 && len(webhooks) == 0 {
		return nil
	}
	expr := "SET #ttl = :ttl ADD"
	values := map[string]types.AttributeValue{":ttl": epochAV(s.now().Add(FanoutMarkerTTL).Unix())}
	names := map[string]string{"#ttl": attrTTL}
	sep := " "
	if len(connections) > 0 {
		expr += sep + "#c :c"
		names["#c"], values[":c"] = "connections", &types.AttributeValueMemberSS{Value: connections}
		sep = ", "
	}
	if len(webhooks) > 0 {
		expr += sep + "#w :w"
		names["#w"], values[":w"] = "webhooks", &types.AttributeValueMemberSS{Value: webhooks}
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(fanoutPK(eventID), skFanout),
		UpdateExpression: aws.String(expr), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	})
	if err != nil {
		return fmt.Errorf("store: record fanout of %s: %w", eventID, err)
	}
	return nil
}
