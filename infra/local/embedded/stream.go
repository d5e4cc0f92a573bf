package embedded

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
)

// Stream stands in for the table stream (NEW_IMAGE) that minidyn does not have. It sits in
// front of the DynamoDB server and, after each successful PutItem, TransactWriteItems or
// BatchWriteItem, turns every written item whose pk begins with EVT# — the event items, what
// the deployed stack's event-source filter lets through to fanout — into an INSERT stream
// record: NewImage in DynamoDB JSON as sent, an increasing SequenceNumber, the table's stream
// ARN. Records queue in memory, in write order, until Read takes them.
//
// Items are reported as they were written, so a put that replaced an existing item is still
// an INSERT (event items are only ever created, with attribute_not_exists). Nothing is
// recorded until Servers.Stream is first called, so tests that do not read the stream do not
// accumulate records.
type Stream struct {
	enabled atomic.Bool
	mu      sync.Mutex
	seq     uint64
	records []awsevents.DynamoDBEventRecord
	ready   chan struct{} // holds a token while records are waiting
}

func newStream() *Stream { return &Stream{ready: make(chan struct{}, 1)} }

// Read waits for records and returns up to max of them, oldest first; it returns ctx's error
// when ctx ends first.
func (s *Stream) Read(ctx context.Context, max int) ([]awsevents.DynamoDBEventRecord, error) {
	for {
		s.mu.Lock()
		if n := min(max, len(s.records)); n > 0 {
			out := append([]awsevents.DynamoDBEventRecord(nil), s.records[:n]...)
			s.records = s.records[n:]
			if len(s.records) > 0 {
				s.signal()
			}
			s.mu.Unlock()
			return out, nil
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.ready:
		}
	}
}

func (s *Stream) signal() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// eventKeyPrefix begins the pk of every event item.
const eventKeyPrefix = "EVT#"

// writeRequest is what the three write operations carry, in DynamoDB JSON.
type writeRequest struct {
	TableName     string
	Item          map[string]awsevents.DynamoDBAttributeValue
	TransactItems []struct {
		Put *struct {
			TableName string
			Item      map[string]awsevents.DynamoDBAttributeValue
		}
	}
	RequestItems map[string][]struct {
		PutRequest *struct {
			Item map[string]awsevents.DynamoDBAttributeValue
		}
	}
}

// wrap returns next with the stream recorder in front.
func (s *Stream) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		op := target[strings.LastIndex(target, ".")+1:]
		if !s.enabled.Load() || (op != "PutItem" && op != "TransactWriteItems" && op != "BatchWriteItem") {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "could not read the request", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if rec.status != http.StatusOK {
			return
		}
		var req writeRequest
		if json.Unmarshal(body, &req) != nil {
			return
		}
		type put struct {
			table string
			item  map[string]awsevents.DynamoDBAttributeValue
		}
		var puts []put
		if req.Item != nil {
			puts = append(puts, put{req.TableName, req.Item})
		}
		for _, ti := range req.TransactItems {
			if ti.Put != nil {
				puts = append(puts, put{ti.Put.TableName, ti.Put.Item})
			}
		}
		for table, reqs := range req.RequestItems {
			for _, wr := range reqs {
				if wr.PutRequest != nil {
					puts = append(puts, put{table, wr.PutRequest.Item})
				}
			}
		}
		for _, p := range puts {
			if pk, ok := p.item["pk"]; ok && pk.DataType() == awsevents.DataTypeString && strings.HasPrefix(pk.String(), eventKeyPrefix) {
				s.emit(p.table, p.item)
			}
		}
	})
}

// emit queues the INSERT record of one written item.
func (s *Stream) emit(table string, item map[string]awsevents.DynamoDBAttributeValue) {
	size, _ := json.Marshal(item)
	keys := map[string]awsevents.DynamoDBAttributeValue{"pk": item["pk"]}
	if sk, ok := item["sk"]; ok {
		keys["sk"] = sk
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	s.records = append(s.records, awsevents.DynamoDBEventRecord{
		AWSRegion: Region, EventID: hex.EncodeToString(id), EventName: string(awsevents.DynamoDBOperationTypeInsert),
		EventSource: "aws:dynamodb", EventVersion: "1.1",
		EventSourceArn: fmt.Sprintf("arn:aws:dynamodb:%s:000000000000:table/%s/stream/2025-01-01T00:00:00.000", Region, table),
		Change: awsevents.DynamoDBStreamRecord{
			ApproximateCreationDateTime: awsevents.SecondsEpochTime{Time: time.Now()},
			Keys:                        keys,
			NewImage:                    item,
			SequenceNumber:              fmt.Sprintf("%021d", s.seq),
			SizeBytes:                   int64(len(size)),
			StreamViewType:              "NEW_IMAGE",
		},
	})
	s.signal()
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}
