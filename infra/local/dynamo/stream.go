package dynamo

import (
	"context"
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

// ReadStream waits for stream records of table after the sequence number after ("" = from
// the oldest kept) and returns up to max of them, oldest first. It returns ctx's error when
// ctx ends first.
func (db *DB) ReadStream(ctx context.Context, table, after string, max int) ([]awsevents.DynamoDBEventRecord, error) {
	t, err := db.table(table)
	if err != nil {
		return nil, err
	}
	if t.StreamSpecification == nil || !t.StreamSpecification.StreamEnabled {
		return nil, validationf("table %s has no stream", table)
	}
	var from uint64
	if after != "" {
		n, err := strconv.ParseUint(after, 10, 64)
		if err != nil {
			return nil, validationf("bad sequence number %q", after)
		}
		from = n + 1
	}
	p := prefix(famStream, table)
	for {
		db.notifyMu.Lock()
		wait := db.notify
		db.notifyMu.Unlock()
		recs, err := db.readStream(p, from, max)
		if err != nil || len(recs) > 0 {
			return recs, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-db.stop:
			return nil, errClosed
		case <-wait:
		}
	}
}

func (db *DB) readStream(p []byte, from uint64, max int) ([]awsevents.DynamoDBEventRecord, error) {
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: append(p, be64(from)...), UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []awsevents.DynamoDBEventRecord
	for ok := it.First(); ok && len(out) < max; ok = it.Next() {
		var rec awsevents.DynamoDBEventRecord
		if err := json.Unmarshal(it.Value(), &rec); err != nil {
			return nil, fmt.Errorf("dynamo: stream record %x: %w", it.Key(), err)
		}
		out = append(out, rec)
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
