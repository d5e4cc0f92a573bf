package s3store

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/johannesboyne/gofakes3"
)

// Options tune a Store. The zero value is what the local stack runs with.
type Options struct {
	// NoSync acknowledges writes before they are synced: for stores thrown away with their
	// directory (tests, the local stack's ephemeral mode).
	NoSync bool
	// CacheBytes is pebble's block cache (default 4 MiB) and MemTableBytes its memtable size
	// (default 4 MiB; up to two are kept): together what the store holds in memory. Objects
	// are mostly read right after they are written, from the memtable; older ones come
	// through the kernel's page cache, which does not count against the process.
	CacheBytes, MemTableBytes int64
	Log                       *slog.Logger // nil: slog.Default()
}

// Keys in pebble. Bucket names never contain '/', so each bucket's objects are one range,
// in key order.
const (
	bucketPrefix = "b/" // b/<bucket> → creation time (RFC 3339)
	metaPrefix   = "m/" // m/<bucket>/<key> → header JSON
	dataPrefix   = "d/" // d/<bucket>/<key> → prefix + header + bytes
)

func bucketKey(bucket string) []byte { return []byte(bucketPrefix + bucket) }
func metaKey(bucket, key string) []byte {
	return []byte(metaPrefix + bucket + "/" + key)
}
func dataKey(bucket, key string) []byte {
	return []byte(dataPrefix + bucket + "/" + key)
}

// prefixEnd is the smallest key after every key that starts with p.
func prefixEnd(p []byte) []byte {
	end := slices.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i]++; end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// Store is a durable gofakes3 backend in one directory.
type Store struct {
	db  *pebble.DB
	wo  *pebble.WriteOptions
	log *slog.Logger

	keys keyLocks
	// mu is held shared by every object write and exclusively while a bucket is created or
	// deleted; it guards buckets, the bucket list (kept in memory: there are few).
	mu      sync.RWMutex
	buckets map[string]time.Time

	closed atomic.Bool
}

var _ gofakes3.Backend = (*Store)(nil)

// Open opens the store in dir, creating it when missing.
func Open(dir string, opts Options) (*Store, error) {
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = 4 << 20
	}
	if opts.MemTableBytes <= 0 {
		opts.MemTableBytes = 4 << 20
	}
	s := &Store{log: opts.Log, wo: pebble.Sync, keys: keyLocks{m: map[string]*keyLock{}}, buckets: map[string]time.Time{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	if opts.NoSync {
		s.wo = pebble.NoSync
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("s3store: %w", err)
	}
	cache := pebble.NewCache(opts.CacheBytes)
	defer cache.Unref()
	db, err := pebble.Open(dir, &pebble.Options{
		Cache:        cache,
		MemTableSize: uint64(opts.MemTableBytes),
		Logger:       pebbleLogger{s.log},
	})
	if err != nil {
		return nil, fmt.Errorf("s3store: open %s: %w", dir, err)
	}
	s.db = db
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte(bucketPrefix), UpperBound: prefixEnd([]byte(bucketPrefix))})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("s3store: %w", err)
	}
	for it.First(); it.Valid(); it.Next() {
		created, _ := time.Parse(time.RFC3339Nano, string(it.Value()))
		s.buckets[strings.TrimPrefix(string(it.Key()), bucketPrefix)] = created
	}
	if err := it.Close(); err != nil {
		db.Close()
		return nil, fmt.Errorf("s3store: %w", err)
	}
	return s, nil
}

// Close flushes and closes the store. Calls in flight must have ended.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("s3store: close: %w", err)
	}
	return nil
}

type pebbleLogger struct{ log *slog.Logger }

func (pebbleLogger) Infof(string, ...any) {}
func (l pebbleLogger) Fatalf(format string, args ...any) {
	l.log.Error("s3store: pebble: " + fmt.Sprintf(format, args...))
	os.Exit(1)
}

// validBucketName accepts what keeps one bucket's keys apart from another's: gofakes3 checks
// S3's rules on CreateBucket, but not for buckets created on first use.
func validBucketName(name string) bool {
	return name != "" && len(name) <= 255 && !strings.Contains(name, "/")
}

// ListBuckets lists the buckets.
func (s *Store) ListBuckets() ([]gofakes3.BucketInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]gofakes3.BucketInfo, 0, len(s.buckets))
	for name, created := range s.buckets {
		out = append(out, gofakes3.BucketInfo{Name: name, CreationDate: gofakes3.NewContentTime(created)})
	}
	slices.SortFunc(out, func(a, b gofakes3.BucketInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// BucketExists reports whether the bucket exists.
func (s *Store) BucketExists(name string) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.buckets[name]
	return ok, nil
}

// CreateBucket creates the bucket, durably.
func (s *Store) CreateBucket(name string) error {
	if !validBucketName(name) {
		return gofakes3.ResourceError(gofakes3.ErrInvalidBucketName, name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.buckets[name]; ok {
		return gofakes3.ResourceError(gofakes3.ErrBucketAlreadyExists, name)
	}
	now := time.Now().UTC()
	if err := s.db.Set(bucketKey(name), []byte(now.Format(time.RFC3339Nano)), s.wo); err != nil {
		return err
	}
	s.buckets[name] = now
	return nil
}

// DeleteBucket deletes the bucket if it is empty.
func (s *Store) DeleteBucket(name string) error { return s.deleteBucket(name, false) }

// ForceDeleteBucket deletes the bucket and everything in it.
func (s *Store) ForceDeleteBucket(name string) error { return s.deleteBucket(name, true) }

func (s *Store) deleteBucket(name string, force bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.buckets[name]; !ok {
		return gofakes3.BucketNotFound(name)
	}
	objects := metaKey(name, "")
	if !force {
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: objects, UpperBound: prefixEnd(objects)})
		if err != nil {
			return err
		}
		empty := !it.First()
		if err := it.Close(); err != nil {
			return err
		}
		if !empty {
			return gofakes3.ResourceError(gofakes3.ErrBucketNotEmpty, name)
		}
	}
	b := s.db.NewBatch()
	defer b.Close()
	data := dataKey(name, "")
	b.DeleteRange(objects, prefixEnd(objects), nil)
	b.DeleteRange(data, prefixEnd(data), nil)
	b.Delete(bucketKey(name), nil)
	if err := b.Commit(s.wo); err != nil {
		return err
	}
	delete(s.buckets, name)
	return nil
}

// ListBucket lists the bucket's objects that match prefix, in key order, one page at a time.
func (s *Store) ListBucket(bucket string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	if prefix == nil {
		prefix = &gofakes3.Prefix{}
	}
	if ok, _ := s.BucketExists(bucket); !ok {
		return nil, gofakes3.BucketNotFound(bucket)
	}
	lower := metaKey(bucket, "")
	if prefix.HasPrefix {
		lower = metaKey(bucket, prefix.Prefix)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	keyOf := func() string { return string(it.Key()[len(metaKey(bucket, "")):]) }
	valid := it.First()
	if page.HasMarker {
		valid = it.SeekGE(metaKey(bucket, page.Marker))
		if valid && keyOf() == page.Marker {
			valid = it.Next()
		}
	}

	objects := gofakes3.NewObjectList()
	var count int64
	var lastPrefix, lastKey string
	for ; valid; valid = it.Next() {
		key := keyOf()
		var match gofakes3.PrefixMatch
		if !prefix.Match(key, &match) {
			continue
		}
		if match.CommonPrefix {
			if match.MatchedPart == lastPrefix {
				continue // rolled up into the prefix already listed
			}
			objects.AddPrefix(match.MatchedPart)
			lastPrefix = match.MatchedPart
		} else {
			h, err := decodeHeader(it.Value())
			if err != nil {
				return nil, fmt.Errorf("%s/%s: %w", bucket, key, err)
			}
			objects.Add(&gofakes3.Content{
				Key: key, ETag: gofakes3.FormatETag(h.hash()), Size: h.Size,
				LastModified: gofakes3.NewContentTime(h.modified()),
			})
		}
		lastKey = key
		count++
		if page.MaxKeys > 0 && count >= page.MaxKeys {
			// Truncated when a later key is not rolled up into the prefix just listed; the
			// marker skips that prefix's keys either way.
			for valid = it.Next(); valid; valid = it.Next() {
				next := keyOf()
				var nm gofakes3.PrefixMatch
				if !prefix.Match(next, &nm) {
					continue
				}
				if match.CommonPrefix && nm.CommonPrefix && nm.MatchedPart == lastPrefix {
					lastKey = next
					continue
				}
				objects.IsTruncated = true
				objects.NextMarker = lastKey
				break
			}
			break
		}
	}
	return objects, it.Error()
}

// notFound is NoSuchKey, or NoSuchBucket when the bucket is missing.
func (s *Store) notFound(bucket, key string) error {
	if ok, _ := s.BucketExists(bucket); !ok {
		return gofakes3.BucketNotFound(bucket)
	}
	return gofakes3.KeyNotFound(key)
}

// HeadObject returns the object's metadata.
func (s *Store) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	v, closer, err := s.db.Get(metaKey(bucket, key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, s.notFound(bucket, key)
	}
	if err != nil {
		return nil, err
	}
	h, err := decodeHeader(v)
	closer.Close()
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", bucket, key, err)
	}
	return &gofakes3.Object{
		Name: key, Metadata: h.metadata(), Size: h.Size, Hash: h.hash(),
		Contents: io.NopCloser(bytes.NewReader(nil)),
	}, nil
}

// GetObject returns the object, or the range of it that rng asks for.
func (s *Store) GetObject(bucket, key string, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	v, closer, err := s.db.Get(dataKey(bucket, key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, s.notFound(bucket, key)
	}
	if err != nil {
		return nil, err
	}
	h, body, err := decodeData(v)
	if err != nil {
		closer.Close()
		return nil, fmt.Errorf("%s/%s: %w", bucket, key, err)
	}
	r, err := rng.Range(h.Size)
	if err != nil {
		closer.Close()
		return nil, err
	}
	meta := h.metadata()
	if r != nil {
		body = body[r.Start : r.Start+r.Length]
		meta = withoutChecksums(meta)
	}
	return &gofakes3.Object{
		Name: key, Metadata: meta, Size: h.Size, Hash: h.hash(), Range: r,
		Contents: &valueReader{Reader: bytes.NewReader(body), closer: closer},
	}, nil
}

// withoutChecksums drops the whole-object checksums (x-amz-checksum-*, kept from the put's
// headers) that S3 leaves out of a ranged GET: the SDK would check them against the range.
func withoutChecksums(meta map[string]string) map[string]string {
	out := make(map[string]string, len(meta))
	for k, v := range meta {
		if !strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") {
			out[k] = v
		}
	}
	return out
}

// valueReader reads a value pebble lends until Close.
type valueReader struct {
	*bytes.Reader
	closer io.Closer
}

func (r *valueReader) Close() error { return r.closer.Close() }

// PutObject stores the object: committed and synced before it returns.
func (s *Store) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conds *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	var result gofakes3.PutObjectResult
	if size < 0 {
		return result, gofakes3.ErrMissingContentLength
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.buckets[bucket]; !ok {
		return result, gofakes3.BucketNotFound(bucket)
	}
	h := &header{Key: key, Size: size, MD5: zeroMD5, Modified: time.Now().UnixNano(), Meta: meta}
	prefix, _, err := h.encode()
	if err != nil {
		return result, err
	}
	// The body goes straight from the request into the batch's buffer, behind a header
	// whose MD5 is filled in once the body is read.
	b := s.db.NewBatch()
	defer b.Close()
	dk := dataKey(bucket, key)
	op := b.SetDeferred(len(dk), len(prefix)+int(size))
	copy(op.Key, dk)
	body := op.Value[len(prefix):]
	if err := readBody(input, body); err != nil {
		return result, err
	}
	sum := md5.Sum(body)
	h.MD5 = hex.EncodeToString(sum[:])
	prefix, js, err := h.encode()
	if err != nil {
		return result, err
	}
	copy(op.Value, prefix)
	if err := op.Finish(); err != nil {
		return result, err
	}
	if err := b.Set(metaKey(bucket, key), js, nil); err != nil {
		return result, err
	}

	unlock := s.keys.lock(bucket + "/" + key)
	defer unlock()
	if conds != nil {
		info, err := s.conditionalInfo(bucket, key)
		if err != nil {
			return result, err
		}
		if err := gofakes3.CheckPutConditions(conds, info); err != nil {
			return result, err
		}
	}
	if err := b.Commit(s.wo); err != nil {
		return result, fmt.Errorf("s3store: put %s/%s: %w", bucket, key, err)
	}
	return result, nil
}

// readBody fills body from input and checks that input ends there (reading to the end is
// also what makes gofakes3 check the Content-MD5).
func readBody(input io.Reader, body []byte) error {
	if _, err := io.ReadFull(input, body); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return gofakes3.ErrIncompleteBody
		}
		return err
	}
	var one [1]byte
	for {
		n, err := input.Read(one[:])
		if n > 0 {
			return gofakes3.ErrIncompleteBody
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// conditionalInfo is what If-Match and If-None-Match are checked against.
func (s *Store) conditionalInfo(bucket, key string) (*gofakes3.ConditionalObjectInfo, error) {
	v, closer, err := s.db.Get(metaKey(bucket, key))
	if errors.Is(err, pebble.ErrNotFound) {
		return &gofakes3.ConditionalObjectInfo{Exists: false}, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	h, err := decodeHeader(v)
	if err != nil {
		return nil, err
	}
	return &gofakes3.ConditionalObjectInfo{Exists: true, Hash: h.hash()}, nil
}

// DeleteObject deletes the object; deleting a missing one is not an error.
func (s *Store) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	var result gofakes3.ObjectDeleteResult
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.buckets[bucket]; !ok {
		return result, gofakes3.BucketNotFound(bucket)
	}
	unlock := s.keys.lock(bucket + "/" + key)
	defer unlock()
	b := s.db.NewBatch()
	defer b.Close()
	b.Delete(metaKey(bucket, key), nil)
	b.Delete(dataKey(bucket, key), nil)
	if err := b.Commit(s.wo); err != nil {
		return result, fmt.Errorf("s3store: delete %s/%s: %w", bucket, key, err)
	}
	return result, nil
}

// DeleteMulti deletes each of the objects, in one commit.
func (s *Store) DeleteMulti(bucket string, objects ...string) (gofakes3.MultiDeleteResult, error) {
	var result gofakes3.MultiDeleteResult
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.buckets[bucket]; !ok {
		return result, gofakes3.BucketNotFound(bucket)
	}
	b := s.db.NewBatch()
	defer b.Close()
	for _, key := range objects {
		b.Delete(metaKey(bucket, key), nil)
		b.Delete(dataKey(bucket, key), nil)
	}
	if err := b.Commit(s.wo); err != nil {
		return result, fmt.Errorf("s3store: delete: %w", err)
	}
	for _, key := range objects {
		result.Deleted = append(result.Deleted, gofakes3.ObjectID{Key: key})
	}
	return result, nil
}

// CopyObject copies through GetObject and PutObject.
func (s *Store) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	return gofakes3.CopyObject(s, srcBucket, srcKey, dstBucket, dstKey, meta)
}

// keyLocks serialises the writes to one key (a conditional put checks and commits under
// it), holding a mutex only while it is in use.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

func (k *keyLocks) lock(key string) (unlock func()) {
	k.mu.Lock()
	l := k.m[key]
	if l == nil {
		l = &keyLock{}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
