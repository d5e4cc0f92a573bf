package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// APIKey is a bearer key as stored. The secret itself is never stored: Hash is the hex
// SHA-256 of it and Prefix its first characters, shown to users to tell keys apart.
// Exactly one scope applies: InboxID when set, else PodID, else the whole organisation.
type APIKey struct {
	APIKeyID    string          `json:"api_key_id"`
	Name        string          `json:"name"`
	Prefix      string          `json:"prefix"`
	Hash        string          `json:"hash"`
	OrgID       string          `json:"organization_id"`
	PodID       string          `json:"pod_id,omitempty"`
	InboxID     string          `json:"inbox_id,omitempty"`
	Permissions map[string]bool `json:"permissions"` // nil = every permission
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	UsedAt      *time.Time      `json:"used_at,omitempty"`
}

type apiKeyItem struct {
	keys
	APIKey
	// Restricted tells an empty permission set (no permission) from none (every permission),
	// since empty maps are not stored.
	Restricted bool `json:"restricted,omitempty"`
}

func (it apiKeyItem) key() APIKey {
	k := it.APIKey
	if it.Restricted && k.Permissions == nil {
		k.Permissions = map[string]bool{}
	}
	return k
}

func (k APIKey) items() (main, byHash apiKeyItem) {
	main = apiKeyItem{keys: keys{
		PK: apiKeyPK(k.APIKeyID), SK: skAPIKey,
		GSI1PK: orgKeysPK(k.OrgID), GSI1SK: timeID(k.CreatedAt, k.APIKeyID),
	}, APIKey: k, Restricted: k.Permissions != nil}
	if scope := k.scope(); scope != "" {
		main.GSI2PK, main.GSI2SK = scopeKeysPK(scope), timeID(k.CreatedAt, k.APIKeyID)
	}
	if k.PodID != "" {
		main.GSI3PK, main.GSI3SK = podKeysPK(k.PodID), timeID(k.CreatedAt, k.APIKeyID)
	}
	byHash = apiKeyItem{keys: keys{PK: keyHashPK(k.Hash), SK: skKeyHash}, APIKey: k, Restricted: main.Restricted}
	return main, byHash
}

// scope is the GSI2 scope of a key: "inbox:<id>", "pod:<id>" or "" for organisation keys.
func (k APIKey) scope() string {
	switch {
	case k.InboxID != "":
		return "inbox:" + k.InboxID
	case k.PodID != "":
		return "pod:" + k.PodID
	}
	return ""
}

// PutAPIKey creates the key, or replaces the key with the same APIKeyID, and its by-hash copy
// in one transaction. A replaced key whose hash changed loses its old by-hash copy.
func (s *Store) PutAPIKey(ctx context.Context, k APIKey) error {
	if k.APIKeyID == "" || k.Hash == "" || k.OrgID == "" {
		return fmt.Errorf("store: api key needs an id, a hash and an organisation")
	}
	now := s.now()
	if k.CreatedAt.IsZero() {
		k.CreatedAt = now
	}
	if k.UpdatedAt.IsZero() {
		k.UpdatedAt = now
	}
	k.CreatedAt, k.UpdatedAt = k.CreatedAt.UTC(), k.UpdatedAt.UTC()
	var old APIKey
	switch err := s.getItem(ctx, apiKeyPK(k.APIKeyID), skAPIKey, &old); {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return err
	}
	main, byHash := k.items()
	mainAV, err := marshal(main)
	if err != nil {
		return err
	}
	hashAV, err := marshal(byHash)
	if err != nil {
		return err
	}
	tx := []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: mainAV}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: hashAV}},
	}
	if old.Hash != "" && old.Hash != k.Hash {
		tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(keyHashPK(old.Hash), skKeyHash)}})
	}
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx}); err != nil {
		return fmt.Errorf("store: put api key %s: %w", k.APIKeyID, err)
	}
	return nil
}

// APIKeyByHash finds a key by the hex SHA-256 of its secret (a strongly consistent read, so
// a key works the moment it is created).
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (APIKey, error) {
	var it apiKeyItem
	if err := s.getItem(ctx, keyHashPK(hash), skKeyHash, &it); err != nil {
		return APIKey{}, err
	}
	return it.key(), nil
}

// GetAPIKey reads a key by id.
func (s *Store) GetAPIKey(ctx context.Context, apiKeyID string) (APIKey, error) {
	var it apiKeyItem
	if err := s.getItem(ctx, apiKeyPK(apiKeyID), skAPIKey, &it); err != nil {
		return APIKey{}, err
	}
	return it.key(), nil
}

// ListAPIKeys lists the keys of the organisation (podID and inboxID empty), of a pod or of
// an inbox, newest first unless pg.Ascending. Each list includes the keys of narrower scopes:
// the organisation's has every key, a pod's has the pod's keys and those of its inboxes. Each
// list is one partition (gsi1, gsi3 or gsi2), so a page never reads another scope's keys.
func (s *Store) ListAPIKeys(ctx context.Context, orgID, podID, inboxID string, pg Page) ([]APIKey, string, error) {
	q := listQuery{index: indexGSI1, pkName: attrGSI1PK, skName: attrGSI1SK, pk: orgKeysPK(orgID)}
	switch {
	case inboxID != "":
		q = listQuery{index: indexGSI2, pkName: attrGSI2PK, skName: attrGSI2SK, pk: scopeKeysPK((APIKey{InboxID: inboxID}).scope())}
	case podID != "":
		q = listQuery{index: indexGSI3, pkName: attrGSI3PK, skName: attrGSI3SK, pk: podKeysPK(podID)}
	}
	items, next, err := s.queryPage(ctx, q, pg)
	if err != nil {
		return nil, "", err
	}
	out := make([]APIKey, 0, len(items))
	for _, item := range items {
		var it apiKeyItem
		if err := unmarshal(item, &it); err != nil {
			return nil, "", err
		}
		out = append(out, it.key())
	}
	return out, next, nil
}

// DeleteAPIKey removes a key and its by-hash copy.
func (s *Store) DeleteAPIKey(ctx context.Context, apiKeyID string) error {
	k, err := s.GetAPIKey(ctx, apiKeyID)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(apiKeyPK(k.APIKeyID), skAPIKey)}},
		{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(keyHashPK(k.Hash), skKeyHash)}},
	}})
	if err != nil {
		return fmt.Errorf("store: delete api key %s: %w", apiKeyID, err)
	}
	return nil
}

// TouchAPIKey records that the key was used at t (best effort; both copies, no transaction:
// used_at is informational).
func (s *Store) TouchAPIKey(ctx context.Context, k APIKey, t time.Time) error {
	for _, kk := range []map[string]types.AttributeValue{key(apiKeyPK(k.APIKeyID), skAPIKey), key(keyHashPK(k.Hash), skKeyHash)} {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(s.table),
			Key:                       kk,
			UpdateExpression:          aws.String("SET used_at = :t"),
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": strAV(t.UTC().Format(time.RFC3339Nano))},
		})
		var ccf *types.ConditionalCheckFailedException
		if err != nil && !errors.As(err, &ccf) {
			return fmt.Errorf("store: touch api key %s: %w", k.APIKeyID, err)
		}
	}
	return nil
}
