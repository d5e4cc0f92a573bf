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
// connections after 2 hours, and $disconnect is best effort, so items of
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

// orgConnectionsPK is the GSI1 partition listing an organisation's connections (sort key
// <connected_at>#<connection_id>).
func orgConnectionsPK(orgID string) string { return "ORG#" + orgID + "#CONNS" }

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
		keys: keys{
			PK: connectionPK(c.ConnectionID), SK: skConnection,
			GSI1PK: orgConnectionsPK(c.OrgID), GSI1SK: timeID(c.ConnectedAt, c.ConnectionID),
		},
		Connection: c,
		TTL:        c.ConnectedAt.Add(ConnectionTTL).Unix(),
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
// a GoneException, a deleted API key). Deleting an unknown connection is not an error. The
// index entries go first and the connection item last, so a delete cut short leaves the
// connection listed (ConnectionIDs) with whatever entries it still has.
func (s *Store) DeleteConnection(ctx context.Context, connectionID string) error {
	keys, err := s.partition(ctx, connectionPK(connectionID))
	if err != nil {
		return err
	}
	var entries, conn []types.WriteRequest
	for _, k := range keys {
		req := types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
		if sk, ok := k[attrSK].(*types.AttributeValueMemberS); ok && sk.Value == skConnection {
			conn = append(conn, req)
		} else {
			entries = append(entries, req)
		}
	}
	if err := s.batchWrite(ctx, entries); err != nil {
		return err
	}
	return s.batchWrite(ctx, conn)
}

// ConnectionIDs lists the ids of an organisation's recorded connections, expired ones
// included, oldest first (GSI1, so eventually consistent: one recorded a moment ago may be
// missing).
func (s *Store) ConnectionIDs(ctx context.Context, orgID string) ([]string, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(indexGSI1),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ProjectionExpression:      aws.String("connection_id"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrGSI1PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": strAV(orgConnectionsPK(orgID))},
	}
	var ids []string
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("store: connections of %s: %w", orgID, err)
		}
		for _, item := range page.Items {
			if id, ok := item["connection_id"].(*types.AttributeValueMemberS); ok && id.Value != "" {
				ids = append(ids, id.Value)
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return ids, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// DeleteConnections removes every connection of an organisation with its index entries, as
// DeleteConnection does, and reports how many it removed: for a WebSocket endpoint that knows
// none of its connections survived (it restarted; its sockets are gone).
func (s *Store) DeleteConnections(ctx context.Context, orgID string) (int, error) {
	ids, err := s.ConnectionIDs(ctx, orgID)
	if err != nil {
		return 0, err
	}
	for i, id := range ids {
		if err := s.DeleteConnection(ctx, id); err != nil {
			return i, err
		}
	}
	return len(ids), nil
}
