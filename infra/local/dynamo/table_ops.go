package dynamo

import (
	"encoding/json"
	"slices"

	"github.com/cockroachdb/pebble"
)

type createTableIn struct {
	TableName              string
	AttributeDefinitions   []attrDef
	KeySchema              []keyAttr
	GlobalSecondaryIndexes []struct {
		IndexName  string
		KeySchema  []keyAttr
		Projection projection
	}
	LocalSecondaryIndexes []json.RawMessage
	BillingMode           string
	StreamSpecification   *streamSpec
}

type tableOut struct {
	TableDescription *tableDesc `json:",omitempty"`
	Table            *tableDesc `json:",omitempty"`
}

func (db *DB) createTable(in *createTableIn) (tableOut, error) {
	t := newTableDesc(in.TableName, db.now())
	t.AttributeDefinitions, t.KeySchema = in.AttributeDefinitions, in.KeySchema
	for _, g := range in.GlobalSecondaryIndexes {
		t.GlobalSecondaryIndexes = append(t.GlobalSecondaryIndexes, indexDesc{IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection})
	}
	if in.BillingMode != "" {
		t.BillingModeSummary = &billingMode{BillingMode: in.BillingMode}
	}
	if s := in.StreamSpecification; s != nil && s.StreamEnabled {
		t.StreamSpecification = s
		t.LatestStreamLabel = db.now().UTC().Format("2006-01-02T15:04:05.000")
		t.LatestStreamArn = streamArn(t)
	}
	if err := validateCreate(t, len(in.LocalSecondaryIndexes)); err != nil {
		return tableOut{}, err
	}
	err := db.write(func(tx *txn) error {
		db.mu.RLock()
		exists := db.tables[t.TableName] != nil
		db.mu.RUnlock()
		if exists {
			return &apiError{code: "ResourceInUseException", msg: "Table already exists: " + t.TableName}
		}
		// A table created again continues the numbering of its stream's earlier records.
		seq, err := db.lastStreamSeq(t.TableName)
		if err != nil {
			return err
		}
		db.streamSeq[t.TableName] = max(db.streamSeq[t.TableName], seq)
		raw, _ := json.Marshal(metaRecord{Table: t})
		tx.muts = append(tx.muts, mutation{meta: true, key: prefix(famMeta, t.TableName), raw: raw})
		tx.onCommit = append(tx.onCommit, func() {
			db.mu.Lock()
			db.tables[t.TableName] = t
			db.mu.Unlock()
		})
		return nil
	})
	if err != nil {
		return tableOut{}, err
	}
	return tableOut{TableDescription: t}, nil
}

type tableNameIn struct{ TableName string }

func (db *DB) describeTable(in *tableNameIn) (tableOut, error) {
	t, err := db.table(in.TableName)
	if err != nil {
		return tableOut{}, err
	}
	return tableOut{Table: t}, nil
}

func (db *DB) deleteTable(in *tableNameIn) (tableOut, error) {
	t, err := db.table(in.TableName)
	if err != nil {
		return tableOut{}, err
	}
	err = db.write(func(tx *txn) error {
		if err := tx.markStream(t.TableName); err != nil {
			return err
		}
		for _, fam := range []byte{famItem, famIndex, famTTL, famStream} {
			p := prefix(fam, t.TableName)
			if err := tx.b.DeleteRange(p, prefixEnd(p), nil); err != nil {
				return err
			}
		}
		tx.muts = append(tx.muts, mutation{meta: true, key: prefix(famMeta, t.TableName)})
		tx.onCommit = append(tx.onCommit, func() {
			db.mu.Lock()
			delete(db.tables, t.TableName)
			db.mu.Unlock()
		})
		return nil
	})
	if err != nil {
		return tableOut{}, err
	}
	d := *t
	d.TableStatus = "DELETING"
	return tableOut{TableDescription: &d}, nil
}

type listTablesIn struct {
	ExclusiveStartTableName string
	Limit                   int
}

type listTablesOut struct {
	TableNames             []string
	LastEvaluatedTableName string `json:",omitempty"`
}

func (db *DB) listTables(in *listTablesIn) (listTablesOut, error) {
	db.mu.RLock()
	names := make([]string, 0, len(db.tables))
	for n := range db.tables {
		if n > in.ExclusiveStartTableName {
			names = append(names, n)
		}
	}
	db.mu.RUnlock()
	slices.Sort(names)
	out := listTablesOut{TableNames: names}
	if limit := in.Limit; limit > 0 && len(names) > limit {
		out.TableNames = names[:limit]
		out.LastEvaluatedTableName = names[limit-1]
	}
	return out, nil
}

type ttlSpec struct {
	AttributeName string
	Enabled       bool
}

type updateTTLIn struct {
	TableName               string
	TimeToLiveSpecification ttlSpec
}

type updateTTLOut struct{ TimeToLiveSpecification ttlSpec }

// updateTimeToLive turns TTL on or off. Turning it on indexes the items already stored.
func (db *DB) updateTimeToLive(in *updateTTLIn) (updateTTLOut, error) {
	t, err := db.table(in.TableName)
	if err != nil {
		return updateTTLOut{}, err
	}
	spec := in.TimeToLiveSpecification
	if spec.AttributeName == "" {
		return updateTTLOut{}, validationf("1 validation error detected: Value null at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not be null")
	}
	switch {
	case spec.Enabled && t.TTLAttribute != "":
		return updateTTLOut{}, validationf("TimeToLive is already enabled")
	case !spec.Enabled && t.TTLAttribute == "":
		return updateTTLOut{}, validationf("TimeToLive is already disabled")
	case !spec.Enabled && t.TTLAttribute != spec.AttributeName:
		return updateTTLOut{}, validationf("TimeToLive is active on a different AttributeName: current AttributeName is %s", t.TTLAttribute)
	}
	next := *t
	next.TTLAttribute = ""
	if spec.Enabled {
		next.TTLAttribute = spec.AttributeName
	}
	err = db.write(func(tx *txn) error {
		// Rewrite the TTL entries: drop those of the old setting, add those of the new one.
		p := prefix(famTTL, t.TableName)
		if err := tx.b.DeleteRange(p, prefixEnd(p), nil); err != nil {
			return err
		}
		if next.TTLAttribute != "" {
			ip := prefix(famItem, t.TableName)
			it, err := tx.b.NewIter(&pebble.IterOptions{LowerBound: ip, UpperBound: prefixEnd(ip)})
			if err != nil {
				return err
			}
			defer it.Close()
			for ok := it.First(); ok; ok = it.Next() {
				item, err := decodeItem(it.Value())
				if err != nil {
					return err
				}
				if exp, ok := ttlOf(&next, item); ok {
					k := append(append(append([]byte(nil), p...), be64(exp)...), it.Key()[len(ip):]...)
					if err := tx.b.Set(k, nil, nil); err != nil {
						return err
					}
				}
			}
		}
		raw, _ := json.Marshal(metaRecord{Table: &next, TTLAttribute: next.TTLAttribute})
		tx.muts = append(tx.muts, mutation{meta: true, key: prefix(famMeta, t.TableName), raw: raw})
		tx.onCommit = append(tx.onCommit, func() {
			db.mu.Lock()
			db.tables[t.TableName] = &next
			db.mu.Unlock()
		})
		return nil
	})
	if err != nil {
		return updateTTLOut{}, err
	}
	return updateTTLOut{TimeToLiveSpecification: spec}, nil
}

type describeTTLOut struct {
	TimeToLiveDescription struct {
		TimeToLiveStatus string
		AttributeName    string `json:",omitempty"`
	}
}

func (db *DB) describeTimeToLive(in *tableNameIn) (describeTTLOut, error) {
	t, err := db.table(in.TableName)
	if err != nil {
		return describeTTLOut{}, err
	}
	var out describeTTLOut
	out.TimeToLiveDescription.TimeToLiveStatus = "DISABLED"
	if t.TTLAttribute != "" {
		out.TimeToLiveDescription.TimeToLiveStatus = "ENABLED"
		out.TimeToLiveDescription.AttributeName = t.TTLAttribute
	}
	return out, nil
}
