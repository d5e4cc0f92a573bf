// Package dynamo is the local stack's DynamoDB: a server of the DynamoDB JSON 1.0 protocol,
// for the real AWS SDK clients, on a durable embedded engine (github.com/cockroachdb/pebble,
// the key-value store under CockroachDB).
//
// Why its own engine: the local stack is a real single-machine deployment, so every
// acknowledged write must be on disk, a crash at any instant must leave consistent tables, and
// a write must cost O(log n) in stored items. minidyn, the in-memory server used before, deep
// copies each table a TransactWriteItems touches (for rollback) under one lock, so writes grow
// slower with every stored message, and it loses everything at exit. Pebble gives ordered keys,
// atomic batches, a write-ahead log with fsync, snapshots for reads while writes run, and
// bounded memory (a block cache and memtables of fixed size).
//
// What it does:
//   - Operations: CreateTable, DescribeTable, DeleteTable, ListTables, UpdateTimeToLive,
//     DescribeTimeToLive, PutItem, GetItem, DeleteItem, UpdateItem, Query, Scan (with
//     segments), BatchGetItem, BatchWriteItem, TransactWriteItems and TransactGetItems, with
//     condition, update, key condition, filter and projection expressions (expr.go) and
//     DynamoDB's error codes and messages for what it refuses.
//   - Writes are serialized by one writer goroutine and committed in groups with one fsync
//     (writer.go): each is atomic and isolated, and none is acknowledged before it is on disk.
//     A failed condition in a transaction answers TransactionCanceledException with one
//     CancellationReason per action (ConditionalCheckFailed, None, ValidationError), with
//     the old item when ReturnValuesOnConditionCheckFailure is ALL_OLD.
//   - Reads (GetItem, Query, Scan, batch and transactional gets) run on pebble snapshots, in
//     parallel with writes; every read is strongly consistent, GSIs included (DynamoDB's GSIs
//     are eventually consistent, so this is a stronger promise, never a weaker one).
//   - GSIs are kept in the same batch as their items and are sparse, as in DynamoDB.
//   - Time to live: expired items are deleted within about a second (ttl.go).
//   - Streams: every change is recorded in the batch that makes it, durable, read with
//     ReadStream from a durable Checkpoint (stream.go).
//   - Limits: 400 KB per item, 100 actions and 4 MB per transaction, 25 writes per
//     BatchWriteItem, 100 keys per BatchGetItem, 1 MB per Query or Scan page.
//
// What it does not: key attributes of type N (S and B only; CreateTable says so), local
// secondary indexes, the legacy parameters (Expected, AttributeUpdates, KeyConditions, …),
// PartiQL, backups, capacity accounting (ConsumedCapacity is never returned) and
// ClientRequestToken's ten-minute idempotency window.
//
// Layout: db.go opens the database; keys.go is the key space; writer.go the group commit;
// table.go and table_ops.go tables and TTL settings; item_ops.go the item writes and
// transactions; query.go the reads; stream.go and ttl.go the stream and expiry; value.go
// attribute values; expr.go the expression language; server.go the protocol.
package dynamo
