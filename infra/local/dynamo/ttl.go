package dynamo

import (
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/cockroachdb/pebble"
)

// Time to live: with UpdateTimeToLive enabled on an attribute, an item whose attribute holds
// a Number of epoch seconds gets a TTL entry keyed by that time, so the sweeper finds the
// expired items in time order without a scan. Like DynamoDB, expired items stay readable until
// the sweeper deletes them (here within a second or so; DynamoDB takes up to a few days), the
// deletion is a REMOVE stream record whose userIdentity is DynamoDB's service principal, and
// items whose attribute is not a Number, or lies more than five years in the past, are never
// deleted.

// sweepEvery is how often the sweeper looks for expired items and stream records.
const sweepEvery = time.Second

const fiveYears = 5 * 365 * 24 * time.Hour

// ttlOf is an item's expiry in epoch seconds, when its table has TTL on and the item has one.
func ttlOf(t *tableDesc, it Item) (uint64, bool) {
	if t.TTLAttribute == "" {
		return 0, false
	}
	v, ok := it[t.TTLAttribute]
	if !ok || v.Kind != KindN {
		return 0, false
	}
	r, ok := parseNumber(v.S)
	if !ok || r.Sign() < 0 {
		return 0, false
	}
	n := new(big.Int).Quo(r.Num(), r.Denom())
	if !n.IsUint64() {
		return 0, false
	}
	return n.Uint64(), true
}

func (db *DB) sweeper() {
	defer db.wg.Done()
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-tick.C:
		}
		db.mu.RLock()
		tables := make([]*tableDesc, 0, len(db.tables))
		for _, t := range db.tables {
			tables = append(tables, t)
		}
		db.mu.RUnlock()
		for _, t := range tables {
			if err := db.expireItems(t); err != nil && err != errClosed {
				db.log.Error("dynamo: TTL sweep", "table", t.TableName, "err", err)
			}
			if err := db.trimStream(t); err != nil && err != errClosed {
				db.log.Error("dynamo: stream retention", "table", t.TableName, "err", err)
			}
		}
	}
}

// expireItems deletes the items of t whose TTL has passed, up to 100 per write.
func (db *DB) expireItems(t *tableDesc) error {
	if t.TTLAttribute == "" {
		return nil
	}
	now := db.now()
	p := prefix(famTTL, t.TableName)
	lo := p
	if past := now.Add(-fiveYears).Unix(); past > 0 {
		lo = append(append([]byte(nil), p...), be64(uint64(past))...)
	}
	for {
		it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: append(append([]byte(nil), p...), be64(uint64(now.Unix()))...)})
		if err != nil {
			return err
		}
		var keys [][]byte
		for ok := it.First(); ok && len(keys) < 100; ok = it.Next() {
			keys = append(keys, append(prefix(famItem, t.TableName), it.Key()[len(p)+8:]...))
		}
		it.Close()
		if len(keys) == 0 {
			return nil
		}
		if err := db.write(func(tx *txn) error {
			for _, k := range keys {
				old, err := tx.get(k)
				if err != nil {
					return err
				}
				if exp, ok := ttlOf(t, old); old == nil || !ok || exp >= uint64(now.Unix()) {
					continue // changed since it was found
				}
				tx.muts = append(tx.muts, mutation{t: t, key: k, old: old, ttlOnly: true})
			}
			return nil
		}); err != nil {
			return err
		}
		if len(keys) < 100 {
			return nil
		}
	}
}

// trimStream deletes t's stream records older than the retention period, and those that
// every consumer named in Options.TrimConsumed has checkpointed past.
func (db *DB) trimStream(t *tableDesc) error {
	p := prefix(famStream, t.TableName)
	consumed, err := db.consumedSeq(t.TableName)
	if err != nil {
		return err
	}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: append(append([]byte(nil), p...), be64(consumed+1)...), UpperBound: prefixEnd(p)})
	if err != nil {
		return err
	}
	cutoff := db.now().Add(-streamRetention).Unix()
	var last []byte
	if consumed > 0 {
		last = append(append([]byte(nil), p...), be64(consumed)...)
	}
	for ok := it.First(); ok; ok = it.Next() {
		var rec struct {
			Change struct{ ApproximateCreationDateTime int64 } `json:"dynamodb"`
		}
		_, _, raw, ok := splitStreamValue(it.Value())
		if !ok || jsonUnmarshal(raw, &rec) != nil || rec.Change.ApproximateCreationDateTime >= cutoff {
			break
		}
		last = append(last[:0], it.Key()...)
	}
	it.Close()
	if last == nil || string(last) == string(db.trimmed[t.TableName]) {
		return nil
	}
	end := append(last, 0)
	err = db.write(func(tx *txn) error {
		if err := tx.markStream(t.TableName); err != nil {
			return err
		}
		return tx.b.DeleteRange(p, end, nil)
	})
	if err == nil {
		db.trimmed[t.TableName] = last
	}
	return err
}

// consumedSeq is the sequence number that every consumer of Options.TrimConsumed has
// checkpointed past on table's stream: 0 when there are none, or one has no checkpoint.
func (db *DB) consumedSeq(table string) (uint64, error) {
	var min uint64
	for i, c := range db.trimConsumed {
		cp, err := db.LoadCheckpoint(c, table)
		if err != nil || cp == "" {
			return 0, err
		}
		n, err := strconv.ParseUint(cp, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("dynamo: checkpoint of %s on %s: %q", c, table, cp)
		}
		if i == 0 || n < min {
			min = n
		}
	}
	return min, nil
}
