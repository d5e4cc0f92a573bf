// Package sesemu is the local stack's SES v2: an http.Handler that answers SendEmail as SES
// does, so shared/ses runs unchanged against it with the real sesv2 client (point the client's
// BaseEndpoint, or AWS_ENDPOINT_URL_SESV2, at the handler).
//
// Routes:
//
//	POST /v2/email/outbound-emails          SendEmail with raw content (Content.Raw.Data)
//	GET  /_local/outbox                     mail kept for non-local recipients, oldest first, as JSON:
//	                                        [{"ses_message_id", "from", "recipients", "subject",
//	                                          "received_at", "configuration_set", "tags", "raw" (base64)}]
//	GET  /_local/outbox/{ses_message_id}/raw  one kept message as message/rfc822
//
// What SendEmail does, in SES's order: validates the request as SES would (recipients present
// and at most 50, raw message at most 40 MB after base64, lines at most 1,000 characters, tags
// in SES's alphabet), gives the message an id shaped like SES's
// ("0100018c2f3a4b5c-1a2b3c4d-…-000000"), replaces its Message-ID header with
// ses.MessageIDHeader(id, Region) as SES does, hands the final bytes and the envelope to
// Deliver, and keeps a copy in the outbox when any recipient is not local. Errors are JSON
// bodies with the X-Amzn-ErrorType header, so the SDK decodes them to its typed errors
// (*types.BadRequestException, *types.MessageRejected, …).
//
// After a successful SendEmail it publishes, through Publish, the SES event notifications SES
// would publish through a configuration set's SNS topic, in the SNS and SES JSON shapes AWS
// uses (sesevents.Simulate): Send, then per recipient Delivery or Bounce, then Complaints, by
// the rules of SES's mailbox simulator (success@, bounce@, suppressionlist@, complaint@ and
// ooto@simulator.amazonses.com, labels allowed); any other recipient, local ones included, is
// delivered. As if the configuration set were the sending identity's default, every accepted
// message publishes, whether or not the call names one (mail.tags carries it when it does).
package sesemu

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	netmail "net/mail"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pigeon-mail/pigeon/shared/ses"
	"github.com/pigeon-mail/pigeon/shared/sesevents"
)

// Server is the emulated SES v2 endpoint. Set the fields before serving; the zero value works
// (us-east-1, nothing delivered, everything kept).
type Server struct {
	Region string // for the Message-ID domain (ses.MessageIDHeader); default us-east-1
	// Deliver receives every accepted message: the envelope sender, all envelope recipients,
	// the final raw bytes (with SES's Message-ID) and the SES message id. It runs before
	// SendEmail answers, so when the send call returns, local recipients already have the mail.
	// An error is logged, not returned to the sender: SES accepts first and reports delivery
	// failures later, as events.
	Deliver func(ctx context.Context, from string, rcpts []string, raw []byte, sesID string) error
	// IsLocal reports whether a recipient is delivered by Deliver into a local inbox. Mail with
	// any other recipient is kept in the outbox for inspection. Nil: no recipient is local.
	IsLocal func(address string) bool
	// Publish receives the SES event notifications of every accepted message, each wrapped in
	// the SNS-to-Lambda event SNS would deliver (the local stack passes them to the sesevents
	// handler). Like SES, it runs after SendEmail has answered: from a goroutine, PublishDelay
	// later, one message's notifications in order. Nil: nothing is published.
	Publish        func(ctx context.Context, ev events.SNSEvent)
	PublishDelay   time.Duration   // default 50 ms
	Topic          sesevents.Topic // the topic and account notifications name; Region defaults to Region
	MaxMessageSize int             // bytes after base64; default ses.MaxMessageSize (40 MB)
	OutboxLimit    int             // messages kept, oldest dropped first; default 1000
	Log            *slog.Logger    // default slog.Default()

	once   sync.Once
	mux    *http.ServeMux
	mu     sync.Mutex
	outbox []OutboxMessage
	failAs []failure
	// publishing counts the messages whose notifications are still to be published.
	publishing sync.WaitGroup
}

// OutboxMessage is a message kept for recipients outside the local stack.
type OutboxMessage struct {
	SESMessageID     string            `json:"ses_message_id"`
	From             string            `json:"from"`
	Recipients       []string          `json:"recipients"` // the non-local envelope recipients
	Subject          string            `json:"subject"`
	ReceivedAt       time.Time         `json:"received_at"`
	ConfigurationSet string            `json:"configuration_set,omitempty"`
	Tags             map[string]string `json:"tags,omitempty"`
	Raw              []byte            `json:"raw"` // base64 in JSON
}

type failure struct{ errType, message string }

// errorStatus is the HTTP status SES answers each SendEmail error with.
var errorStatus = map[string]int{
	"BadRequestException":                400,
	"MessageRejected":                    400,
	"MailFromDomainNotVerifiedException": 400,
	"LimitExceededException":             400,
	"AccountSuspendedException":          400,
	"SendingPausedException":             400,
	"NotFoundException":                  404,
	"TooManyRequestsException":           429,
	"InternalServiceErrorException":      500,
}

// FailNext makes the next n SendEmail calls fail with the SES error errType (one of
// SendEmail's errors: "TooManyRequestsException", "MessageRejected", "SendingPausedException",
// …) and message, for tests of error handling and retries. Calls fail after their request has
// been read, before any validation.
func (s *Server) FailNext(n int, errType, message string) {
	if _, ok := errorStatus[errType]; !ok {
		panic("sesemu: FailNext: unknown SES error type " + errType)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failAs = append(s.failAs, failure{errType, message})
	}
}

// Outbox returns the kept messages, oldest first.
func (s *Server) Outbox() []OutboxMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]OutboxMessage(nil), s.outbox...)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.once.Do(func() {
		s.mux = http.NewServeMux()
		s.mux.HandleFunc("POST /v2/email/outbound-emails", s.sendEmail)
		s.mux.HandleFunc("GET /_local/outbox", s.listOutbox)
		s.mux.HandleFunc("GET /_local/outbox/{id}/raw", s.rawOutbox)
		s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "UnknownOperationException", "the local SES emulator implements only SendEmail: "+r.Method+" "+r.URL.Path)
		})
	})
	s.mux.ServeHTTP(w, r)
}

// sendEmailRequest is the part of SendEmail's JSON body the emulator reads.
type sendEmailRequest struct {
	FromEmailAddress string
	Destination      *struct{ ToAddresses, CcAddresses, BccAddresses []string }
	Content          struct {
		Raw      *struct{ Data []byte } // base64 in JSON
		Simple   json.RawMessage
		Template json.RawMessage
	}
	ConfigurationSetName string
	EmailTags            []struct{ Name, Value string }
}

func (s *Server) sendEmail(w http.ResponseWriter, r *http.Request) {
	maxSize := s.MaxMessageSize
	if maxSize <= 0 {
		maxSize = ses.MaxMessageSize
	}
	var req sendEmailRequest
	body := http.MaxBytesReader(w, r.Body, int64(maxSize)+1<<20)
	if err := json.NewDecoder(body).Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, 400, "MessageRejected", fmt.Sprintf("Message length is more than %d bytes", maxSize))
			return
		}
		writeError(w, 400, "BadRequestException", "cannot read the request: "+err.Error())
		return
	}
	if f, ok := s.nextFailure(); ok {
		writeError(w, errorStatus[f.errType], f.errType, f.message)
		return
	}

	if req.Content.Raw == nil {
		writeError(w, 400, "BadRequestException", "the local SES emulator supports only raw content (Content.Raw)")
		return
	}
	raw := req.Content.Raw.Data
	if base64.StdEncoding.EncodedLen(len(raw)) > maxSize {
		writeError(w, 400, "MessageRejected", fmt.Sprintf("Message length is more than %d bytes", maxSize))
		return
	}
	var rcpts []string
	if d := req.Destination; d != nil {
		rcpts = append(append(append(rcpts, d.ToAddresses...), d.CcAddresses...), d.BccAddresses...)
	}
	if len(rcpts) == 0 {
		writeError(w, 400, "BadRequestException", "Missing required parameter: Destination must name at least one recipient")
		return
	}
	if len(rcpts) > ses.MaxRecipients {
		writeError(w, 400, "BadRequestException", fmt.Sprintf("Recipient count exceeds %d.", ses.MaxRecipients))
		return
	}
	for _, rc := range rcpts {
		if _, err := netmail.ParseAddress(rc); err != nil {
			writeError(w, 400, "BadRequestException", fmt.Sprintf("Invalid recipient address %q: %v", rc, err))
			return
		}
	}
	tags := map[string]string{}
	for _, t := range req.EmailTags {
		if !validTag(t.Name) || !validTag(t.Value) {
			writeError(w, 400, "BadRequestException", fmt.Sprintf("Invalid message tag %q=%q: names and values are 1-256 of A-Z a-z 0-9 _ -", t.Name, t.Value))
			return
		}
		tags[t.Name] = t.Value
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		writeError(w, 400, "MessageRejected", "Illegal header or missing header/body separator: "+err.Error())
		return
	}
	if n := longestLine(raw); n > 1000 {
		writeError(w, 400, "MessageRejected", fmt.Sprintf("Message has a line of %d characters; at most 1000 are allowed", n))
		return
	}
	from := req.FromEmailAddress
	if from == "" {
		from = msg.Header.Get("From")
	}
	if from == "" {
		writeError(w, 400, "BadRequestException", "Missing FromEmailAddress and no From header")
		return
	}
	if a, err := netmail.ParseAddress(from); err == nil {
		from = a.Address
	} else {
		writeError(w, 400, "BadRequestException", fmt.Sprintf("Invalid FromEmailAddress %q: %v", from, err))
		return
	}

	accepted := time.Now()
	id := newMessageID(accepted)
	final := ses.ReplaceMessageID(raw, ses.MessageIDHeader(id, s.Region))
	if s.Deliver != nil {
		if err := s.Deliver(r.Context(), from, rcpts, final, id); err != nil {
			s.log().ErrorContext(r.Context(), "sesemu: local delivery failed", slog.String("ses_message_id", id), slog.Any("err", err))
		}
	}
	var remote []string
	for _, rc := range rcpts {
		if s.IsLocal == nil || !s.IsLocal(rc) {
			remote = append(remote, rc)
		}
	}
	if len(remote) > 0 {
		subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		s.keep(OutboxMessage{
			SESMessageID: id, From: from, Recipients: remote, Subject: subject, ReceivedAt: time.Now().UTC(),
			ConfigurationSet: req.ConfigurationSetName, Tags: tags, Raw: final,
		})
	}
	// The mail object shows the headers as submitted (with the sender's Message-ID).
	s.publish(sesevents.Mail{
		SESMessageID: id, Source: from, Destination: rcpts, Raw: raw, Tags: tags,
		ConfigurationSet: req.ConfigurationSetName, Timestamp: accepted.UTC(),
	})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", newRequestID())
	json.NewEncoder(w).Encode(map[string]string{"MessageId": id})
}

// publish hands the notifications of an accepted message to Publish, PublishDelay from now.
func (s *Server) publish(m sesevents.Mail) {
	if s.Publish == nil {
		return
	}
	topic := s.Topic
	if topic.Region == "" {
		topic.Region = s.Region
	}
	evs := sesevents.Simulate(m, topic)
	delay := s.PublishDelay
	if delay <= 0 {
		delay = 50 * time.Millisecond
	}
	s.publishing.Add(1)
	go func() {
		defer s.publishing.Done()
		time.Sleep(delay)
		for _, ev := range evs {
			s.Publish(context.Background(), ev)
		}
	}()
}

// Wait blocks until the notifications of every message accepted so far have been published.
func (s *Server) Wait() { s.publishing.Wait() }

func (s *Server) nextFailure() (failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failAs) == 0 {
		return failure{}, false
	}
	f := s.failAs[0]
	s.failAs = s.failAs[1:]
	return f, true
}

func (s *Server) keep(m OutboxMessage) {
	limit := s.OutboxLimit
	if limit <= 0 {
		limit = 1000
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outbox = append(s.outbox, m)
	if len(s.outbox) > limit {
		s.outbox = append([]OutboxMessage(nil), s.outbox[len(s.outbox)-limit:]...)
	}
}

func (s *Server) listOutbox(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(s.Outbox())
}

func (s *Server) rawOutbox(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	for _, m := range s.Outbox() {
		if m.SESMessageID == id {
			w.Header().Set("Content-Type", "message/rfc822")
			w.Write(m.Raw)
			return
		}
	}
	http.Error(w, "no kept message with SES id "+id, http.StatusNotFound)
}

func (s *Server) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// writeError answers as SES's restJson1 protocol does: the error type in X-Amzn-ErrorType and
// in "__type", the text in "message".
func writeError(w http.ResponseWriter, status int, errType, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", errType)
	w.Header().Set("X-Amzn-Requestid", newRequestID())
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": errType, "message": message})
}

func validTag(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// longestLine returns the length of the longest line of raw, without its line ending.
func longestLine(raw []byte) int {
	longest := 0
	for len(raw) > 0 {
		i := bytes.IndexByte(raw, '\n')
		line := raw
		if i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		longest = max(longest, len(bytes.TrimSuffix(line, []byte("\r"))))
	}
	return longest
}

// newMessageID returns an id shaped like SES's outbound ids: "0100" and the send time in
// milliseconds as 12 hex digits, a random UUID, and "-000000":
// 0100018c2f3a4b5c-1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d-000000.
func newMessageID(now time.Time) string {
	return fmt.Sprintf("0100%012x-%s-000000", now.UnixMilli(), newUUID())
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func newRequestID() string { return newUUID() }
