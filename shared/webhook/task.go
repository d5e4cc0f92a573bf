package webhook

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"strings"
)

// Task is one delivery of one event to one webhook: the body of a message on the webhooks SQS
// queue. fanout enqueues it with Attempt 1; the webhooks function delivers it and, on a
// retryable failure, makes it come back after Backoff(Attempt) (see Backoff).
//
// The task carries the webhook's URL, secret and custom headers as they were when the event was
// fanned out, so a delivery needs no table read; the queue must therefore be encrypted
// (SSE-SQS). A worker that wants deletes and edits to stop pending retries re-reads the webhook
// by WebhookID before each retry.
//
// Body is the event JSON, exactly the bytes that are signed and POSTed. SQS caps a message at
// 256 KiB, so fanout fits bodies into MaxBodyBytes with events.ReduceTo first.
type Task struct {
	WebhookID string            `json:"webhook_id"`
	EventID   string            `json:"event_id"`
	Attempt   int               `json:"attempt"`
	URL       string            `json:"url"`
	Secret    string            `json:"secret"`
	Headers   map[string]string `json:"headers,omitempty"`
	Body      json.RawMessage   `json:"body"`
}

// MaxBodyBytes is the largest event body a Task carries: SQS's 256 KiB message limit less room
// for the task's other fields (custom headers are bounded by ValidateHeaders).
const MaxBodyBytes = 192 << 10

// MessageID is the svix-id / webhook-id of every attempt to deliver event eventID to webhook
// webhookID: "msg_" + the first 20 bytes of SHA-256(eventID NUL webhookID), base32, lower case.
//
// It is derived rather than stored, so every retry carries the same id without bookkeeping, and
// it differs per webhook, as the Standard Webhooks spec wants ids unique across messages: two
// webhooks pointing at one URL are two messages, and a receiver that dedupes on the id keeps
// both. Receivers that want the event itself dedupe on event_id in the body.
func MessageID(eventID, webhookID string) string {
	sum := sha256.Sum256([]byte(eventID + "\x00" + webhookID))
	return "msg_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:20]))
}
