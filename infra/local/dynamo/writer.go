package dynamo

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/cockroachdb/pebble"
)

// Writes go through one goroutine, which makes every request serializable without locks on
// items: it takes the first waiting request and every other one already queued, runs them one
// after another against an indexed batch (each sees the ones before it), and commits the
// batch with one fsync. Only then does each request get its answer, so an acknowledged write
// is on disk, and a group of concurrent writers shares one fsync (group commit).
//
// A request runs in two steps: it reads and checks (conditions, sizes, types) and records the
// mutations it wants; only if all of that succeeds are the mutations added to the batch. So
// a request that fails adds nothing, and a transaction is all or nothing.

type writeReq struct {
	fn   func(*txn) error
	done chan error
}

// maxGroup bounds how many requests share one commit.
const maxGroup = 256

// write runs fn as one atomic, durable write.
func (db *DB) write(fn func(*txn) error) error {
	req := &writeReq{fn: fn, done: make(chan error, 1)}
	select {
	case db.writes <- req:
	case <-db.stop:
		return errClosed
	}
	select {
	case err := <-req.done:
		return err
	case <-db.stop:
		// The writer drains what it took before it stops; wait for that answer.
		return <-req.done
	}
}

func (db *DB) writer() {
	defer db.wg.Done()
	group := make([]*writeReq, 0, maxGroup)
	for {
		group = group[:0]
		select {
		case req := <-db.writes:
			group = append(group, req)
		case <-db.stop:
			db.refuseQueued()
			return
		}
	drain:
		for len(group) < maxGroup {
			select {
			case req := <-db.writes:
				group = append(group, req)
			default:
				break drain
			}
		}
		db.commitGroup(group)
	}
}

// refuseQueued answers the requests still queued at Close.
func (db *DB) refuseQueued() {
	for {
		select {
		case req := <-db.writes:
			req.done <- errClosed
		default:
			return
		}
	}
}

func (db *DB) commitGroup(group []*writeReq) {
	b := db.pdb.NewIndexedBatch()
	defer b.Close()
	errs := make([]error, len(group))
	streamed := false
	seqBefore := map[string]uint64{}
	for t, s := range db.streamSeq {
		seqBefore[t] = s
	}
	var metaChanges []func()
	for i, req := range group {
		tx := &txn{db: db, b: b}
		if errs[i] = req.fn(tx); errs[i] == nil {
			errs[i] = tx.apply()
		}
		if errs[i] == nil {
			streamed = streamed || tx.streamed
			metaChanges = append(metaChanges, tx.onCommit...)
		}
	}
	if !b.Empty() {
		if err := b.Commit(db.sync); err != nil {
			err = fmt.Errorf("dynamo: commit: %w", err)
			for i := range errs {
				if errs[i] == nil {
					errs[i] = err
				}
			}
			db.streamSeq = seqBefore
			metaChanges, streamed = nil, false
		}
	}
	for _, f := range metaChanges {
		f()
	}
	if streamed {
		db.notifyMu.Lock()
		close(db.notify)
		db.notify = make(chan struct{})
		db.notifyMu.Unlock()
	}
	for i, req := range group {
		req.done <- errs[i]
	}
}

// txn is one write request's view: reads see the database plus the earlier requests of its
// group; mutations wait in muts until the request has succeeded.
type txn struct {
	db       *DB
	b        *pebble.Batch
	muts     []mutation
	touched  map[string]bool
	onCommit []func()
	streamed bool
}

type mutation struct {
	t        *tableDesc
	key      []byte // item key
	old, new Item   // nil old: the item did not exist; nil new: delete
	ttlOnly  bool   // removed by TTL (the stream record names DynamoDB's service identity)
	raw      []byte // for meta mutations: the value to set (nil deletes)
	meta     bool
}

// get reads an item by its key bytes.
func (tx *txn) get(key []byte) (Item, error) { return tx.db.readItem(tx.b, key) }

// markStream records the table's last stream sequence number before its records are removed,
// so that numbering never restarts below a consumer's checkpoint.
func (tx *txn) markStream(table string) error {
	return tx.b.Set(prefix(famStreamMark, table), be64(tx.db.streamSeq[table]), nil)
}

// touch claims an item for this request; a transaction may not touch one item twice.
func (tx *txn) touch(key []byte) bool {
	if tx.touched == nil {
		tx.touched = map[string]bool{}
	}
	k := string(key)
	if tx.touched[k] {
		return false
	}
	tx.touched[k] = true
	return true
}

func (tx *txn) put(t *tableDesc, key []byte, old, new Item) {
	tx.muts = append(tx.muts, mutation{t: t, key: key, old: old, new: new})
}

// apply adds the request's mutations to the batch: the item, its index and TTL entries, and
// the stream record.
func (tx *txn) apply() error {
	for _, m := range tx.muts {
		if m.meta {
			if m.raw == nil {
				if err := tx.b.Delete(m.key, nil); err != nil {
					return err
				}
			} else if err := tx.b.Set(m.key, m.raw, nil); err != nil {
				return err
			}
			continue
		}
		if err := tx.applyItem(m); err != nil {
			return err
		}
	}
	return nil
}

func (tx *txn) applyItem(m mutation) error {
	t := m.t
	if m.old != nil {
		for _, k := range secondaryKeys(t, m.old) {
			if err := tx.b.Delete(k, nil); err != nil {
				return err
			}
		}
	}
	if m.new == nil {
		if err := tx.b.Delete(m.key, nil); err != nil {
			return err
		}
	} else {
		raw, _ := json.Marshal(m.new)
		if err := tx.b.Set(m.key, raw, nil); err != nil {
			return err
		}
		for _, k := range secondaryKeys(t, m.new) {
			if err := tx.b.Set(k, nil, nil); err != nil {
				return err
			}
		}
	}
	// DynamoDB Streams writes no record for a write that changed nothing.
	if t.StreamSpecification == nil || !t.StreamSpecification.StreamEnabled || (m.old == nil && m.new == nil) || itemsEqual(m.old, m.new) {
		return nil
	}
	seq := tx.db.streamSeq[t.TableName] + 1
	tx.db.streamSeq[t.TableName] = seq
	rec := streamRecord(t, seq, tx.db.now(), m)
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	tx.streamed = true
	val := appendStreamHeader(nil, rec.EventName, keyBytes(rec.Change.Keys[t.schema().hash]))
	return tx.b.Set(append(prefix(famStream, t.TableName), be64(seq)...), append(val, raw...), nil)
}

// secondaryKeys are the GSI and TTL entries an item has.
func secondaryKeys(t *tableDesc, it Item) [][]byte {
	s := t.schema()
	pk, sk := keyBytes(it[s.hash]), []byte(nil)
	if s.rng != "" {
		sk = keyBytes(it[s.rng])
	}
	var out [][]byte
	for i := range t.GlobalSecondaryIndexes {
		g := &t.GlobalSecondaryIndexes[i]
		gs := schemaOf(g.KeySchema, t.AttributeDefinitions)
		k, ok := indexKey(t.TableName, g.IndexName, gs, it, pk, sk)
		if ok {
			out = append(out, k)
		}
	}
	if exp, ok := ttlOf(t, it); ok {
		k := append(prefix(famTTL, t.TableName), be64(exp)...)
		k = appendComponent(k, pk)
		k = appendComponent(k, sk)
		out = append(out, k)
	}
	return out
}

// indexKey is an item's entry in one GSI; ok is false when the item lacks the index's key
// attributes (GSIs are sparse).
func indexKey(table, index string, gs schema, it Item, pk, sk []byte) ([]byte, bool) {
	h, ok := it[gs.hash]
	if !ok || h.Kind.String() != gs.hashType {
		return nil, false
	}
	k := appendComponent(prefix(famIndex, table, index), keyBytes(h))
	if gs.rng != "" {
		r, ok := it[gs.rng]
		if !ok || r.Kind.String() != gs.rngType {
			return nil, false
		}
		k = appendComponent(k, keyBytes(r))
	}
	k = appendComponent(k, pk)
	return appendComponent(k, sk), true
}

// itemKey is the key of the item with these key attribute values.
func itemKey(t *tableDesc, it Item) []byte {
	s := t.schema()
	k := appendComponent(prefix(famItem, t.TableName), keyBytes(it[s.hash]))
	var sk []byte
	if s.rng != "" {
		sk = keyBytes(it[s.rng])
	}
	return appendComponent(k, sk)
}

func decodeItem(raw []byte) (Item, error) {
	it, _, err := parseItem(raw)
	if err != nil {
		return nil, fmt.Errorf("dynamo: stored item: %w", err)
	}
	return it, nil
}

func beUint64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// eventID is a stream record's id: stable for one record, distinct across records and tables.
func eventID(table string, seq uint64) string {
	sum := sha256.Sum256(append([]byte(table+"\x00"), be64(seq)...))
	return hex.EncodeToString(sum[:16])
}

// itemsEqual says whether two existing items hold the same attributes and values.
func itemsEqual(a, b Item) bool {
	if a == nil || b == nil || len(a) != len(b) {
		return false
	}
	for k, av := range a {
		bv, ok := b[k]
		if !ok || !Equal(av, bv) {
			return false
		}
	}
	return true
}
