package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pigeon-mail/pigeon/shared/blob"
)

// Errors callers compare with errors.Is.
var (
	ErrNotFound     = errors.New("store: not found")
	ErrTaken        = errors.New("store: address or name already taken")
	ErrBadPageToken = errors.New("store: invalid page token")
	ErrConflict     = errors.New("store: conflicting concurrent change")
)

// DefaultEventRetention is how long event items live when no WithEventRetention is given.
const DefaultEventRetention = 30 * 24 * time.Hour

// Store is Pigeon's data: the DynamoDB table (items as laid out in the package comment) and,
// through package blob, the S3 objects that do not fit in it.
type Store struct {
	db             *dynamodb.Client
	blobs          *blob.Store
	table          string
	pageTokens     pageSealer
	eventRetention time.Duration
	now            func() time.Time
}

// Option changes a Store built by New.
type Option func(*Store)

// WithEventRetention sets how long event items live before DynamoDB's TTL removes them.
func WithEventRetention(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.eventRetention = d
		}
	}
}

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New returns a Store on table. tokenKey is the secret page tokens are sealed with (see
// pagetoken.go); it must be the same for every function of a deployment.
func New(db *dynamodb.Client, blobs *blob.Store, table string, tokenKey []byte, opts ...Option) *Store {
	s := &Store{db: db, blobs: blobs, table: table, pageTokens: newPageSealer(tokenKey), eventRetention: DefaultEventRetention, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Blobs is the blob store the Store keeps bodies and attachments in.
func (s *Store) Blobs() *blob.Store { return s.blobs }

// EnsureTable creates the table with its three GSIs when it does not exist (local stack and
// tests; the CDK stack creates it in AWS) and turns on TTL where the server supports it.
func (s *Store) EnsureTable(ctx context.Context) error {
	_, err := s.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
	if err == nil {
		return nil
	}
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		return fmt.Errorf("store: describe table %s: %w", s.table, err)
	}
	str := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	key := func(pk, sk string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(sk), KeyType: types.KeyTypeRange},
		}
	}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(s.table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			str(attrPK), str(attrSK), str(attrGSI1PK), str(attrGSI1SK), str(attrGSI2PK), str(attrGSI2SK), str(attrGSI3PK), str(attrGSI3SK),
		},
		KeySchema: key(attrPK, attrSK),
		StreamSpecification: &types.StreamSpecification{
			StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage,
		},
	}
	for _, g := range [][3]string{{indexGSI1, attrGSI1PK, attrGSI1SK}, {indexGSI2, attrGSI2PK, attrGSI2SK}, {indexGSI3, attrGSI3PK, attrGSI3SK}} {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:  aws.String(g[0]),
			KeySchema:  key(g[1], g[2]),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	if _, err := s.db.CreateTable(ctx, in); err != nil {
		var inUse *types.ResourceInUseException
		if errors.As(err, &inUse) {
			return nil
		}
		return fmt.Errorf("store: create table %s: %w", s.table, err)
	}
	// Readers filter on ttl as well: DynamoDB deletes expired items only eventually.
	if _, err := s.db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(s.table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attrTTL), Enabled: aws.Bool(true)},
	}); err != nil {
		return fmt.Errorf("store: enable TTL on %s: %w", s.table, err)
	}
	return nil
}

// marshal encodes v by its json tags, so wire structs persist under their wire names.
func marshal(v any) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMapWithOptions(v, func(o *attributevalue.EncoderOptions) { o.TagKey = "json" })
	if err != nil {
		return nil, fmt.Errorf("store: encode item: %w", err)
	}
	return item, nil
}

func unmarshal(item map[string]types.AttributeValue, v any) error {
	if err := attributevalue.UnmarshalMapWithOptions(item, v, func(o *attributevalue.DecoderOptions) { o.TagKey = "json" }); err != nil {
		return fmt.Errorf("store: decode item: %w", err)
	}
	return nil
}

func strAV(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: strAV(pk), attrSK: strAV(sk)}
}

// getItem reads one item by key with a strongly consistent read; ErrNotFound when absent.
func (s *Store) getItem(ctx context.Context, pk, sk string, v any) error {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(pk, sk), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("store: get %s %s: %w", pk, sk, err)
	}
	if out.Item == nil {
		return ErrNotFound
	}
	return unmarshal(out.Item, v)
}

// cancelReasons returns the cancellation codes of a cancelled transaction, one per action,
// or nil when err is not a cancellation.
func cancelReasons(err error) []string {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	codes := make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		codes[i] = aws.ToString(r.Code)
	}
	return codes
}

// conditionFailed reports whether action i of a cancelled transaction failed its condition.
func conditionFailed(reasons []string, i int) bool {
	return i < len(reasons) && reasons[i] == "ConditionalCheckFailed"
}
