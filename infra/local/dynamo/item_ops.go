package dynamo

import (
	"encoding/json"
	"fmt"
	"slices"
)

// maxItemBytes is DynamoDB's item size limit.
const maxItemBytes = 400 * 1024

// exprs holds one request's expression attribute names and values, and which were used.
type exprs struct {
	names  map[string]string
	values map[string]Value
	refs   Refs
}

func newExprs(names map[string]string, values map[string]Value) *exprs {
	return &exprs{names: names, values: values, refs: Refs{Names: map[string]bool{}, Values: map[string]bool{}}}
}

func (e *exprs) condition(expr *string) (*Condition, error) {
	if expr == nil {
		return nil, nil
	}
	c, err := ParseCondition(*expr, e.names, e.values, &e.refs)
	if err != nil {
		return nil, validation(err)
	}
	return c, nil
}

func (e *exprs) filter(expr *string) (*Condition, error) {
	if expr == nil {
		return nil, nil
	}
	c, err := ParseFilter(*expr, e.names, e.values, &e.refs)
	if err != nil {
		return nil, validation(err)
	}
	return c, nil
}

func (e *exprs) projection(expr *string) (*Projection, error) {
	if expr == nil {
		return nil, nil
	}
	p, err := ParseProjection(*expr, e.names, &e.refs)
	if err != nil {
		return nil, validation(err)
	}
	return p, nil
}

// done refuses names and values the expressions did not use, as DynamoDB does.
func (e *exprs) done() error {
	if err := e.refs.CheckUnused(e.names, e.values); err != nil {
		return validation(err)
	}
	return nil
}

// legacy are the pre-expression parameters; Pigeon's engine serves expressions only.
type legacy struct {
	Expected            json.RawMessage
	ConditionalOperator json.RawMessage
	AttributeUpdates    json.RawMessage
	AttributesToGet     json.RawMessage
	KeyConditions       json.RawMessage
	QueryFilter         json.RawMessage
	ScanFilter          json.RawMessage
}

func (l legacy) check() error {
	for name, v := range map[string]json.RawMessage{
		"Expected": l.Expected, "ConditionalOperator": l.ConditionalOperator, "AttributeUpdates": l.AttributeUpdates,
		"AttributesToGet": l.AttributesToGet, "KeyConditions": l.KeyConditions, "QueryFilter": l.QueryFilter, "ScanFilter": l.ScanFilter,
	} {
		if len(v) > 0 && string(v) != "null" {
			return validationf("Pigeon's embedded DynamoDB serves expressions only; the legacy parameter %s is not supported", name)
		}
	}
	return nil
}

// checkItem validates an item to be written: key attributes present, typed and non-empty, index
// keys typed and non-empty, the size within 400 KB. It canonicalises numbers in place.
func checkItem(t *tableDesc, it Item) error {
	s := t.schema()
	for _, k := range [][2]string{{s.hash, s.hashType}, {s.rng, s.rngType}} {
		if k[0] == "" {
			continue
		}
		v, ok := it[k[0]]
		if !ok {
			return validationf("One or more parameter values were invalid: Missing the key %s in the item", k[0])
		}
		if v.Kind.String() != k[1] {
			return validationf("One or more parameter values were invalid: Type mismatch for key %s expected: %s actual: %s", k[0], k[1], v.Kind)
		}
		if len(keyBytes(v)) == 0 {
			return validationf("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: %s", k[0])
		}
		if err := checkKeySize(k[0], v, k[0] == s.hash); err != nil {
			return err
		}
	}
	for _, g := range t.GlobalSecondaryIndexes {
		gs := schemaOf(g.KeySchema, t.AttributeDefinitions)
		for _, k := range [][2]string{{gs.hash, gs.hashType}, {gs.rng, gs.rngType}} {
			v, ok := it[k[0]]
			if k[0] == "" || !ok {
				continue
			}
			if v.Kind.String() != k[1] {
				return validationf("One or more parameter values were invalid: Type mismatch for Index Key %s Expected: %s Actual: %s IndexName: %s", k[0], k[1], v.Kind, g.IndexName)
			}
			if len(keyBytes(v)) == 0 {
				return validationf("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: %s, IndexKey: %s", g.IndexName, k[0])
			}
			if err := checkKeySize(k[0], v, k[0] == gs.hash); err != nil {
				return err
			}
		}
	}
	for k, v := range it {
		it[k] = canonical(v)
	}
	if it.Size() > maxItemBytes {
		return validationf("Item size has exceeded the maximum allowed size")
	}
	return nil
}

// DynamoDB's limits on key attribute values: 2048 bytes for a partition key, 1024 for a sort
// key (GSI keys alike).
const (
	maxPartitionKeyBytes = 2048
	maxSortKeyBytes      = 1024
)

func checkKeySize(name string, v Value, partition bool) error {
	n := len(keyBytes(v))
	switch {
	case partition && n > maxPartitionKeyBytes:
		return validationf("One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of %d bytes", maxPartitionKeyBytes)
	case !partition && n > maxSortKeyBytes:
		return validationf("One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of %d bytes", maxSortKeyBytes)
	}
	return nil
}

// canonical writes numbers as DynamoDB returns them (no leading or trailing zeros).
func canonical(v Value) Value {
	switch v.Kind {
	case KindN:
		v.S = canonicalNumber(v.S)
	case KindNS:
		for i, n := range v.Strings {
			v.Strings[i] = canonicalNumber(n)
		}
	case KindL:
		for i, e := range v.L {
			v.L[i] = canonical(e)
		}
	case KindM:
		for k, e := range v.M {
			v.M[k] = canonical(e)
		}
	}
	return v
}

// checkKey validates a key: exactly the table's key attributes, typed.
func checkKey(t *tableDesc, key Item) error {
	s := t.schema()
	want := 1
	if s.rng != "" {
		want = 2
	}
	if len(key) != want {
		return validationf("The provided key element does not match the schema")
	}
	for _, k := range [][2]string{{s.hash, s.hashType}, {s.rng, s.rngType}} {
		if k[0] == "" {
			continue
		}
		v, ok := key[k[0]]
		if !ok || v.Kind.String() != k[1] {
			return validationf("The provided key element does not match the schema")
		}
		if len(keyBytes(v)) == 0 {
			return validationf("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: %s", k[0])
		}
	}
	return nil
}

// writeStep is one planned write: a put, delete, update or condition check of one item.
type writeStep struct {
	t         *tableDesc
	key       Item // the item's key attributes
	put       Item // the item to put (put)
	update    *Update
	delete    bool
	cond      *Condition
	returnOld bool // ReturnValuesOnConditionCheckFailure ALL_OLD
}

// run plans the step inside tx: reads the item, checks the condition, and records the
// mutation. It returns the old and new item (new nil when deleted or only checked).
func (st *writeStep) run(tx *txn) (old, new Item, err error) {
	key := itemKey(st.t, st.key)
	if !tx.touch(key) {
		return nil, nil, validationf("Transaction request cannot include multiple operations on one item")
	}
	old, err = tx.get(key)
	if err != nil {
		return nil, nil, err
	}
	if st.cond != nil {
		ok, err := st.cond.Eval(old)
		if err != nil {
			return old, nil, validation(err)
		}
		if !ok {
			return old, nil, conditionFailed(old, st.returnOld)
		}
	}
	switch {
	case st.put != nil:
		new = st.put
	case st.update != nil:
		base := old
		if base == nil {
			base = st.key.Clone()
		}
		if new, err = st.update.Apply(base); err != nil {
			return old, nil, validation(err)
		}
		if err := checkItem(st.t, new); err != nil {
			return old, nil, err
		}
	case st.delete:
		if old != nil {
			tx.put(st.t, key, old, nil)
		}
		return old, nil, nil
	default: // condition check
		return old, nil, nil
	}
	tx.put(st.t, key, old, new)
	return old, new, nil
}

// writeOne runs one write step as its own atomic, durable write.
func (db *DB) writeOne(st *writeStep) (old, new Item, err error) {
	err = db.write(func(tx *txn) (err error) {
		old, new, err = st.run(tx)
		return err
	})
	return old, new, err
}

type putItemIn struct {
	TableName                           string
	Item                                Item
	ConditionExpression                 *string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]Value
	ReturnValues                        string
	ReturnValuesOnConditionCheckFailure string
	ReturnConsumedCapacity              string
	ReturnItemCollectionMetrics         string
	legacy
}

type attributesOut struct {
	Attributes Item `json:",omitempty"`
}

func (db *DB) putItem(in *putItemIn) (attributesOut, error) {
	t, err := db.table(in.TableName)
	if err != nil {
		return attributesOut{}, err
	}
	if err := in.legacy.check(); err != nil {
		return attributesOut{}, err
	}
	if in.ReturnValues != "" && in.ReturnValues != "NONE" && in.ReturnValues != "ALL_OLD" {
		return attributesOut{}, validationf("ReturnValues can only be ALL_OLD or NONE")
	}
	if in.Item == nil {
		in.Item = Item{}
	}
	if err := checkItem(t, in.Item); err != nil {
		return attributesOut{}, err
	}
	e := newExprs(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	cond, err := e.condition(in.ConditionExpression)
	if err != nil {
		return attributesOut{}, err
	}
	if err := e.done(); err != nil {
		return attributesOut{}, err
	}
	s := t.schema()
	key := Item{s.hash: in.Item[s.hash]}
	if s.rng != "" {
		key[s.rng] = in.Item[s.rng]
	}
	st := &writeStep{t: t, key: key, put: in.Item, cond: cond, returnOld: in.ReturnValuesOnConditionCheckFailure == "ALL_OLD"}
	old, _, err := db.writeOne(st)
	if err != nil {
		return attributesOut{}, err
	}
	if in.ReturnValues == "ALL_OLD" {
		return attributesOut{Attributes: old}, nil
	}
	return attributesOut{}, nil
}

type deleteItemIn struct {
	TableName                           string
	Key                                 Item
	ConditionExpression                 *string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]Value
	ReturnValues                        string
	ReturnValuesOnConditionCheckFailure string
	ReturnConsumedCapacity              string
	ReturnItemCollectionMetrics         string
	legacy
}

func (db *DB) deleteItem(in *deleteItemIn) (attributesOut, error) {
	t, err := db.table(in.TableName)
	if err != nil {
		return attributesOut{}, err
	}
	if err := in.legacy.check(); err != nil {
		return attributesOut{}, err
	}
	if in.ReturnValues != "" && in.ReturnValues != "NONE" && in.ReturnValues != "ALL_OLD" {
		return attributesOut{}, validationf("ReturnValues can only be ALL_OLD or NONE")
	}
	if err := checkKey(t, in.Key); err != nil {
		return attributesOut{}, err
	}
	e := newExprs(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	cond, err := e.condition(in.ConditionExpression)
	if err != nil {
		return attributesOut{}, err
	}
	if err := e.done(); err != nil {
		return attributesOut{}, err
	}
	st := &writeStep{t: t, key: in.Key, delete: true, cond: cond, returnOld: in.ReturnValuesOnConditionCheckFailure == "ALL_OLD"}
	old, _, err := db.writeOne(st)
	if err != nil {
		return attributesOut{}, err
	}
	if in.ReturnValues == "ALL_OLD" {
		return attributesOut{Attributes: old}, nil
	}
	return attributesOut{}, nil
}

type updateItemIn struct {
	TableName                           string
	Key                                 Item
	UpdateExpression                    *string
	ConditionExpression                 *string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]Value
	ReturnValues                        string
	ReturnValuesOnConditionCheckFailure string
	ReturnConsumedCapacity              string
	ReturnItemCollectionMetrics         string
	legacy
}

// parseUpdate parses an update expression and refuses one that changes a key attribute.
func parseUpdate(t *tableDesc, e *exprs, expr *string) (*Update, error) {
	if expr == nil {
		return nil, validationf("Pigeon's embedded DynamoDB needs an UpdateExpression")
	}
	u, err := ParseUpdate(*expr, e.names, e.values, &e.refs)
	if err != nil {
		return nil, validation(err)
	}
	s := t.schema()
	for _, n := range u.TopLevelNames() {
		if n == s.hash || (s.rng != "" && n == s.rng) {
			return nil, validationf("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", n)
		}
	}
	return u, nil
}

func (db *DB) updateItem(in *updateItemIn) (attributesOut, error) {
	t, err := db.table(in.TableName)
	if err != nil {
		return attributesOut{}, err
	}
	if err := in.legacy.check(); err != nil {
		return attributesOut{}, err
	}
	switch in.ReturnValues {
	case "", "NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW":
	default:
		return attributesOut{}, validationf("1 validation error detected: Value '%s' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]", in.ReturnValues)
	}
	if err := checkKey(t, in.Key); err != nil {
		return attributesOut{}, err
	}
	e := newExprs(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	u, err := parseUpdate(t, e, in.UpdateExpression)
	if err != nil {
		return attributesOut{}, err
	}
	cond, err := e.condition(in.ConditionExpression)
	if err != nil {
		return attributesOut{}, err
	}
	if err := e.done(); err != nil {
		return attributesOut{}, err
	}
	st := &writeStep{t: t, key: in.Key, update: u, cond: cond, returnOld: in.ReturnValuesOnConditionCheckFailure == "ALL_OLD"}
	old, new, err := db.writeOne(st)
	if err != nil {
		return attributesOut{}, err
	}
	switch in.ReturnValues {
	case "ALL_OLD":
		return attributesOut{Attributes: old}, nil
	case "ALL_NEW":
		return attributesOut{Attributes: new}, nil
	case "UPDATED_OLD":
		return attributesOut{Attributes: u.UpdatedPaths().Apply(old)}, nil
	case "UPDATED_NEW":
		return attributesOut{Attributes: u.UpdatedPaths().Apply(new)}, nil
	}
	return attributesOut{}, nil
}

type getItemIn struct {
	TableName                string
	Key                      Item
	ConsistentRead           *bool
	ProjectionExpression     *string
	ExpressionAttributeNames map[string]string
	ReturnConsumedCapacity   string
	legacy
}

type getItemOut struct {
	Item Item `json:",omitempty"`
}

func (db *DB) getItem(in *getItemIn) (getItemOut, error) {
	t, err := db.table(in.TableName)
	if err != nil {
		return getItemOut{}, err
	}
	if err := in.legacy.check(); err != nil {
		return getItemOut{}, err
	}
	if err := checkKey(t, in.Key); err != nil {
		return getItemOut{}, err
	}
	e := newExprs(in.ExpressionAttributeNames, nil)
	proj, err := e.projection(in.ProjectionExpression)
	if err != nil {
		return getItemOut{}, err
	}
	if err := e.done(); err != nil {
		return getItemOut{}, err
	}
	it, err := db.readItem(db.pdb, itemKey(t, in.Key))
	if err != nil || it == nil {
		return getItemOut{}, err
	}
	if proj != nil {
		it = proj.Apply(it)
	}
	return getItemOut{Item: it}, nil
}

// transactWriteItemsIn is at most 100 actions, each on a different item, all or nothing.
type transactWriteItemsIn struct {
	TransactItems []struct {
		ConditionCheck *transactAction
		Put            *transactAction
		Delete         *transactAction
		Update         *transactAction
	}
	ClientRequestToken          string
	ReturnConsumedCapacity      string
	ReturnItemCollectionMetrics string
}

type transactAction struct {
	TableName                           string
	Key                                 Item
	Item                                Item
	UpdateExpression                    *string
	ConditionExpression                 *string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]Value
	ReturnValuesOnConditionCheckFailure string
}

type cancellationReason struct {
	Code    string
	Message string `json:",omitempty"`
	Item    Item   `json:",omitempty"`
}

func (db *DB) transactWriteItems(in *transactWriteItemsIn) (struct{}, error) {
	n := len(in.TransactItems)
	if n == 0 || n > 100 {
		return struct{}{}, validationf("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100, Member must have length greater than or equal to 1")
	}
	steps := make([]*writeStep, n)
	size := 0
	for i, ti := range in.TransactItems {
		var a *transactAction
		kind := ""
		for _, c := range []struct {
			name string
			a    *transactAction
		}{{"ConditionCheck", ti.ConditionCheck}, {"Put", ti.Put}, {"Delete", ti.Delete}, {"Update", ti.Update}} {
			if c.a != nil {
				if a != nil {
					return struct{}{}, validationf("TransactItems can only contain one of Check, Put, Update or Delete")
				}
				a, kind = c.a, c.name
			}
		}
		if a == nil {
			return struct{}{}, validationf("TransactItems can only contain one of Check, Put, Update or Delete")
		}
		st, err := db.planAction(kind, a)
		if err != nil {
			return struct{}{}, err
		}
		if st.put != nil {
			size += st.put.Size()
		}
		steps[i] = st
	}
	if size > 4<<20 {
		return struct{}{}, validationf("Transaction request cannot be larger than 4 MB")
	}
	var reasons []cancellationReason
	err := db.write(func(tx *txn) error {
		reasons = make([]cancellationReason, n)
		failed := false
		for i, st := range steps {
			reasons[i] = cancellationReason{Code: "None"}
			_, _, err := st.run(tx)
			if err == nil {
				continue
			}
			ae := validation(err)
			switch ae.code {
			case "ConditionalCheckFailedException":
				reasons[i] = cancellationReason{Code: "ConditionalCheckFailed", Message: ae.msg}
				if it, ok := ae.extra["Item"].(Item); ok {
					reasons[i].Item = it
				}
			case "ValidationException":
				if ae.msg == "Transaction request cannot include multiple operations on one item" {
					return ae
				}
				reasons[i] = cancellationReason{Code: "ValidationError", Message: ae.msg}
			default:
				return err
			}
			failed = true
		}
		if failed {
			tx.muts = nil
			codes := make([]string, n)
			for i, r := range reasons {
				codes[i] = r.Code
			}
			return &apiError{
				code:  "TransactionCanceledException",
				msg:   fmt.Sprintf("Transaction cancelled, please refer cancellation reasons for specific reasons [%s]", joinCodes(codes)),
				extra: map[string]any{"CancellationReasons": reasons},
			}
		}
		return nil
	})
	return struct{}{}, err
}

func joinCodes(codes []string) string {
	out := ""
	for i, c := range codes {
		if i > 0 {
			out += ", "
		}
		out += c
	}
	return out
}

// planAction turns one transaction action into a write step, parsing its expressions.
func (db *DB) planAction(kind string, a *transactAction) (*writeStep, error) {
	t, err := db.table(a.TableName)
	if err != nil {
		return nil, err
	}
	e := newExprs(a.ExpressionAttributeNames, a.ExpressionAttributeValues)
	st := &writeStep{t: t, key: a.Key, returnOld: a.ReturnValuesOnConditionCheckFailure == "ALL_OLD"}
	if st.cond, err = e.condition(a.ConditionExpression); err != nil {
		return nil, err
	}
	switch kind {
	case "Put":
		if a.Item == nil {
			a.Item = Item{}
		}
		if err := checkItem(t, a.Item); err != nil {
			return nil, err
		}
		s := t.schema()
		st.key = Item{s.hash: a.Item[s.hash]}
		if s.rng != "" {
			st.key[s.rng] = a.Item[s.rng]
		}
		st.put = a.Item
	case "Update":
		if st.update, err = parseUpdate(t, e, a.UpdateExpression); err != nil {
			return nil, err
		}
	case "Delete":
		st.delete = true
	case "ConditionCheck":
		if st.cond == nil {
			return nil, validationf("The ConditionExpression of a ConditionCheck must be set")
		}
	}
	if kind != "Put" {
		if err := checkKey(t, a.Key); err != nil {
			return nil, err
		}
	}
	if err := e.done(); err != nil {
		return nil, err
	}
	return st, nil
}

type batchWriteItemIn struct {
	RequestItems map[string][]struct {
		PutRequest    *struct{ Item Item }
		DeleteRequest *struct{ Key Item }
	}
	ReturnConsumedCapacity      string
	ReturnItemCollectionMetrics string
}

type batchWriteItemOut struct {
	UnprocessedItems map[string]json.RawMessage
}

// batchWriteItem writes up to 25 puts and deletes, unconditionally, in one commit. Nothing is
// ever left unprocessed.
func (db *DB) batchWriteItem(in *batchWriteItemIn) (batchWriteItemOut, error) {
	var steps []*writeStep
	tables := make([]string, 0, len(in.RequestItems))
	for name := range in.RequestItems {
		tables = append(tables, name)
	}
	slices.Sort(tables)
	for _, name := range tables {
		t, err := db.table(name)
		if err != nil {
			return batchWriteItemOut{}, err
		}
		for _, r := range in.RequestItems[name] {
			switch {
			case r.PutRequest != nil && r.DeleteRequest == nil:
				if r.PutRequest.Item == nil {
					r.PutRequest.Item = Item{}
				}
				if err := checkItem(t, r.PutRequest.Item); err != nil {
					return batchWriteItemOut{}, err
				}
				s := t.schema()
				key := Item{s.hash: r.PutRequest.Item[s.hash]}
				if s.rng != "" {
					key[s.rng] = r.PutRequest.Item[s.rng]
				}
				steps = append(steps, &writeStep{t: t, key: key, put: r.PutRequest.Item})
			case r.DeleteRequest != nil && r.PutRequest == nil:
				if err := checkKey(t, r.DeleteRequest.Key); err != nil {
					return batchWriteItemOut{}, err
				}
				steps = append(steps, &writeStep{t: t, key: r.DeleteRequest.Key, delete: true})
			default:
				return batchWriteItemOut{}, validationf("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
			}
		}
	}
	if len(steps) == 0 || len(steps) > 25 {
		return batchWriteItemOut{}, validationf("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]")
	}
	err := db.write(func(tx *txn) error {
		for _, st := range steps {
			if _, _, err := st.run(tx); err != nil {
				if ae := validation(err); ae.msg == "Transaction request cannot include multiple operations on one item" {
					return validationf("Provided list of item keys contains duplicates")
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		return batchWriteItemOut{}, err
	}
	return batchWriteItemOut{UnprocessedItems: map[string]json.RawMessage{}}, nil
}
