// Package sqsemu is the local stack's SQS: an http.Handler speaking the protocol the current
// aws-sdk-go-v2 SQS client uses (AWS JSON 1.0: POST /, X-Amz-Target AmazonSQS.<Operation>,
// Content-Type application/x-amz-json-1.0), so fanout and webhooks run unchanged against it with
// the real client (point BaseEndpoint, or AWS_ENDPOINT_URL_SQS, at the handler), and Poll, which
// stands in for Lambda's SQS event source mapping.
//
// Operations: SendMessage, SendMessageBatch (≤ 10 entries), ReceiveMessage, DeleteMessage,
// ChangeMessageVisibility, GetQueueUrl. Semantics kept from SQS standard queues:
//
//   - at-least-once: a received message stays in the queue, invisible for the queue's
//     visibility timeout (or what ChangeMessageVisibility sets, at most 12 hours), until it is
//     deleted; then it comes back with ApproximateReceiveCount one higher;
//   - a redrive policy: a message received maxReceiveCount times moves to the dead-letter queue
//     instead of being received again;
//   - a receipt handle names one receive; an old one is refused (ReceiptHandleIsInvalid).
//
// The queues are durable (see log.go): every send, receive, visibility change, deletion and
// redrive is on disk before it is answered (for Poll and Delete: before they return), and a
// server opened on the same directory after a stop or a crash has every message not deleted,
// with its id, body, receive count and visibility deadline, so retries and the redrive go on
// where they were. The log holds messages by queue name; CreateQueue (each run, with the
// queue's settings) serves a queue again.
//
// Scale multiplies every visibility timeout and delay, so a test can run Svix's retry schedule
// (5 s, 5 min, …) in milliseconds while the functions set the real values. Visible messages
// come out earliest visible first, then oldest first; SQS standard queues promise no order.
package sqsemu

import (
	"container/heap"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
)

// Region and account the queues claim to be in.
const (
	Region  = "us-east-1"
	account = "000000000000"
)

// maxVisibility is SQS's limit on a visibility timeout.
const maxVisibility = 12 * time.Hour

// errClosed is what a closed server answers.
var errClosed = errors.New("sqsemu: server closed")

// Server holds the queues.
type Server struct {
	BaseURL string  // http://host:port the queue URLs start with; set before CreateQueue
	Scale   float64 // multiplies visibility timeouts and delays; 1 when 0
	// NoSync answers without waiting for fsync, for throw-away queues: the log is still
	// written (and readable after a stop), but a machine crash may lose its last changes. Set
	// before serving.
	NoSync bool

	mu        sync.Mutex
	queues    map[string]*queue // by name
	wake      chan struct{}
	wal       *wal
	seq       uint64 // of the last message sent
	liveBytes int64  // roughly what the messages take in a snapshot of the log
	closed    bool
}

// Open returns a server keeping its queues in dir (created if need be), with the messages a
// server on dir held when it stopped or crashed. Close it when done.
func Open(dir, baseURL string, scale float64) (*Server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sqsemu: %w", err)
	}
	s := &Server{BaseURL: strings.TrimSuffix(baseURL, "/"), Scale: scale, queues: map[string]*queue{}, wake: make(chan struct{})}
	if err := s.load(dir); err != nil {
		return nil, err
	}
	w, err := openLog(dir, s)
	if err != nil {
		return nil, err
	}
	s.wal = w
	return s, nil
}

// Close makes everything durable and closes the log; pollers return, requests fail.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.notify()
	return s.wal.close()
}

// CreateQueue adds a queue, or serves again one whose messages the log holds, and returns its
// URL. visibility is its default visibility timeout; with maxReceives > 0, messages received
// that often move to the queue named dlq (created first).
func (s *Server) CreateQueue(name string, visibility time.Duration, maxReceives int, dlq string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queueNamed(name)
	q.created, q.visibility, q.maxReceives, q.dlq = true, int64(visibility), maxReceives, dlq
	s.notify()
	return s.url(name)
}

func (s *Server) url(name string) string { return s.BaseURL + "/" + account + "/" + name }

// ARN is the queue's ARN, as Lambda's SQS events carry it.
func ARN(name string) string { return "arn:aws:sqs:" + Region + ":" + account + ":" + name }

func (s *Server) scaled(d time.Duration) int64 {
	if s.Scale <= 0 {
		return int64(d)
	}
	return int64(float64(d) * s.Scale)
}

// lookup finds a created queue by URL (or name); s.mu held.
func (s *Server) lookup(queueURL string) *queue {
	q := s.queues[queueURL[strings.LastIndex(queueURL, "/")+1:]]
	if q == nil || !q.created {
		return nil
	}
	return q
}

// notify wakes pollers; s.mu held.
func (s *Server) notify() {
	close(s.wake)
	s.wake = make(chan struct{})
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func now() int64 { return time.Now().UnixNano() }

// send appends a message; s.mu held.
func (s *Server) send(q *queue, body string, delay time.Duration) *message {
	t := now()
	s.seq++
	m := &message{id: newID(), body: body, seq: s.seq, sentAt: t, visibleAt: t + s.scaled(delay)}
	s.add(q, m)
	s.append(sendRecord(q.name, m))
	s.notify()
	return m
}

// receive hands out up to max visible messages, moving those past the redrive limit to the
// dead-letter queue; s.mu held.
func (s *Server) receive(q *queue, max int, visibility time.Duration) []*message {
	t := now()
	var out []*message
	for len(out) < max && q.order.Len() > 0 && q.order[0].visibleAt <= t {
		m := heap.Pop(&q.order).(*message)
		if q.maxReceives > 0 && m.receives >= q.maxReceives {
			if dlq := s.queues[q.dlq]; dlq != nil && dlq.created {
				s.append(enc{opMove}.str(q.name).str(m.id).str(dlq.name).num(t))
				s.move(q, m, dlq, t)
				continue
			}
		}
		q.setReceipt(m, newID())
		m.receives++
		if m.firstRecv == 0 {
			m.firstRecv = t
		}
		m.visibleAt = t + s.scaled(visibility)
		s.append(enc{opReceive}.str(q.name).str(m.id).str(m.receipt).num(m.visibleAt).num(t))
		out = append(out, m)
	}
	for _, m := range out {
		heap.Push(&q.order, m)
	}
	return out
}

// commit returns once the changes up to end (s.end()) are durable (s.mu not held).
func (s *Server) commit(end int64) error {
	if s.NoSync {
		return s.wal.failed()
	}
	return s.wal.sync(end)
}

// nextVisible is when the earliest invisible message of q becomes visible (0 if none); s.mu held.
func nextVisible(q *queue) int64 {
	if q.order.Len() == 0 {
		return 0
	}
	return q.order[0].visibleAt
}

// Poll waits until messages are visible in the queue (or ctx ends) and receives up to max of
// them with the queue's visibility timeout, as Lambda's SQS poller does, in the shape Lambda
// hands them to the function. The receives are on disk when it returns.
func (s *Server) Poll(ctx context.Context, queueURL string, max int) ([]awsevents.SQSMessage, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, errClosed
		}
		q := s.lookup(queueURL)
		if q == nil {
			s.mu.Unlock()
			return nil, fmt.Errorf("sqsemu: no queue %s", queueURL)
		}
		got := s.receive(q, max, time.Duration(q.visibility))
		out := make([]awsevents.SQSMessage, len(got))
		for i, m := range got {
			out[i] = m.event(q.name)
		}
		wake, next, end := s.wake, nextVisible(q), s.end()
		s.mu.Unlock()
		if len(got) > 0 {
			if err := s.commit(end); err != nil {
				return nil, err
			}
			return out, nil
		}
		wait := time.Hour
		if next != 0 {
			wait = time.Duration(next - now())
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

func (m *message) attributes() map[string]string {
	return map[string]string{
		"ApproximateReceiveCount":          strconv.Itoa(m.receives),
		"SentTimestamp":                    strconv.FormatInt(m.sentAt/int64(time.Millisecond), 10),
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstRecv/int64(time.Millisecond), 10),
		"SenderId":                         "AIDAPIGEONLOCAL",
	}
}

func (m *message) event(queueName string) awsevents.SQSMessage {
	return awsevents.SQSMessage{
		MessageId: m.id, ReceiptHandle: m.receipt, Body: m.body, Md5OfBody: md5Hex(m.body),
		Attributes: m.attributes(), EventSource: "aws:sqs", EventSourceARN: ARN(queueName), AWSRegion: Region,
	}
}

// Delete removes a received message (what Lambda does for a message its function handled);
// the deletion is on disk when it returns.
func (s *Server) Delete(queueURL, receipt string) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errClosed
	}
	q := s.lookup(queueURL)
	if q == nil {
		s.mu.Unlock()
		return fmt.Errorf("sqsemu: no queue %s", queueURL)
	}
	s.deleteReceipt(q, receipt) // SQS accepts deleting an already deleted message
	end := s.end()
	s.mu.Unlock()
	return s.commit(end)
}

// deleteReceipt removes the message receipt names, if any; s.mu held.
func (s *Server) deleteReceipt(q *queue, receipt string) {
	if m := q.byReceipt[receipt]; m != nil && receipt != "" {
		s.append(enc{opDelete}.str(q.name).str(m.id))
		s.remove(q, m)
	}
}

// Bodies are the bodies of the messages in a queue, oldest first (the dead-letter queue's, say).
func (s *Server) Bodies(queueURL string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ms []*message
	if q := s.lookup(queueURL); q != nil {
		for _, m := range q.byID {
			ms = append(ms, m)
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].seq < ms[j].seq })
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.body
	}
	return out
}

// Len is the number of messages in a queue, in flight or not.
func (s *Server) Len(queueURL string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.lookup(queueURL); q != nil {
		return len(q.byID)
	}
	return 0
}

// apiError is an SQS error, in the JSON protocol's shape.
type apiError struct {
	status int
	code   string // e.g. QueueDoesNotExist
	query  string // the legacy code for x-amzn-query-error
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func invalid(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameterValue", "InvalidParameterValue", msg}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "AmazonSQS.")
	if r.Method != http.MethodPost || !ok {
		writeError(w, &apiError{http.StatusBadRequest, "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", "unsupported request " + target})
		return
	}
	var in map[string]json.RawMessage
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		writeError(w, invalid("request body is not JSON"))
		return
	}
	var out any
	var err *apiError
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeError(w, unavailable(errClosed))
		return
	}
	switch op {
	case "SendMessage":
		out, err = s.sendMessage(in)
	case "SendMessageBatch":
		out, err = s.sendMessageBatch(in)
	case "ReceiveMessage":
		out, err = s.receiveMessage(in)
	case "DeleteMessage":
		out, err = s.deleteMessage(in)
	case "ChangeMessageVisibility":
		out, err = s.changeVisibility(in)
	case "GetQueueUrl":
		var name string
		_ = json.Unmarshal(in["QueueName"], &name)
		if s.lookup(name) == nil {
			err = noQueue()
		} else {
			out = map[string]string{"QueueUrl": s.url(name)}
		}
	default:
		err = &apiError{http.StatusBadRequest, "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", op + " is not supported locally"}
	}
	end := s.end()
	s.mu.Unlock()
	if err != nil {
		writeError(w, err)
		return
	}
	// Answer once the change is on disk.
	if serr := s.commit(end); serr != nil {
		writeError(w, unavailable(serr))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(out)
}

// unavailable is the answer when the queue log cannot be written (or the server is closed).
func unavailable(err error) *apiError {
	return &apiError{http.StatusInternalServerError, "InternalFailure", "InternalFailure", err.Error()}
}

func noQueue() *apiError {
	return &apiError{http.StatusBadRequest, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist."}
}

func str(in map[string]json.RawMessage, name string) string {
	var v string
	_ = json.Unmarshal(in[name], &v)
	return v
}

// seconds reads an integer-seconds parameter within [0, limit].
func seconds(in map[string]json.RawMessage, name string, limit time.Duration) (time.Duration, bool, *apiError) {
	raw, ok := in[name]
	if !ok {
		return 0, false, nil
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil || n < 0 || time.Duration(n)*time.Second > limit {
		return 0, true, invalid(fmt.Sprintf("%s must be between 0 and %d", name, int(limit.Seconds())))
	}
	return time.Duration(n) * time.Second, true, nil
}

func (s *Server) queueOf(in map[string]json.RawMessage) (*queue, *apiError) {
	q := s.lookup(str(in, "QueueUrl"))
	if q == nil {
		return nil, noQueue()
	}
	return q, nil
}

func (s *Server) sendMessage(in map[string]json.RawMessage) (any, *apiError) {
	q, err := s.queueOf(in)
	if err != nil {
		return nil, err
	}
	body := str(in, "MessageBody")
	if body == "" {
		return nil, &apiError{http.StatusBadRequest, "MissingParameter", "MissingParameter", "The request must contain the parameter MessageBody."}
	}
	delay, _, err := seconds(in, "DelaySeconds", 15*time.Minute)
	if err != nil {
		return nil, err
	}
	m := s.send(q, body, delay)
	return map[string]string{"MessageId": m.id, "MD5OfMessageBody": md5Hex(body)}, nil
}

func (s *Server) sendMessageBatch(in map[string]json.RawMessage) (any, *apiError) {
	q, err := s.queueOf(in)
	if err != nil {
		return nil, err
	}
	var entries []struct {
		ID           string `json:"Id"`
		MessageBody  string
		DelaySeconds int64
	}
	if json.Unmarshal(in["Entries"], &entries) != nil || len(entries) == 0 {
		return nil, &apiError{http.StatusBadRequest, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", "There should be at least one SendMessageBatchRequestEntry in the request."}
	}
	if len(entries) > 10 {
		return nil, &apiError{http.StatusBadRequest, "TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "Maximum number of entries per request are 10."}
	}
	type ok struct {
		ID               string `json:"Id"`
		MessageID        string `json:"MessageId"`
		MD5OfMessageBody string
	}
	type failed struct {
		ID          string `json:"Id"`
		Code        string
		Message     string
		SenderFault bool
	}
	out := struct {
		Successful []ok
		Failed     []failed
	}{Successful: []ok{}, Failed: []failed{}}
	for _, e := range entries {
		if e.MessageBody == "" || e.DelaySeconds < 0 || e.DelaySeconds > 900 {
			out.Failed = append(out.Failed, failed{ID: e.ID, Code: "InvalidParameterValue", Message: "invalid body or delay", SenderFault: true})
			continue
		}
		m := s.send(q, e.MessageBody, time.Duration(e.DelaySeconds)*time.Second)
		out.Successful = append(out.Successful, ok{ID: e.ID, MessageID: m.id, MD5OfMessageBody: md5Hex(e.MessageBody)})
	}
	return out, nil
}

func (s *Server) receiveMessage(in map[string]json.RawMessage) (any, *apiError) {
	q, err := s.queueOf(in)
	if err != nil {
		return nil, err
	}
	max := 1
	if raw, ok := in["MaxNumberOfMessages"]; ok {
		if json.Unmarshal(raw, &max) != nil || max < 1 || max > 10 {
			return nil, invalid("MaxNumberOfMessages must be between 1 and 10")
		}
	}
	visibility, set, err := seconds(in, "VisibilityTimeout", maxVisibility)
	if err != nil {
		return nil, err
	}
	if !set {
		visibility = time.Duration(q.visibility)
	}
	type msg struct {
		MessageID     string `json:"MessageId"`
		ReceiptHandle string
		MD5OfBody     string
		Body          string
		Attributes    map[string]string
	}
	out := struct{ Messages []msg }{Messages: []msg{}}
	for _, m := range s.receive(q, max, visibility) {
		out.Messages = append(out.Messages, msg{MessageID: m.id, ReceiptHandle: m.receipt, MD5OfBody: md5Hex(m.body), Body: m.body, Attributes: m.attributes()})
	}
	return out, nil
}

func (s *Server) deleteMessage(in map[string]json.RawMessage) (any, *apiError) {
	q, err := s.queueOf(in)
	if err != nil {
		return nil, err
	}
	s.deleteReceipt(q, str(in, "ReceiptHandle"))
	return struct{}{}, nil
}

func (s *Server) changeVisibility(in map[string]json.RawMessage) (any, *apiError) {
	q, err := s.queueOf(in)
	if err != nil {
		return nil, err
	}
	visibility, set, err := seconds(in, "VisibilityTimeout", maxVisibility)
	if err != nil {
		return nil, err
	}
	if !set {
		return nil, &apiError{http.StatusBadRequest, "MissingParameter", "MissingParameter", "The request must contain the parameter VisibilityTimeout."}
	}
	receipt := str(in, "ReceiptHandle")
	if m := q.byReceipt[receipt]; m != nil && receipt != "" {
		q.setVisible(m, now()+s.scaled(visibility))
		s.append(enc{opVisible}.str(q.name).str(m.id).num(m.visibleAt))
		s.notify()
		return struct{}{}, nil
	}
	return nil, &apiError{http.StatusBadRequest, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", "The input receipt handle is invalid."}
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-query-error", e.query+";Sender")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + e.code, "message": e.msg})
}
