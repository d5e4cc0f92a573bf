package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// clientItem remembers which resource a create request with a client_id made, so a repeat of
// that request returns the same resource (AgentMail's idempotent creates).
type clientItem struct {
	keys
	Target string `json:"target"`
}

func clientKind(kind, org, clientID string) keys {
	return keys{PK: clientPK(kind, org, clientID), SK: skClient}
}

// clientTarget returns the id recorded for a client_id, or "" when there is none.
func (s *Store) clientTarget(ctx context.Context, kind, org, clientID string) (string, error) {
	if clientID == "" {
		return "", nil
	}
	var it clientItem
	k := clientKind(kind, org, clientID)
	switch err := s.getItem(ctx, k.PK, k.SK, &it); err {
	case nil:
		return it.Target, nil
	case ErrNotFound:
		return "", nil
	default:
		return "", err
	}
}

// putClient is the transaction action that records clientID → target, failing when the
// client_id was already used.
func (s *Store) putClient(kind, org, clientID, target string) (types.TransactWriteItem, error) {
	item, err := marshal(clientItem{keys: clientKind(kind, org, clientID), Target: target})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}, nil
}

func (s *Store) deleteClient(kind, org, clientID string) types.TransactWriteItem {
	k := clientKind(kind, org, clientID)
	return types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(k.PK, k.SK)}}
}
