package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pigeon-mail/pigeon/shared/events"
)

// ConnectionTTL is how long a connection's items live: API Gateway closes WebSocket
// connections after 2 hours, and $disconnect is best effort (aws-facts.md §6), so items of
// connections that vanished without one expire shortly after.
const ConnectionTTL = 2*time.Hour + 10*time.Minute

// Connection is a WebSocket connection as the ws function records it at $connect: the API
// key it authenticated with and that key's scope, and the subscription it made last (nil
// before its first accepted subscribe).
type Connection struct {
	ConnectionID string               `json:"connection_id"`
	APIKeyID     string               `json:"api_key_id"`
	OrgID        string               `json:"organization_id"`
	PodID        string               `json:"pod_id,omitempty"`
	InboxID      string               `json:"inbox_id,omitempty"`
	ConnectedAt  time.Time            `json:"connected_at"`
	Subscription *events.Subscription `json:"-"`
}

type connectionItem struct {
	keys
	Connection
	Sub *subscriptionAttr `json:"subscription,omitempty"`
	TTL int64             `json:"ttl"`
}

const skConnection = "CONN"

func connectionPK(id string) string { return "CONN#" + id }

func (it connectionItem) connection() Connection {
	c := it.Connection
	if it.Sub != nil {
		sub := it.Sub.subscription()
		c.Subscription = &sub
	}
	return c
}

// PutConnection records a new connection (or replaces one with the same id, as a repeated
// $connect would), without a subscription.
func (s *Store) PutConnection(ctx context.Context, c Connection) error {
	if c.ConnectionID == "" || c.OrgID == "" || c.APIKeyID == "" {
		return errors.New("store: a connection needs an id, an organisation and an API key")
	}
	if c.ConnectedAt.IsZero() {
		c.ConnectedAt = s.now()
	}
	c.ConnectedAt = c.ConnectedAt.UTC()
	c.Subscription = nil
	item, err := marshal(connectionItem{
		keys: keys{PK: connectionPK(c.ConnectionID), SK: skConnection}, Connection: c,
		TTL: c.ConnectedAt.Add(ConnectionTTL).Unix(),
	})
	if err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("store: put connection %s: %w", c.ConnectionID, err)
	}
	return nil
}

// GetConnection reads a connection; ErrNotFound when it is unknown or expired.
func (s *Store) GetConnection(ctx context.Context, id string) (Connection, error) {
	it, err := s.connectionItem(ctx, id)
	if err != nil {
		return Connection{}, err
	}
	return it.connection(), nil
}

func (s *Store) connectionItem(ctx context.Context, id string) (connectionItem, error) {
	var it connectionItem
	if err := s.getItem(ctx, connectionPK(id), skConnection, &it); err != nil {
		return connectionItem{}, err
	}
	if it.TTL <= s.now().Unix() {
		return connectionItem{}, ErrNotFound
	}
	return it, nil
}

// SetSubscription replaces the connection's subscription as a whole. The connection item is
// written first, then the index entries of the new subscription, then those of the old one
// that the new one no longer names are removed. For the moment between the steps fanout may
// still see an old entry (its filters are the old subscription's) — a frame or two the client
// stopped asking for, never one it asked for and missed once the call returns.
// ErrNotFound: the connection is gone.
func (s *Store) SetSubscription(ctx context.Context, connectionID string, sub events.Subscription) error {
	it, err := s.connectionItem(ctx, connectionID)
	if err != nil {
		return err
	}
	var old []Target
	if it.Sub != nil {
		old = subscriptionTargets(it.Sub.subscription())
	}
	attr := subAttr(sub)
	it.Sub = &attr
	it.Subscription = nil
	item, err := marshal(it)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_exists(pk)"),
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("connection %s: %w", connectionID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: subscribe %s: %w", connectionID, err)
	}

	targets := subscriptionTargets(sub)
	var reqs []types.WriteRequest
	for _, t := range targets {
		av, err := marshal(subIndexItem{
			keys: subIndexKeys(connectionPK(connectionID), connectionPK(connectionID), t),
			Kind: subKindConnection, ConnectionID: connectionID, APIKeyID: it.APIKeyID, Sub: attr, TTL: it.TTL,
		})
		if err != nil {
			return err
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		return err
	}
	reqs = reqs[:0]
	for _, t := range old {
		if !slices.Contains(targets, t) {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(connectionPK(connectionID), t.key())}})
		}
	}
	return s.batchWrite(ctx, reqs)
}

// DeleteConnection removes a connection and its subscription's index entries ($disconnect,
// a GoneException, a deleted API key). Deleting an unknown connection is not an error.
func (s *Store) DeleteConnection(ctx context.Context, connectionID string) error {
	keys, err := s.partition(ctx, connectionPK(connectionID))
	if err != nil {
		return err
	}
	reqs := make([]types.WriteRequest, 0, len(keys))
	for _, k := range keys {
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
	}
	return s.batchWrite(ctx, reqs)
}
