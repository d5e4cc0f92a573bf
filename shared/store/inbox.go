package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

const clientKindInbox = "inbox"

// InboxRecord is an inbox with the organisation that owns it.
type InboxRecord struct {
	wire.Inbox
	OrgID string `json:"organization_id"`
}

type inboxItem struct {
	keys
	InboxRecord
	// Deleting marks an inbox whose removal has started: it is invisible to reads and lists
	// and refuses deliveries, while its messages and threads are being swept.
	Deleting bool `json:"deleting,omitempty"`
}

// InboxUpdate is a PATCH of an inbox. Metadata entries are merged: a nil value removes the
// key. ClearMetadata drops all metadata first (the request's "metadata": null).
type InboxUpdate struct {
	DisplayName   *string
	Delivery      *string // wire.DeliveryEmail or wire.DeliveryDryRun
	Metadata      map[string]any
	ClearMetadata bool
}

// NormalizeAddress is the inbox id of an address: the address lower-cased.
func NormalizeAddress(addr string) string { return strings.ToLower(strings.TrimSpace(addr)) }

// CreateInbox creates an inbox whose id is its lower-cased email address (in.Email, or
// in.InboxID when Email is empty), in pod in.PodID (the default pod when empty; ErrNotFound
// when the pod does not exist). A client_id already used for an inbox of the organisation
// returns that inbox and false; otherwise an existing address is ErrTaken.
func (s *Store) CreateInbox(ctx context.Context, orgID string, in wire.Inbox) (wire.Inbox, bool, error) {
	if target, err := s.clientTarget(ctx, clientKindInbox, orgID, in.ClientID); err != nil {
		return wire.Inbox{}, false, err
	} else if target != "" {
		existing, err := s.GetInbox(ctx, target)
		return existing.Inbox, false, err
	}
	addr := in.Email
	if addr == "" {
		addr = in.InboxID
	}
	addr = NormalizeAddress(addr)
	if addr == "" || !strings.Contains(addr, "@") {
		return wire.Inbox{}, false, fmt.Errorf("store: inbox address %q is not an email address", addr)
	}
	in.InboxID, in.Email = addr, addr
	if in.PodID == "" {
		if _, err := s.EnsureDefaultPod(ctx, orgID); err != nil {
			return wire.Inbox{}, false, err
		}
		in.PodID = DefaultPodID
	}
	now := wire.UTC(s.now())
	in.CreatedAt, in.UpdatedAt = now, now
	item, err := marshal(inboxItem{keys: inboxKeys(in, orgID), InboxRecord: InboxRecord{Inbox: in, OrgID: orgID}})
	if err != nil {
		return wire.Inbox{}, false, err
	}
	tx := []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String(s.table), Key: key(podPK(in.PodID), skPod),
			ConditionExpression:       aws.String("attribute_exists(pk) AND organization_id = :org"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":org": strAV(orgID)},
		}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}
	if in.ClientID != "" {
		c, err := s.putClient(clientKindInbox, orgID, in.ClientID, in.InboxID)
		if err != nil {
			return wire.Inbox{}, false, err
		}
		tx = append(tx, c)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	reasons := cancelReasons(err)
	switch {
	case conditionFailed(reasons, 2):
		return s.CreateInbox(ctx, orgID, in) // a concurrent create with the same client_id won
	case conditionFailed(reasons, 1):
		return wire.Inbox{}, false, fmt.Errorf("inbox %s: %w", addr, ErrTaken)
	case conditionFailed(reasons, 0):
		return wire.Inbox{}, false, fmt.Errorf("pod %s: %w", in.PodID, ErrNotFound)
	case err != nil:
		return wire.Inbox{}, false, fmt.Errorf("store: create inbox %s: %w", addr, err)
	}
	return in, true, nil
}

func inboxKeys(in wire.Inbox, orgID string) keys {
	return keys{
		PK: inboxPK(in.InboxID), SK: skInbox,
		GSI1PK: orgInboxesPK(orgID), GSI1SK: timeID(in.CreatedAt, in.InboxID),
		GSI2PK: podInboxesPK(in.PodID), GSI2SK: timeID(in.CreatedAt, in.InboxID),
	}
}

// GetInbox reads an inbox by id (its address; matched case-insensitively).
func (s *Store) GetInbox(ctx context.Context, inboxID string) (InboxRecord, error) {
	it, err := s.inboxItem(ctx, inboxID)
	if err != nil {
		return InboxRecord{}, err
	}
	if it.Deleting {
		return InboxRecord{}, ErrNotFound
	}
	return it.InboxRecord, nil
}

// DeletingInbox returns an inbox whose deletion started and did not finish (GetInbox hides it),
// so that a retried delete can resume it; ErrNotFound for any other inbox.
func (s *Store) DeletingInbox(ctx context.Context, inboxID string) (InboxRecord, error) {
	it, err := s.inboxItem(ctx, inboxID)
	if err != nil {
		return InboxRecord{}, err
	}
	if !it.Deleting {
		return InboxRecord{}, ErrNotFound
	}
	return it.InboxRecord, nil
}

func (s *Store) inboxItem(ctx context.Context, inboxID string) (inboxItem, error) {
	var it inboxItem
	err := s.getItem(ctx, inboxPK(NormalizeAddress(inboxID)), skInbox, &it)
	return it, err
}

var notDeleting = listQuery{filter: "attribute_not_exists(#fdel)", filterNames: map[string]string{"#fdel": "deleting"}}

// ListInboxes lists the inboxes of the organisation (podID "") or of one pod, newest first
// unless pg.Ascending.
func (s *Store) ListInboxes(ctx context.Context, orgID, podID string, pg Page) ([]wire.Inbox, string, error) {
	q := notDeleting
	if podID == "" {
		q.index, q.pkName, q.skName, q.pk = indexGSI1, attrGSI1PK, attrGSI1SK, orgInboxesPK(orgID)
	} else {
		q.index, q.pkName, q.skName, q.pk = indexGSI2, attrGSI2PK, attrGSI2SK, podInboxesPK(podID)
	}
	items, next, err := s.queryPage(ctx, q, pg)
	if err != nil {
		return nil, "", err
	}
	out := make([]wire.Inbox, 0, len(items))
	for _, item := range items {
		var it inboxItem
		if err := unmarshal(item, &it); err != nil {
			return nil, "", err
		}
		if it.OrgID == orgID {
			out = append(out, it.Inbox)
		}
	}
	return out, next, nil
}

// UpdateInbox changes an inbox's display name and metadata (a read-modify-write guarded by
// updated_at, retried on a concurrent change).
func (s *Store) UpdateInbox(ctx context.Context, inboxID string, u InboxUpdate) (wire.Inbox, error) {
	for range 5 {
		it, err := s.inboxItem(ctx, inboxID)
		if err != nil {
			return wire.Inbox{}, err
		}
		if it.Deleting {
			return wire.Inbox{}, ErrNotFound
		}
		prev := it.UpdatedAt
		in := &it.Inbox
		if u.DisplayName != nil {
			in.DisplayName = *u.DisplayName
		}
		if u.Delivery != nil {
			in.Delivery = *u.Delivery
		}
		if u.ClearMetadata {
			in.Metadata = nil
		}
		if len(u.Metadata) > 0 {
			md := maps.Clone(in.Metadata)
			if md == nil {
				md = map[string]any{}
			}
			for k, v := range u.Metadata {
				if v == nil {
					delete(md, k)
				} else {
					md[k] = v
				}
			}
			in.Metadata = md
		}
		if len(in.Metadata) == 0 {
			in.Metadata = nil
		}
		in.UpdatedAt = wire.UTC(s.now())
		if !in.UpdatedAt.After(prev) {
			in.UpdatedAt = prev.Add(time.Millisecond)
		}
		item, err := marshal(it)
		if err != nil {
			return wire.Inbox{}, err
		}
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.table), Item: item,
			ConditionExpression:       aws.String("updated_at = :prev AND attribute_not_exists(deleting)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":prev": strAV(prev.UTC().Format(time.RFC3339Nano))},
		})
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			continue
		}
		if err != nil {
			return wire.Inbox{}, fmt.Errorf("store: update inbox %s: %w", inboxID, err)
		}
		return *in, nil
	}
	return wire.Inbox{}, fmt.Errorf("inbox %s: %w", inboxID, ErrConflict)
}

// DeleteInbox removes an inbox so that it is invisible everywhere, with its messages,
// threads, Message-ID index and delivery markers (the items are deleted, not tombstoned).
//
// It first marks the inbox as deleting, which hides it at once and makes every later
// delivery to it fail its transaction; then it sweeps the inbox's items; the inbox item
// goes last. If the sweep fails, calling DeleteInbox again resumes it. Raw mail, bodies and
// attachments stay in S3 (raw mail is never deleted); event items expire with their TTL.
func (s *Store) DeleteInbox(ctx context.Context, inboxID string) error {
	it, err := s.inboxItem(ctx, inboxID)
	if err != nil {
		return err
	}
	id := it.InboxID
	if !it.Deleting {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(s.table), Key: key(inboxPK(id), skInbox),
			UpdateExpression:          aws.String("SET deleting = :t"),
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}},
		})
		if err != nil {
			return fmt.Errorf("store: delete inbox %s: %w", id, err)
		}
	}
	if err := s.sweepInbox(ctx, id); err != nil {
		return fmt.Errorf("store: delete inbox %s: %w", id, err)
	}
	tx := []types.TransactWriteItem{{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(inboxPK(id), skInbox)}}}
	if it.ClientID != "" {
		tx = append(tx, s.deleteClient(clientKindInbox, it.OrgID, it.ClientID))
	}
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx}); err != nil {
		return fmt.Errorf("store: delete inbox %s: %w", id, err)
	}
	return nil
}

// sweepInbox deletes every item of the inbox's partition but the inbox item itself, and the
// threads its messages belong to. Threads are found through the messages (a strongly
// consistent table query) as well as through the inbox's thread index (eventually consistent).
func (s *Store) sweepInbox(ctx context.Context, inboxID string) error {
	threads := map[string]bool{}
	var doomed []map[string]types.AttributeValue
	var start map[string]types.AttributeValue
	for {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(s.table), ConsistentRead: aws.Bool(true), ExclusiveStartKey: start,
			KeyConditionExpression:    aws.String("pk = :pk"),
			ProjectionExpression:      aws.String("pk, sk, thread_id"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": strAV(inboxPK(inboxID))},
		})
		if err != nil {
			return err
		}
		for _, item := range out.Items {
			var k struct {
				keys
				ThreadID string `json:"thread_id"`
			}
			if err := unmarshal(item, &k); err != nil {
				return err
			}
			if k.SK == skInbox {
				continue
			}
			if strings.HasPrefix(k.SK, "MSG#") && k.ThreadID != "" {
				threads[k.ThreadID] = true
			}
			doomed = append(doomed, key(k.PK, k.SK))
		}
		if start = out.LastEvaluatedKey; len(start) == 0 {
			break
		}
	}
	start = nil
	for {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(s.table), IndexName: aws.String(indexGSI1), ExclusiveStartKey: start,
			KeyConditionExpression:    aws.String("gsi1pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": strAV(inboxThreadsPK(inboxID))},
		})
		if err != nil {
			return err
		}
		for _, item := range out.Items {
			var k keys
			if err := unmarshal(item, &k); err != nil {
				return err
			}
			threads[strings.TrimPrefix(k.PK, "THREAD#")] = true
		}
		if start = out.LastEvaluatedKey; len(start) == 0 {
			break
		}
	}
	for th := range threads {
		doomed = append(doomed, key(threadPK(th), skThread))
	}
	return s.batchDelete(ctx, doomed)
}

// batchDelete deletes keys 25 at a time, retrying what DynamoDB leaves unprocessed.
func (s *Store) batchDelete(ctx context.Context, ks []map[string]types.AttributeValue) error {
	for len(ks) > 0 {
		n := min(25, len(ks))
		reqs := make([]types.WriteRequest, 0, n)
		for _, k := range ks[:n] {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
		}
		ks = ks[n:]
		for attempt := 0; len(reqs) > 0; attempt++ {
			if attempt > 0 {
				if err := sleep(ctx, backoff(attempt)); err != nil {
					return err
				}
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{s.table: reqs}})
			if err != nil {
				return err
			}
			reqs = out.UnprocessedItems[s.table]
		}
	}
	return nil
}

func backoff(attempt int) time.Duration {
	return min(time.Duration(1<<min(attempt, 6))*25*time.Millisecond, time.Second)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
