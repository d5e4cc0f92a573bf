package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/oklog/ulid/v2"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// DefaultPodID is the pod that inboxes created without one join.
const DefaultPodID = "default"

const clientKindPod = "pod"

type podItem struct {
	keys
	wire.Pod
	OrgID string `json:"organization_id"`
}

// CreatePod creates a pod (a new "pod_<ulid>" id unless p.PodID is set). With a client_id
// already used for a pod of this organisation it returns that pod and false instead.
// ErrTaken: p.PodID exists.
func (s *Store) CreatePod(ctx context.Context, orgID string, p wire.Pod) (wire.Pod, bool, error) {
	if target, err := s.clientTarget(ctx, clientKindPod, orgID, p.ClientID); err != nil {
		return wire.Pod{}, false, err
	} else if target != "" {
		existing, err := s.GetPod(ctx, orgID, target)
		return existing, false, err
	}
	if p.PodID == "" {
		p.PodID = "pod_" + strings.ToLower(ulid.Make().String())
	}
	now := wire.UTC(s.now())
	p.CreatedAt, p.UpdatedAt = now, now
	item, err := marshal(podItem{keys: keys{
		PK: podPK(p.PodID), SK: skPod, GSI1PK: orgPodsPK(orgID), GSI1SK: timeID(now, p.PodID),
	}, Pod: p, OrgID: orgID})
	if err != nil {
		return wire.Pod{}, false, err
	}
	tx := []types.TransactWriteItem{{Put: &types.Put{
		TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}}
	if p.ClientID != "" {
		c, err := s.putClient(clientKindPod, orgID, p.ClientID, p.PodID)
		if err != nil {
			return wire.Pod{}, false, err
		}
		tx = append(tx, c)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	if reasons := cancelReasons(err); conditionFailed(reasons, 1) {
		return s.CreatePod(ctx, orgID, p) // a concurrent create with the same client_id won
	} else if conditionFailed(reasons, 0) {
		return wire.Pod{}, false, fmt.Errorf("pod %s: %w", p.PodID, ErrTaken)
	} else if err != nil {
		return wire.Pod{}, false, fmt.Errorf("store: create pod: %w", err)
	}
	return p, true, nil
}

// GetPod reads a pod of the organisation.
func (s *Store) GetPod(ctx context.Context, orgID, podID string) (wire.Pod, error) {
	var it podItem
	if err := s.getItem(ctx, podPK(podID), skPod, &it); err != nil {
		return wire.Pod{}, err
	}
	if it.OrgID != orgID {
		return wire.Pod{}, ErrNotFound
	}
	return it.Pod, nil
}

// ListPods lists the organisation's pods, newest first unless pg.Ascending.
func (s *Store) ListPods(ctx context.Context, orgID string, pg Page) ([]wire.Pod, string, error) {
	items, next, err := s.queryPage(ctx, listQuery{index: indexGSI1, pkName: attrGSI1PK, skName: attrGSI1SK, pk: orgPodsPK(orgID)}, pg)
	if err != nil {
		return nil, "", err
	}
	out := make([]wire.Pod, 0, len(items))
	for _, item := range items {
		var it podItem
		if err := unmarshal(item, &it); err != nil {
			return nil, "", err
		}
		out = append(out, it.Pod)
	}
	return out, next, nil
}

// EnsureDefaultPod returns the organisation's default pod, creating it on first use.
func (s *Store) EnsureDefaultPod(ctx context.Context, orgID string) (wire.Pod, error) {
	p, err := s.GetPod(ctx, orgID, DefaultPodID)
	if !errors.Is(err, ErrNotFound) {
		return p, err
	}
	p, _, err = s.CreatePod(ctx, orgID, wire.Pod{PodID: DefaultPodID, Name: "Default"})
	if errors.Is(err, ErrTaken) {
		return s.GetPod(ctx, orgID, DefaultPodID)
	}
	return p, err
}

// DeletePod deletes an empty pod. ErrConflict: the pod still has inboxes.
func (s *Store) DeletePod(ctx context.Context, orgID, podID string) error {
	p, err := s.GetPod(ctx, orgID, podID)
	if err != nil {
		return err
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(indexGSI2), Limit: aws.Int32(1),
		KeyConditionExpression:    aws.String("gsi2pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": strAV(podInboxesPK(podID))},
	})
	if err != nil {
		return fmt.Errorf("store: delete pod %s: %w", podID, err)
	}
	if len(out.Items) > 0 {
		return fmt.Errorf("pod %s has inboxes: %w", podID, ErrConflict)
	}
	tx := []types.TransactWriteItem{{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(podPK(podID), skPod)}}}
	if p.ClientID != "" {
		tx = append(tx, s.deleteClient(clientKindPod, orgID, p.ClientID))
	}
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx}); err != nil {
		return fmt.Errorf("store: delete pod %s: %w", podID, err)
	}
	return nil
}
