package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"
)

// Region and Account are what the ARNs of this database name.
const (
	Region  = "us-east-1"
	Account = "000000000000"
)

// DB is one durable DynamoDB-compatible database in a directory.
type DB struct {
	pdb  *pebble.DB
	sync *pebble.WriteOptions
	log  *slog.Logger
	now  func() time.Time

	mu     sync.RWMutex
	tables map[string]*tableDesc

	writes chan *writeReq
	stop   chan struct{}
	wg     sync.WaitGroup

	// Written by the writer goroutine only.
	streamSeq map[string]uint64

	// Used by the sweeper goroutine only.
	trimConsumed []string
	trimmed      map[string][]byte // per table, the last stream key trimmed

	notifyMu sync.Mutex
	notify   chan struct{} // closed (and replaced) after each commit that added stream records
}

// Options tune a DB. The zero value is what the local stack runs with.
type Options struct {
	Log *slog.Logger     // nil: slog.Default()
	Now func() time.Time // nil: time.Now; TTL and stream times
	// CacheBytes is pebble's block cache (default 16 MiB); MemTableBytes its memtable size
	// (default 8 MiB). Together they bound what the engine keeps in memory.
	CacheBytes, MemTableBytes int64
	// NoSync commits without fsync: for throw-away databases (tests), where a crash of the
	// machine may lose the last writes. The process crashing still loses nothing.
	NoSync bool
	// TrimConsumed names stream consumers (as given to Checkpoint) whose reading is all the
	// stream is kept for: a record every one of them has checkpointed past is deleted at the
	// next sweep instead of after 24 hours. DynamoDB keeps records for 24 hours whoever read
	// them; a local stack whose only reader is its own fanout has no use for them, and they
	// are most of what it writes to disk.
	TrimConsumed []string
}

// Open opens (creating when missing) the database in dir.
func Open(dir string, opts Options) (*DB, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("dynamo: %w", err)
	}
	if opts.CacheBytes == 0 {
		opts.CacheBytes = 16 << 20
	}
	if opts.MemTableBytes == 0 {
		opts.MemTableBytes = 8 << 20
	}
	cache := pebble.NewCache(opts.CacheBytes)
	defer cache.Unref()
	popts := &pebble.Options{
		Cache:        cache,
		MemTableSize: uint64(opts.MemTableBytes),
		Logger:       quietLogger{},
	}
	// Bloom filters on every level: most point reads of a write path (conditions on items
	// that do not exist yet, index entries, markers) look for keys that are absent, and a
	// filter answers those without reading a block.
	popts.Levels = make([]pebble.LevelOptions, 7)
	for i := range popts.Levels {
		popts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	pdb, err := pebble.Open(filepath.Join(dir), popts)
	if err != nil {
		return nil, fmt.Errorf("dynamo: open %s: %w", dir, err)
	}
	db := &DB{
		pdb: pdb, sync: pebble.Sync, log: opts.Log, now: opts.Now,
		tables: map[string]*tableDesc{}, streamSeq: map[string]uint64{},
		trimConsumed: opts.TrimConsumed, trimmed: map[string][]byte{},
		writes: make(chan *writeReq, 1024), stop: make(chan struct{}), notify: make(chan struct{}),
	}
	if opts.NoSync {
		db.sync = pebble.NoSync
	}
	if db.log == nil {
		db.log = slog.Default()
	}
	if db.now == nil {
		db.now = time.Now
	}
	if err := db.load(); err != nil {
		_ = pdb.Close()
		return nil, err
	}
	db.wg.Add(2)
	go db.writer()
	go db.sweeper()
	return db, nil
}

// load reads the table descriptions and each stream's last sequence number.
func (db *DB) load() error {
	p := []byte{famMeta, 0}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		var m metaRecord
		if err := json.Unmarshal(it.Value(), &m); err != nil {
			return fmt.Errorf("dynamo: table description %q: %w", it.Key(), err)
		}
		m.Table.TTLAttribute = m.TTLAttribute
		db.tables[m.Table.TableName] = m.Table
		seq, err := db.lastStreamSeq(m.Table.TableName)
		if err != nil {
			return err
		}
		db.streamSeq[m.Table.TableName] = seq
	}
	return nil
}

// metaRecord is what the m family holds for a table.
type metaRecord struct {
	Table        *tableDesc
	TTLAttribute string `json:",omitempty"`
}

func (db *DB) lastStreamSeq(table string) (uint64, error) {
	p := prefix(famStream, table)
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	var last uint64
	if it.Last() {
		k := it.Key()[len(p):]
		if len(k) != 8 {
			return 0, fmt.Errorf("dynamo: bad stream key %q", it.Key())
		}
		last = beUint64(k)
	}
	v, closer, err := db.pdb.Get(prefix(famStreamMark, table))
	if errors.Is(err, pebble.ErrNotFound) {
		return last, nil
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, fmt.Errorf("dynamo: bad stream mark %q", v)
	}
	return max(last, beUint64(v)), nil
}

// Close stops the writer and the sweeper, then closes the database. Writes still queued are
// answered with an error.
func (db *DB) Close() error {
	select {
	case <-db.stop:
		return nil
	default:
	}
	close(db.stop)
	db.wg.Wait()
	return db.pdb.Close()
}

func (db *DB) table(name string) (*tableDesc, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	t := db.tables[name]
	if t == nil {
		return nil, &apiError{code: "ResourceNotFoundException", msg: "Requested resource not found: Table: " + name + " not found"}
	}
	return t, nil
}

// quietLogger keeps pebble's informational lines out of the local stack's log.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}
func (quietLogger) Errorf(format string, args ...any) {
	slog.Error("dynamo: pebble: " + fmt.Sprintf(format, args...))
}
func (quietLogger) Fatalf(format string, args ...any) {
	slog.Error("dynamo: pebble: " + fmt.Sprintf(format, args...))
	os.Exit(1)
}

var errClosed = errors.New("dynamo: database closed")

// ctxDone reports ctx's error, or errClosed once the database is closing.
func (db *DB) ctxDone(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-db.stop:
		return errClosed
	default:
		return nil
	}
}
