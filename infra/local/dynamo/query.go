package dynamo

import (
	"errors"
	"hash/fnv"
	"io"

	"github.com/cockroachdb/pebble"
)

// maxPageBytes is how much one Query or Scan reads before it stops with a LastEvaluatedKey.
const maxPageBytes = 1 << 20

// reader is what reads go through: the database, or a snapshot of it.
type reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

func (db *DB) readItem(r reader, key []byte) (Item, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return decodeItem(v)
}

type queryIn struct {
	TableName                 string
	IndexName                 string
	KeyConditionExpression    *string
	FilterExpression          *string
	ProjectionExpression      *string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues map[string]Value
	ScanIndexForward          *bool
	Limit                     *int32
	ExclusiveStartKey         Item
	ConsistentRead            *bool
	Select                    string
	Segment                   *int32
	TotalSegments             *int32
	ReturnConsumedCapacity    string
	legacy
}

type queryOut struct {
	Items            []Item `json:",omitempty"`
	Count            int
	ScannedCount     int
	LastEvaluatedKey Item `json:",omitempty"`
}

// source is what a Query or Scan reads: the table, or one of its indexes.
type source struct {
	t     *tableDesc
	index *indexDesc
	keys  schema // the source's key schema
}

func (db *DB) source(in *queryIn) (*source, error) {
	t, err := db.table(in.TableName)
	if err != nil {
		return nil, err
	}
	src := &source{t: t, keys: t.schema()}
	if in.IndexName != "" {
		if src.index = t.index(in.IndexName); src.index == nil {
			return nil, validationf("The table does not have the specified index: %s", in.IndexName)
		}
		if in.ConsistentRead != nil && *in.ConsistentRead {
			return nil, validationf("Consistent reads are not supported on global secondary indexes")
		}
		src.keys = schemaOf(src.index.KeySchema, t.AttributeDefinitions)
	}
	if in.Limit != nil && *in.Limit < 1 {
		return nil, validationf("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.Limit)
	}
	switch in.Select {
	case "", "ALL_ATTRIBUTES", "COUNT", "SPECIFIC_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES":
	default:
		return nil, validationf("1 validation error detected: Value '%s' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]", in.Select)
	}
	return src, in.legacy.check()
}

// base is the key prefix every entry of the source starts with.
func (s *source) base() []byte {
	if s.index != nil {
		return prefix(famIndex, s.t.TableName, s.index.IndexName)
	}
	return prefix(famItem, s.t.TableName)
}

// entryKey is the position of an item in the source (ok false when it is not in it).
func (s *source) entryKey(it Item) ([]byte, bool) {
	if s.index == nil {
		return itemKey(s.t, it), true
	}
	ts := s.t.schema()
	var sk []byte
	if ts.rng != "" {
		sk = keyBytes(it[ts.rng])
	}
	return indexKey(s.t.TableName, s.index.IndexName, s.keys, it, keyBytes(it[ts.hash]), sk)
}

// itemKeyOf is the item key an index entry points at.
func (s *source) itemKeyOf(entry []byte) ([]byte, bool) {
	if s.index == nil {
		return entry, true
	}
	rest := entry[len(s.base()):]
	skip := 1
	if s.keys.rng != "" {
		skip = 2
	}
	start := len(entry) - len(rest)
	for range skip {
		_, r, ok := nextComponent(rest)
		if !ok {
			return nil, false
		}
		rest = r
	}
	_ = start
	return append(prefix(famItem, s.t.TableName), rest...), true
}

// startKey checks an ExclusiveStartKey: the table's key attributes, and the index's too.
func (s *source) startKey(esk Item) ([]byte, error) {
	bad := validationf("The provided starting key is invalid: The provided key element does not match the schema")
	ts := s.t.schema()
	for _, k := range []string{ts.hash, ts.rng, s.keys.hash, s.keys.rng} {
		if k == "" {
			continue
		}
		if _, ok := esk[k]; !ok {
			return nil, bad
		}
	}
	k, ok := s.entryKey(esk)
	if !ok {
		return nil, bad
	}
	return k, nil
}

// lastKey is the LastEvaluatedKey for an item: the table's key attributes and the index's.
func (s *source) lastKey(it Item) Item {
	out := Item{}
	ts := s.t.schema()
	for _, k := range []string{ts.hash, ts.rng, s.keys.hash, s.keys.rng} {
		if k != "" {
			out[k] = it[k]
		}
	}
	return out
}

// project applies the index's projection (KEYS_ONLY, INCLUDE) to an item read through it.
func (s *source) project(it Item) Item {
	if s.index == nil || s.index.Projection.ProjectionType == "ALL" {
		return it
	}
	out := s.lastKey(it)
	for _, a := range s.index.Projection.NonKeyAttributes {
		if v, ok := it[a]; ok {
			out[a] = v
		}
	}
	return out
}

func (db *DB) query(in *queryIn) (queryOut, error) {
	src, err := db.source(in)
	if err != nil {
		return queryOut{}, err
	}
	if in.KeyConditionExpression == nil {
		return queryOut{}, validationf("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
	}
	e := newExprs(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	kc, err := ParseKeyCondition(*in.KeyConditionExpression, e.names, e.values, &e.refs, src.keys.hash, src.keys.rng)
	if err != nil {
		return queryOut{}, validation(err)
	}
	if kc.Hash.Kind.String() != src.keys.hashType {
		return queryOut{}, validationf("One or more parameter values were invalid: Condition parameter type does not match schema type")
	}
	lo, hi := appendComponent(src.base(), keyBytes(kc.Hash)), []byte(nil)
	part := lo
	hi = prefixEnd(part)
	if r := kc.Range; r != nil {
		for _, v := range r.Values {
			if v.Kind.String() != src.keys.rngType {
				return queryOut{}, validationf("One or more parameter values were invalid: Condition parameter type does not match schema type")
			}
		}
		at := func(v Value) []byte { return appendComponent(append([]byte(nil), part...), keyBytes(v)) }
		switch r.Op {
		case "=":
			lo, hi = at(r.Values[0]), prefixEnd(at(r.Values[0]))
		case "<":
			hi = at(r.Values[0])
		case "<=":
			hi = prefixEnd(at(r.Values[0]))
		case ">":
			lo = prefixEnd(at(r.Values[0]))
		case ">=":
			lo = at(r.Values[0])
		case "BETWEEN":
			if c, _ := Compare(r.Values[0], r.Values[1]); c > 0 {
				return queryOut{}, validationf("Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {%s:%s}, upper bound operand: AttributeValue: {%s:%s}", r.Values[0].Kind, r.Values[0].S, r.Values[1].Kind, r.Values[1].S)
			}
			lo, hi = at(r.Values[0]), prefixEnd(at(r.Values[1]))
		case "BEGINS_WITH":
			p := at(r.Values[0])
			p = p[:len(p)-2] // without the terminator: every component that starts with the value
			lo, hi = p, prefixEnd(p)
		}
	}
	return db.read(src, e, in, lo, hi, false)
}

func (db *DB) scan(in *queryIn) (queryOut, error) {
	src, err := db.source(in)
	if err != nil {
		return queryOut{}, err
	}
	if (in.Segment == nil) != (in.TotalSegments == nil) {
		return queryOut{}, validationf("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
	}
	if in.TotalSegments != nil && (*in.TotalSegments < 1 || *in.TotalSegments > 1000000 || *in.Segment < 0 || *in.Segment >= *in.TotalSegments) {
		return queryOut{}, validationf("The Segment parameter is zero-based and must be less than parameter TotalSegments")
	}
	e := newExprs(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	base := src.base()
	return db.read(src, e, in, base, prefixEnd(base), true)
}

// read runs a Query or Scan over the entries in [lo, hi): Limit counts entries read, the
// filter applies after it, a page stops at 1 MB, and LastEvaluatedKey names the last entry
// read whenever the page stopped early (DynamoDB returns one even when nothing follows).
func (db *DB) read(src *source, e *exprs, in *queryIn, lo, hi []byte, scan bool) (queryOut, error) {
	filter, err := e.filter(in.FilterExpression)
	if err != nil {
		return queryOut{}, err
	}
	if filter != nil && !scan {
		for _, n := range filter.TopLevelNames() {
			if n == src.keys.hash || n == src.keys.rng {
				return queryOut{}, validationf("Filter Expression can only contain non-primary key attributes: Primary key attribute: %s", n)
			}
		}
	}
	proj, err := e.projection(in.ProjectionExpression)
	if err != nil {
		return queryOut{}, err
	}
	if err := e.done(); err != nil {
		return queryOut{}, err
	}
	if in.Select == "SPECIFIC_ATTRIBUTES" && proj == nil {
		return queryOut{}, validationf("Select type SPECIFIC_ATTRIBUTES requires AttributesToGet or ProjectionExpression")
	}
	if proj != nil && in.Select != "" && in.Select != "SPECIFIC_ATTRIBUTES" {
		return queryOut{}, validationf("Cannot specify the ProjectionExpression when choosing to get %s", in.Select)
	}
	forward := in.ScanIndexForward == nil || *in.ScanIndexForward
	if in.ExclusiveStartKey != nil {
		start, err := src.startKey(in.ExclusiveStartKey)
		if err != nil {
			return queryOut{}, err
		}
		if forward {
			if next := append(start, 0); string(next) > string(lo) {
				lo = next
			}
		} else if string(start) < string(hi) {
			hi = start
		}
	}
	snap := db.pdb.NewSnapshot()
	defer snap.Close()
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return queryOut{}, err
	}
	defer it.Close()
	limit := -1
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	out := queryOut{}
	bytes := 0
	step, ok := it.Next, it.First()
	if !forward {
		step, ok = it.Prev, it.Last()
	}
	for ; ok; ok = step() {
		ik, ok := src.itemKeyOf(it.Key())
		if !ok {
			continue
		}
		item, err := db.readItem(snap, ik)
		if err != nil {
			return queryOut{}, err
		}
		if item == nil {
			continue
		}
		if in.TotalSegments != nil && segmentOf(item[src.t.schema().hash], *in.TotalSegments) != *in.Segment {
			continue
		}
		item = src.project(item)
		out.ScannedCount++
		bytes += item.Size()
		keep := true
		if filter != nil {
			if keep, err = filter.Eval(item); err != nil {
				return queryOut{}, validation(err)
			}
		}
		if keep {
			out.Count++
			if in.Select != "COUNT" {
				if proj != nil {
					item = proj.Apply(item)
				}
				out.Items = append(out.Items, item)
			}
		}
		if out.ScannedCount == limit || bytes >= maxPageBytes {
			out.LastEvaluatedKey = src.lastKey(item)
			if proj != nil || src.index != nil {
				full, err := db.readItem(snap, ik)
				if err != nil {
					return queryOut{}, err
				}
				out.LastEvaluatedKey = src.lastKey(full)
			}
			break
		}
	}
	if out.Items == nil && in.Select != "COUNT" {
		out.Items = []Item{}
	}
	return out, nil
}

// segmentOf assigns a partition to one of a parallel scan's segments.
func segmentOf(hash Value, total int32) int32 {
	h := fnv.New32a()
	_, _ = h.Write(keyBytes(hash))
	return int32(h.Sum32() % uint32(total))
}

type batchGetItemIn struct {
	RequestItems map[string]struct {
		Keys                     []Item
		ProjectionExpression     *string
		ExpressionAttributeNames map[string]string
		ConsistentRead           *bool
		AttributesToGet          []string
	}
	ReturnConsumedCapacity string
}

type batchGetItemOut struct {
	Responses       map[string][]Item
	UnprocessedKeys map[string]struct{}
}

// batchGetItem reads up to 100 items from one snapshot; nothing is left unprocessed.
func (db *DB) batchGetItem(in *batchGetItemIn) (batchGetItemOut, error) {
	out := batchGetItemOut{Responses: map[string][]Item{}, UnprocessedKeys: map[string]struct{}{}}
	total := 0
	for _, r := range in.RequestItems {
		total += len(r.Keys)
	}
	if total == 0 || total > 100 {
		return out, validationf("Too many items requested for the BatchGetItem call")
	}
	snap := db.pdb.NewSnapshot()
	defer snap.Close()
	for name, r := range in.RequestItems {
		t, err := db.table(name)
		if err != nil {
			return out, err
		}
		if len(r.AttributesToGet) > 0 {
			return out, validationf("Pigeon's embedded DynamoDB serves expressions only; the legacy parameter AttributesToGet is not supported")
		}
		e := newExprs(r.ExpressionAttributeNames, nil)
		proj, err := e.projection(r.ProjectionExpression)
		if err != nil {
			return out, err
		}
		if err := e.done(); err != nil {
			return out, err
		}
		seen := map[string]bool{}
		items := []Item{}
		for _, k := range r.Keys {
			if err := checkKey(t, k); err != nil {
				return out, err
			}
			ik := itemKey(t, k)
			if seen[string(ik)] {
				return out, validationf("Provided list of item keys contains duplicates")
			}
			seen[string(ik)] = true
			it, err := db.readItem(snap, ik)
			if err != nil {
				return out, err
			}
			if it == nil {
				continue
			}
			if proj != nil {
				it = proj.Apply(it)
			}
			items = append(items, it)
		}
		out.Responses[name] = items
	}
	return out, nil
}

type transactGetItemsIn struct {
	TransactItems []struct {
		Get *struct {
			TableName                string
			Key                      Item
			ProjectionExpression     *string
			ExpressionAttributeNames map[string]string
		}
	}
	ReturnConsumedCapacity string
}

type transactGetItemsOut struct {
	Responses []getItemOut
}

func (db *DB) transactGetItems(in *transactGetItemsIn) (transactGetItemsOut, error) {
	if len(in.TransactItems) == 0 || len(in.TransactItems) > 100 {
		return transactGetItemsOut{}, validationf("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	snap := db.pdb.NewSnapshot()
	defer snap.Close()
	out := transactGetItemsOut{Responses: make([]getItemOut, len(in.TransactItems))}
	for i, ti := range in.TransactItems {
		g := ti.Get
		if g == nil {
			return out, validationf("TransactItems can only contain Get")
		}
		t, err := db.table(g.TableName)
		if err != nil {
			return out, err
		}
		if err := checkKey(t, g.Key); err != nil {
			return out, err
		}
		e := newExprs(g.ExpressionAttributeNames, nil)
		proj, err := e.projection(g.ProjectionExpression)
		if err != nil {
			return out, err
		}
		if err := e.done(); err != nil {
			return out, err
		}
		it, err := db.readItem(snap, itemKey(t, g.Key))
		if err != nil {
			return out, err
		}
		if it != nil && proj != nil {
			it = proj.Apply(it)
		}
		out.Responses[i] = getItemOut{Item: it}
	}
	return out, nil
}
