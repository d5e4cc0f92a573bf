package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Page sizes. The REST API validates the caller's limit; the store only clamps.
const (
	DefaultLimit = 50
	MaxLimit     = 100
)

// Page selects one page of a list.
//
// Before and After bound the list's time (messages: timestamp; threads: last activity;
// inboxes, pods, keys: created_at) and are both exclusive. Labels must all be present,
// ExcludeLabels must all be absent. A page holds Limit items unless the list ends; the last
// page can still carry a next token that leads to an empty page (DynamoDB cannot tell that
// nothing follows), which the wire format allows (clients page until the token is absent).
type Page struct {
	Limit         int
	Token         string
	Ascending     bool
	Before, After *time.Time
	Labels        []string
	ExcludeLabels []string
	// Contains are substring filters (the from/to/subject filters of message lists and the
	// senders/recipients/subject filters of thread lists): every one must match.
	Contains []Substring
}

// Substring matches an item when Value occurs, ignoring case, in one of its Attributes (a
// string attribute, or any element of a list attribute).
type Substring struct {
	Attributes []string
	Value      string
}

func (f Substring) match(item map[string]types.AttributeValue) bool {
	want := strings.ToLower(f.Value)
	found := func(v string) bool { return strings.Contains(strings.ToLower(v), want) }
	for _, name := range f.Attributes {
		switch v := item[name].(type) {
		case *types.AttributeValueMemberS:
			if found(v.Value) {
				return true
			}
		case *types.AttributeValueMemberL:
			for _, e := range v.Value {
				if s, ok := e.(*types.AttributeValueMemberS); ok && found(s.Value) {
					return true
				}
			}
		case *types.AttributeValueMemberSS:
			for _, s := range v.Value {
				if found(s) {
					return true
				}
			}
		}
	}
	return false
}

// keep reports whether item passes every substring filter of p.
func (p Page) keep(item map[string]types.AttributeValue) bool {
	for _, f := range p.Contains {
		if !f.match(item) {
			return false
		}
	}
	return true
}

func (p Page) limit() int32 {
	switch {
	case p.Limit <= 0:
		return DefaultLimit
	case p.Limit > MaxLimit:
		return MaxLimit
	}
	return int32(p.Limit)
}

// listQuery is one time-ordered list: a partition of the table or of a GSI whose sort key
// is "<time>#<id>".
type listQuery struct {
	index  string // "" = the table itself
	pkName string
	skName string
	pk     string
	// filter is an extra filter expression ANDed with the label filters; its names and
	// values use the #f… and :f… prefixes.
	filter       string
	filterNames  map[string]string
	filterValues map[string]types.AttributeValue
}

// fingerprint identifies the list and filters a page token belongs to; direction included,
// so a token cannot be replayed against another inbox, another filter or the other order.
func (q listQuery) fingerprint(pg Page) string {
	var b strings.Builder
	b.WriteString(q.index + "\x00" + q.pk + "\x00" + q.filter + "\x00" + strconv.FormatBool(pg.Ascending))
	for _, t := range []*time.Time{pg.Before, pg.After} {
		b.WriteString("\x00")
		if t != nil {
			b.WriteString(sortTime(*t))
		}
	}
	for _, ls := range [][]string{pg.Labels, pg.ExcludeLabels} {
		ls = slices.Clone(ls)
		slices.Sort(ls)
		b.WriteString("\x00" + strings.Join(ls, "\x01"))
	}
	for _, f := range pg.Contains {
		b.WriteString("\x00" + strings.Join(f.Attributes, "\x01") + "\x02" + strings.ToLower(f.Value))
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:8])
}

// queryPage runs one page of q and returns the raw items and the next page token ("" when
// this page is the last). The token is bound to the list and to ctx's page owner
// (pagetoken.go).
func (s *Store) queryPage(ctx context.Context, q listQuery, pg Page) ([]map[string]types.AttributeValue, string, error) {
	fp := q.fingerprint(pg)
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		ScanIndexForward:          aws.Bool(pg.Ascending),
		Limit:                     aws.Int32(pg.limit()),
		ExpressionAttributeNames:  map[string]string{"#pk": q.pkName},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": strAV(q.pk)},
	}
	if q.index != "" {
		in.IndexName = aws.String(q.index)
	}
	if pg.Token != "" {
		start, err := s.pageTokens.open(pg.Token, pageBinding(ctx, fp))
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	cond := "#pk = :pk"
	// Sort keys are "<time>#<id>": "<t>" sorts before every key of time t and "<t>$" after
	// all of them, so these bounds exclude t itself.
	switch {
	case pg.Before != nil && pg.After != nil:
		cond += " AND #sk BETWEEN :after AND :before"
	case pg.Before != nil:
		cond += " AND #sk < :before"
	case pg.After != nil:
		cond += " AND #sk > :after"
	}
	if pg.Before != nil || pg.After != nil {
		in.ExpressionAttributeNames["#sk"] = q.skName
	}
	if pg.Before != nil {
		in.ExpressionAttributeValues[":before"] = strAV(sortTime(*pg.Before))
	}
	if pg.After != nil {
		in.ExpressionAttributeValues[":after"] = strAV(sortTime(*pg.After) + "$")
	}
	if pg.Before != nil && pg.After != nil && !pg.Before.After(*pg.After) {
		return nil, "", nil // empty range; DynamoDB rejects BETWEEN with low > high
	}
	in.KeyConditionExpression = aws.String(cond)

	var filters []string
	if len(pg.Labels) > 0 || len(pg.ExcludeLabels) > 0 {
		in.ExpressionAttributeNames["#labels"] = "labels"
	}
	for i, l := range pg.Labels {
		v := ":l" + strconv.Itoa(i)
		in.ExpressionAttributeValues[v] = strAV(l)
		filters = append(filters, "contains(#labels, "+v+")")
	}
	for i, l := range pg.ExcludeLabels {
		v := ":x" + strconv.Itoa(i)
		in.ExpressionAttributeValues[v] = strAV(l)
		filters = append(filters, "NOT contains(#labels, "+v+")")
	}
	if q.filter != "" {
		filters = append(filters, "("+q.filter+")")
		for k, v := range q.filterNames {
			in.ExpressionAttributeNames[k] = v
		}
		for k, v := range q.filterValues {
			in.ExpressionAttributeValues[k] = v
		}
	}
	if len(filters) > 0 {
		in.FilterExpression = aws.String(strings.Join(filters, " AND "))
	}

	// Filters (DynamoDB's, and the substring filters applied here) apply after Limit items are
	// read, so one query can come back short or empty while the partition holds more. Keep
	// reading until the page is full or the partition ends, so that a page is short only when
	// nothing follows it. Each further query reads twice as many items as the last (up to
	// maxPageRead), so a sparse filter costs few round trips; a query that overshoots ends the
	// page at the item that filled it.
	var items []map[string]types.AttributeValue
	var last map[string]types.AttributeValue
	want := int(pg.limit())
	read := int32(want)
	for len(items) < want {
		in.Limit = aws.Int32(read)
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("store: query %s: %w", q.pk, err)
		}
		last = out.LastEvaluatedKey
		for i, it := range out.Items {
			if !pg.keep(it) {
				continue
			}
			if items = append(items, it); len(items) == want && i < len(out.Items)-1 {
				last = q.startKey(it)
				break
			}
		}
		if len(last) == 0 {
			break
		}
		in.ExclusiveStartKey = last
		read = min(2*read, maxPageRead)
	}
	next := ""
	if len(last) > 0 {
		var err error
		if next, err = s.pageTokens.seal(last, pageBinding(ctx, fp)); err != nil {
			return nil, "", err
		}
	}
	return items, next, nil
}

// maxPageRead caps the Limit of one of the queries behind a filtered page.
const maxPageRead = 1000

// startKey is the ExclusiveStartKey that resumes q after item: the table's key and, on an
// index, the index's key (every index projects all attributes, so items carry both).
func (q listQuery) startKey(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	k := map[string]types.AttributeValue{attrPK: item[attrPK], attrSK: item[attrSK]}
	if q.index != "" {
		k[q.pkName], k[q.skName] = item[q.pkName], item[q.skName]
	}
	return k
}
