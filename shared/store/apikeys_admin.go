package store

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// APIKeyUpdate is a change to a key's name and permissions; nil fields stay as they are.
// A non-nil Permissions replaces the whole set ({} grants nothing).
type APIKeyUpdate struct {
	Name        *string
	Permissions map[string]bool
}

// UpdateAPIKey changes a key and its by-hash copy in one transaction. Both writes require
// the items to exist, so an update racing a delete cannot bring the key back (ErrNotFound).
func (s *Store) UpdateAPIKey(ctx context.Context, apiKeyID string, u APIKeyUpdate) (APIKey, error) {
	k, err := s.GetAPIKey(ctx, apiKeyID)
	if err != nil {
		return APIKey{}, err
	}
	if u.Name != nil {
		k.Name = *u.Name
	}
	if u.Permissions != nil {
		k.Permissions = maps.Clone(u.Permissions)
	}
	prev := k.UpdatedAt
	if k.UpdatedAt = s.now().UTC(); !k.UpdatedAt.After(prev) {
		k.UpdatedAt = prev.Add(1)
	}
	main, byHash := k.items()
	mainAV, err := marshal(main)
	if err != nil {
		return APIKey{}, err
	}
	hashAV, err := marshal(byHash)
	if err != nil {
		return APIKey{}, err
	}
	exists := aws.String("attribute_exists(pk)")
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: mainAV, ConditionExpression: exists}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: hashAV, ConditionExpression: exists}},
	}})
	if reasons := cancelReasons(err); conditionFailed(reasons, 0) || conditionFailed(reasons, 1) {
		// Deleted meanwhile, or its secret was replaced (the bootstrap key's rotation).
		if _, err := s.GetAPIKey(ctx, apiKeyID); errors.Is(err, ErrNotFound) {
			return APIKey{}, err
		}
		return APIKey{}, fmt.Errorf("api key %s: %w", apiKeyID, ErrConflict)
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("store: update api key %s: %w", apiKeyID, err)
	}
	return k, nil
}

// DeleteAPIKeysOf deletes every key scoped to an inbox (inboxID set) or to a pod and its
// inboxes (podID set), so that a key does not outlive its scope: an inbox id is its address,
// and an inbox created later at the same address must not be reachable with the old keys.
func (s *Store) DeleteAPIKeysOf(ctx context.Context, orgID, podID, inboxID string) error {
	if podID == "" && inboxID == "" {
		return fmt.Errorf("store: delete api keys: no pod or inbox given")
	}
	pg := Page{Limit: MaxLimit}
	for {
		ks, next, err := s.ListAPIKeys(ctx, orgID, podID, inboxID, pg)
		if err != nil {
			return err
		}
		for _, k := range ks {
			if err := s.DeleteAPIKey(ctx, k.APIKeyID); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		if next == "" {
			return nil
		}
		pg.Token = next
	}
}
