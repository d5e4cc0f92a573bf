package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pigeon-mail/pigeon/shared/lists"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Allow and block lists. One partition per list, entries sorted by
// their text, so a list pages in entry order with no index:
//
//	list entry      LIST#<scope>#<direction>#<type>   ENTRY#<entry>
//	list counts     LISTS#<scope>#<direction>         COUNTS   (allow_entries: how many allow entries)
//
// <scope> is org:<org>, pod:<pod> or inbox:<inbox>. The counts item is changed in the same
// transaction as the entries, so CheckList learns whether allow-list mode applies without
// reading any list: one BatchGetItem of the counts and the candidate entries of the three
// scopes answers a check.

const (
	skListCounts      = "COUNTS"
	attrAllowEntries  = "allow_entries"
	listEntrySKPrefix = "ENTRY#"
)

// listScope names the most specific scope of sc.
func listScope(sc Scope) string {
	switch {
	case sc.InboxID != "":
		return "inbox:" + sc.InboxID
	case sc.PodID != "":
		return "pod:" + sc.PodID
	}
	return "org:" + sc.OrgID
}

func listPK(scope, direction, listType string) string {
	return "LIST#" + scope + "#" + direction + "#" + listType
}
func listEntrySK(entry string) string { return listEntrySKPrefix + entry }
func listCountsPK(scope, direction string) string {
	return "LISTS#" + scope + "#" + direction
}

type listEntryItem struct {
	keys
	wire.ListEntry
	// SourceMessageID is the message whose bounce or complaint put the entry on the
	// suppression list (AddSuppression).
	SourceMessageID string `json:"source_message_id,omitempty"`
}

// CreateListEntry adds e (Entry, Direction, ListType and Reason; the rest is derived) to the
// list of scope sc, the most specific of its ids: an inbox list carries the inbox's pod too.
// The entry is normalised with lists.ParseEntry. An entry already on that list is returned
// unchanged with false (creating an entry is idempotent); a new one with true.
func (s *Store) CreateListEntry(ctx context.Context, sc Scope, e wire.ListEntry) (wire.ListEntry, bool, error) {
	return s.createListEntry(ctx, sc, e, "")
}

func (s *Store) createListEntry(ctx context.Context, sc Scope, e wire.ListEntry, sourceMessageID string) (wire.ListEntry, bool, error) {
	if !lists.ValidDirection(e.Direction) || !lists.ValidType(e.ListType) || sc.OrgID == "" {
		return wire.ListEntry{}, false, fmt.Errorf("store: list entry needs an organisation, a direction and a type, not %q %q", e.Direction, e.ListType)
	}
	entry, entryType, err := lists.ParseEntry(e.Entry)
	if err != nil {
		return wire.ListEntry{}, false, fmt.Errorf("store: list entry: %w", err)
	}
	e.Entry, e.EntryType = entry, entryType
	e.OrganizationID, e.PodID, e.InboxID = sc.OrgID, sc.PodID, sc.InboxID
	e.CreatedAt = wire.UTC(s.now())
	scope := listScope(sc)
	item, err := marshal(listEntryItem{keys: keys{PK: listPK(scope, e.Direction, e.ListType), SK: listEntrySK(entry)}, ListEntry: e, SourceMessageID: sourceMessageID})
	if err != nil {
		return wire.ListEntry{}, false, err
	}
	tx := []types.TransactWriteItem{{Put: &types.Put{
		TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}}
	if e.ListType == wire.ListTypeAllow {
		tx = append(tx, s.countAllow(scope, e.Direction, 1))
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	if conditionFailed(cancelReasons(err), 0) {
		existing, err := s.GetListEntry(ctx, sc, e.Direction, e.ListType, entry)
		if errors.Is(err, ErrNotFound) {
			return s.createListEntry(ctx, sc, e, sourceMessageID) // deleted in between
		}
		return existing, false, err
	}
	if err != nil {
		return wire.ListEntry{}, false, fmt.Errorf("store: create list entry %s: %w", entry, err)
	}
	return e, true, nil
}

// countAllow is the transaction action that adds delta to a list's allow-entry count.
func (s *Store) countAllow(scope, direction string, delta int) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(s.table), Key: key(listCountsPK(scope, direction), skListCounts),
		UpdateExpression:          aws.String("ADD #n :d"),
		ExpressionAttributeNames:  map[string]string{"#n": attrAllowEntries},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": &types.AttributeValueMemberN{Value: strconv.Itoa(delta)}},
	}}
}

// GetListEntry reads one entry of the list of scope sc; entry is matched after the
// normalisation of lists.ParseEntry (ErrNotFound for a string that is no valid entry).
func (s *Store) GetListEntry(ctx context.Context, sc Scope, direction, listType, entry string) (wire.ListEntry, error) {
	entry, _, err := lists.ParseEntry(entry)
	if err != nil {
		return wire.ListEntry{}, ErrNotFound
	}
	var it listEntryItem
	if err := s.getItem(ctx, listPK(listScope(sc), direction, listType), listEntrySK(entry), &it); err != nil {
		return wire.ListEntry{}, err
	}
	return it.ListEntry, nil
}

// ListListEntries pages through the list of scope sc by entry, ascending. Only pg.Limit and
// pg.Token apply.
func (s *Store) ListListEntries(ctx context.Context, sc Scope, direction, listType string, pg Page) ([]wire.ListEntry, string, error) {
	pg = Page{Limit: pg.Limit, Token: pg.Token, Ascending: true}
	items, next, err := s.queryPage(ctx, listQuery{pkName: attrPK, skName: attrSK, pk: listPK(listScope(sc), direction, listType)}, pg)
	if err != nil {
		return nil, "", err
	}
	out := make([]wire.ListEntry, 0, len(items))
	for _, item := range items {
		var it listEntryItem
		if err := unmarshal(item, &it); err != nil {
			return nil, "", err
		}
		out = append(out, it.ListEntry)
	}
	return out, next, nil
}

// DeleteListEntry removes an entry from the list of scope sc (ErrNotFound when absent).
func (s *Store) DeleteListEntry(ctx context.Context, sc Scope, direction, listType, entry string) error {
	entry, _, err := lists.ParseEntry(entry)
	if err != nil {
		return ErrNotFound
	}
	scope := listScope(sc)
	tx := []types.TransactWriteItem{{Delete: &types.Delete{
		TableName: aws.String(s.table), Key: key(listPK(scope, direction, listType), listEntrySK(entry)),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	}}}
	if listType == wire.ListTypeAllow {
		tx = append(tx, s.countAllow(scope, direction, -1))
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	if conditionFailed(cancelReasons(err), 0) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: delete list entry %s: %w", entry, err)
	}
	return nil
}

// CheckList decides whether address may pass the direction's lists of an inbox (inboxID and
// podID set), a pod (podID) or the organisation, by the rules of lists.Decide (most specific
// scope first; exact address before domain before parent domain; block before allow; allow-list
// mode when any scope has an allow entry and none matched).
//
// It is one strongly consistent BatchGetItem of at most 3 counts items and 3 × 2 ×
// (1 + lists.MaxDomainLevels) candidate entries, made for the inbound and send paths, which
// check every message and every recipient.
func (s *Store) CheckList(ctx context.Context, orgID, podID, inboxID, direction, address string) (lists.Decision, error) {
	if !lists.ValidDirection(direction) {
		return lists.Decision{}, fmt.Errorf("store: check list: unknown direction %q", direction)
	}
	var scopes []string
	if inboxID != "" {
		scopes = append(scopes, listScope(Scope{InboxID: inboxID}))
	}
	if podID != "" {
		scopes = append(scopes, listScope(Scope{PodID: podID}))
	}
	scopes = append(scopes, listScope(Scope{OrgID: orgID}))
	cands := lists.Candidates(address)
	var ks []map[string]types.AttributeValue
	for _, sc := range scopes {
		ks = append(ks, key(listCountsPK(sc, direction), skListCounts))
		for _, typ := range []string{wire.ListTypeAllow, wire.ListTypeBlock} {
			for _, c := range cands {
				ks = append(ks, key(listPK(sc, direction, typ), listEntrySK(c)))
			}
		}
	}
	items, err := s.batchGet(ctx, ks)
	if err != nil {
		return lists.Decision{}, fmt.Errorf("store: check list: %w", err)
	}
	byScope := make([]lists.Scope, len(scopes))
	for _, item := range items {
		var it struct {
			listEntryItem
			AllowEntries int `json:"allow_entries"`
		}
		if err := unmarshal(item, &it); err != nil {
			return lists.Decision{}, err
		}
		for i, sc := range scopes {
			switch {
			case it.SK == skListCounts && it.PK == listCountsPK(sc, direction):
				byScope[i].HasAllow = it.AllowEntries > 0
			case it.PK == listPK(sc, direction, wire.ListTypeAllow) || it.PK == listPK(sc, direction, wire.ListTypeBlock):
				byScope[i].Entries = append(byScope[i].Entries, it.ListEntry)
			}
		}
	}
	return lists.Decide(address, byScope...), nil
}

// batchGet reads keys (at most 100) with strongly consistent reads, retrying what DynamoDB
// leaves unprocessed. Absent items are simply missing from the result.
func (s *Store) batchGet(ctx context.Context, ks []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	req := map[string]types.KeysAndAttributes{s.table: {Keys: ks, ConsistentRead: aws.Bool(true)}}
	for attempt := 0; len(req[s.table].Keys) > 0; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return nil, err
			}
		}
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, err
		}
		out = append(out, res.Responses[s.table]...)
		req = res.UnprocessedKeys
	}
	return out, nil
}

// AddSuppression puts address on the organisation's send block list, with reason and the id
// of the message whose bounce or complaint caused it, so that nothing is sent to it again
// until someone deletes the entry. Idempotent: an address already blocked keeps its entry.
func (s *Store) AddSuppression(ctx context.Context, orgID, address, reason, messageID string) error {
	_, _, err := s.createListEntry(ctx, Scope{OrgID: orgID}, wire.ListEntry{
		Entry: lists.Address(address), Direction: wire.ListDirectionSend, ListType: wire.ListTypeBlock, Reason: reason,
	}, messageID)
	return err
}

// DeleteListsOf deletes every list of an inbox (inboxID set) or a pod, with their counts, so
// that an inbox created later at the same address does not inherit them.
func (s *Store) DeleteListsOf(ctx context.Context, podID, inboxID string) error {
	if podID == "" && inboxID == "" {
		return fmt.Errorf("store: delete lists: no pod or inbox given")
	}
	scope := listScope(Scope{PodID: podID, InboxID: inboxID})
	var doomed []map[string]types.AttributeValue
	for _, direction := range []string{wire.ListDirectionSend, wire.ListDirectionReceive, wire.ListDirectionReply} {
		for _, typ := range []string{wire.ListTypeAllow, wire.ListTypeBlock} {
			var start map[string]types.AttributeValue
			for {
				out, err := s.db.Query(ctx, &dynamodb.QueryInput{
					TableName: aws.String(s.table), ConsistentRead: aws.Bool(true), ExclusiveStartKey: start,
					KeyConditionExpression:    aws.String("pk = :pk"),
					ProjectionExpression:      aws.String("pk, sk"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":pk": strAV(listPK(scope, direction, typ))},
				})
				if err != nil {
					return fmt.Errorf("store: delete lists of %s: %w", scope, err)
				}
				for _, item := range out.Items {
					doomed = append(doomed, map[string]types.AttributeValue{attrPK: item[attrPK], attrSK: item[attrSK]})
				}
				if start = out.LastEvaluatedKey; len(start) == 0 {
					break
				}
			}
		}
		doomed = append(doomed, key(listCountsPK(scope, direction), skListCounts))
	}
	if err := s.batchDelete(ctx, doomed); err != nil {
		return fmt.Errorf("store: delete lists of %s: %w", scope, err)
	}
	return nil
}
