package dynamo

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/cockroachdb/pebble"
)

// A table created with a StreamSpecification has a durable stream: every change (INSERT,
// MODIFY, REMOVE) is recorded in the same batch as the change itself, with a sequence number
// one higher than the last, in the table's StreamViewType. Records are kept for 24 hours, as
// DynamoDB Streams keeps them. ReadStream stands in for a Lambda event source mapping's shard
// iterator; Checkpoint for its stored position, so a consumer that restarts resumes after the
// last batch it finished (at least once, as Lambda delivers).

// streamRetention is how long DynamoDB Streams keeps a record.
const streamRetention = 24 * time.Hour

// streamRecordJSON is a record as the Lambda event carries it (aws-lambda-go's field names).
type streamRecordJSON struct {
	AWSRegion      string          `json:"awsRegion"`
	EventID        string          `json:"eventID"`
	EventName      string          `json:"eventName"`
	EventSource    string          `json:"eventSource"`
	EventVersion   string          `json:"eventVersion"`
	EventSourceArn string          `json:"eventSourceARN"`
	UserIdentity   *userIdentity   `json:"userIdentity,omitempty"`
	Change         streamChangeRaw `json:"dynamodb"`
}

type userIdentity struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
}

type streamChangeRaw struct {
	ApproximateCreationDateTime int64  `json:"ApproximateCreationDateTime"`
	Keys                        Item   `json:"Keys"`
	NewImage                    Item   `json:"NewImage,omitempty"`
	OldImage                    Item   `json:"OldImage,omitempty"`
	SequenceNumber              string `json:"SequenceNumber"`
	SizeBytes                   int64  `json:"SizeBytes"`
	StreamViewType              string `json:"StreamViewType"`
}

func streamArn(t *tableDesc) string {
	return t.TableArn + "/stream/" + t.LatestStreamLabel
}

func streamRecord(t *tableDesc, seq uint64, now time.Time, m mutation) streamRecordJSON {
	s := t.schema()
	image := m.new
	if image == nil {
		image = m.old
	}
	keys := Item{s.hash: image[s.hash]}
	if s.rng != "" {
		keys[s.rng] = image[s.rng]
	}
	name := "MODIFY"
	switch {
	case m.old == nil:
		name = "INSERT"
	case m.new == nil:
		name = "REMOVE"
	}
	view := t.StreamSpecification.StreamViewType
	ch := streamChangeRaw{
		ApproximateCreationDateTime: now.Unix(), Keys: keys,
		SequenceNumber: fmt.Sprintf("%021d", seq), StreamViewType: view,
	}
	if view == "NEW_IMAGE" || view == "NEW_AND_OLD_IMAGES" {
		ch.NewImage = m.new
	}
	if view == "OLD_IMAGE" || view == "NEW_AND_OLD_IMAGES" {
		ch.OldImage = m.old
	}
	ch.SizeBytes = int64(keys.Size() + ch.NewImage.Size() + ch.OldImage.Size())
	rec := streamRecordJSON{
		AWSRegion: Region, EventID: eventID(t.TableName, seq), EventName: name,
		EventSource: "aws:dynamodb", EventVersion: "1.1", EventSourceArn: streamArn(t), Change: ch,
	}
	if m.ttlOnly {
		rec.UserIdentity = &userIdentity{Type: "Service", PrincipalID: "dynamodb.amazonaws.com"}
	}
	return rec
}

// StreamFilter says which records a reader wants, from the event name (INSERT, MODIFY,
// REMOVE) and the partition key's bytes, before the record is decoded: what a Lambda event
// source mapping's filter criteria do. nil keeps every record.
type StreamFilter func(eventName string, partitionKey []byte) bool

// StreamBatch is what one ReadStream returns: the records kept, and the sequence number of
// the last record read, kept or not, to resume (and checkpoint) after.
type StreamBatch struct {
	Records []awsevents.DynamoDBEventRecord
	Last    string
	Scanned int // records read, kept or not
}

// A stream value is a small header, then the record's JSON: the event name's length and
// text, the partition key's length and bytes (uvarints), so filters skip records without
// decoding them.
func appendStreamHeader(b []byte, eventName string, pk []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(eventName)))
	b = append(b, eventName...)
	b = binary.AppendUvarint(b, uint64(len(pk)))
	return append(b, pk...)
}

func splitStreamValue(v []byte) (eventName string, pk, record []byte, ok bool) {
	n, w := binary.Uvarint(v)
	if w <= 0 || uint64(len(v)-w) < n {
		return "", nil, nil, false
	}
	eventName, v = string(v[w:w+int(n)]), v[w+int(n):]
	n, w = binary.Uvarint(v)
	if w <= 0 || uint64(len(v)-w) < n {
		return "", nil, nil, false
	}
	return eventName, v[w : w+int(n)], v[w+int(n):], true
}

// ReadStream waits for stream records of table after the sequence number after ("" = from
// the oldest kept) and returns up to max of them that keep accepts, oldest first, once at
// least one record (kept or not) is there. It returns ctx's error when ctx ends first.
func (db *DB) ReadStream(ctx context.Context, table, after string, max int, keep StreamFilter) (StreamBatch, error) {
	t, err := db.table(table)
	if err != nil {
		return StreamBatch{}, err
	}
	if t.StreamSpecification == nil || !t.StreamSpecification.StreamEnabled {
		return StreamBatch{}, validationf("table %s has no stream", table)
	}
	var from uint64
	if after != "" {
		n, err := strconv.ParseUint(after, 10, 64)
		if err != nil {
			return StreamBatch{}, validationf("bad sequence number %q", after)
		}
		from = n + 1
	}
	p := prefix(famStream, table)
	for {
		db.notifyMu.Lock()
		wait := db.notify
		db.notifyMu.Unlock()
		batch, err := db.readStream(p, from, max, keep)
		if err != nil || batch.Last != "" {
			return batch, err
		}
		select {
		case <-ctx.Done():
			return StreamBatch{}, ctx.Err()
		case <-db.stop:
			return StreamBatch{}, errClosed
		case <-wait:
		}
	}
}

// StreamScanLimit bounds how many records one ReadStream reads, kept or not.
const StreamScanLimit = 10000

func (db *DB) readStream(p []byte, from uint64, max int, keep StreamFilter) (StreamBatch, error) {
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: append(p, be64(from)...), UpperBound: prefixEnd(p)})
	if err != nil {
		return StreamBatch{}, err
	}
	defer it.Close()
	var out StreamBatch
	for ok, n := it.First(), 0; ok && len(out.Records) < max && n < StreamScanLimit; ok, n = it.Next(), n+1 {
		out.Scanned++
		out.Last = fmt.Sprintf("%021d", beUint64(it.Key()[len(p):]))
		name, pk, raw, ok := splitStreamValue(it.Value())
		if !ok {
			return StreamBatch{}, fmt.Errorf("dynamo: stream record %x: bad header", it.Key())
		}
		if keep != nil && !keep(name, pk) {
			continue
		}
		var rec awsevents.DynamoDBEventRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return StreamBatch{}, fmt.Errorf("dynamo: stream record %x: %w", it.Key(), err)
		}
		out.Records = append(out.Records, rec)
	}
	return out, nil
}

// Checkpoint durably records that consumer has processed table's stream up to the record with
// sequence number seq.
func (db *DB) Checkpoint(consumer, table, seq string) error {
	return db.write(func(tx *txn) error {
		tx.muts = append(tx.muts, mutation{meta: true, key: prefix(famCheckpoint, consumer, table), raw: []byte(seq)})
		return nil
	})
}

// StreamBehind is how many records of table's stream lie after consumer's checkpoint.
func (db *DB) StreamBehind(consumer, table string) (uint64, error) {
	cp, err := db.LoadCheckpoint(consumer, table)
	if err != nil {
		return 0, err
	}
	last, err := db.lastStreamSeq(table)
	if err != nil {
		return 0, err
	}
	var done uint64
	if cp != "" {
		if done, err = strconv.ParseUint(cp, 10, 64); err != nil {
			return 0, validationf("bad checkpoint %q", cp)
		}
	}
	if done >= last {
		return 0, nil
	}
	return last - done, nil
}

// LoadCheckpoint is consumer's last checkpoint on table's stream ("" when none).
func (db *DB) LoadCheckpoint(consumer, table string) (string, error) {
	v, closer, err := db.pdb.Get(prefix(famCheckpoint, consumer, table))
	if errors.Is(err, pebble.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer closer.Close()
	return string(v), nil
}
