// Package s3store is the durable storage behind the local stack's embedded S3: a
// github.com/johannesboyne/gofakes3 Backend on a cockroachdb/pebble database (the engine
// package dynamo is built on, so no new dependency). Every acknowledged PutObject or
// DeleteObject is in pebble's write-ahead log and fdatasync'ed before gofakes3 answers 200,
// a crash at any instant leaves each object at its old or its new content (a put is one
// atomic batch), and what the store holds in memory is bounded by pebble's memtables and
// block cache, not by what is stored.
//
// # Why not gofakes3's own backends
//
// s3mem keeps everything in memory. s3afero (files through afero) never fsyncs, truncates
// and rewrites an object in place (a crash mid-write leaves it cut short), keeps the
// metadata in a second file that a crash can leave disagreeing with the object, and runs
// every call, reads included, behind one mutex. s3bolt is durable (bbolt fsyncs each
// transaction) but every put is its own bbolt write transaction behind bbolt's single
// writer — two fsyncs per put, no group commit — it reads the old object first on every put
// (MergeMetadata), and it serves reads out of its mmap, so the resident set grows with what
// is read back: the raw mail of 50,000 messages alone is more than the local stack's memory
// budget. It also brings gopkg.in/mgo.v2/bson along.
//
// # Why not a file per object
//
// The first version of this package kept one file per object (written to a temporary file,
// renamed into place after a group-committed journal sync). On the machine the benchmarks
// run on, creating a file costs 0.2–1.5 ms of kernel time, more than the fdatasync it was
// meant to share, and that sank both latency and concurrency. Pebble appends to a recycled
// write-ahead log instead, and concurrent commits share its fdatasync: BenchmarkPutObject
// (2 KB, synced) measured about 1 ms per put with one writer and 0.1–0.14 ms each with 16.
//
// # Layout
//
// One pebble database in the directory, with these keys (bucket names never contain '/', so
// each bucket's objects are one key range, in key order):
//
//	b/<bucket>        the bucket's creation time
//	m/<bucket>/<key>  the object's header: key, size, MD5, metadata, time (JSON)
//	d/<bucket>/<key>  the header again and the object's bytes, in one value
//
// A put writes both object keys in one synced batch, a delete removes both. GET reads the
// data key only (header and bytes from one value, so always a matching pair), HEAD and
// listing the meta key only. A conditional put (If-Match, If-None-Match) checks and commits
// under a per-key lock. An overwrite replaces the metadata; unlike gofakes3's backends it
// does not carry the old object's metadata over (neither does S3).
//
// One process opens a directory at a time: pebble locks it, and package local locks the
// data directory around it.
package s3store
