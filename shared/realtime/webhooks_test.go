package realtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/webhook"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// receiver answers each POST with the next status of its script (200 when it runs out).
type receiver struct {
	mu      sync.Mutex
	script  []int
	headers []http.Header
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.headers = append(r.headers, req.Header.Clone())
	status := 200
	if len(r.script) > 0 {
		status, r.script = r.script[0], r.script[1:]
	}
	w.WriteHeader(status)
}

func TestWebhooksWorker(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	recv := &receiver{}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	hook, _, err := st.CreateWebhook(ctx, store.Webhook{Webhook: wire.Webhook{URL: srv.URL, Secret: webhook.NewSecret()}, OrgID: testOrg,
		Headers: map[string]string{"X-Token": "t"}})
	if err != nil {
		t.Fatal(err)
	}
	q := &queue{}
	w := &Webhooks{Store: st, Deliverer: webhook.NewDeliverer(false), Queue: q, QueueURL: "q", DeadLetterURL: "dlq", Log: slog.New(slog.DiscardHandler)}
	message := func(webhookID string, receives int) awsevents.SQSMessage {
		// The task's URL is stale: the worker uses the webhook's current one.
		body, _ := json.Marshal(webhook.Task{WebhookID: webhookID, EventID: "evt_1", Attempt: 1, URL: "http://stale.invalid", Secret: "whsec_AAAA", Body: json.RawMessage(`{"type":"event"}`)})
		return awsevents.SQSMessage{MessageId: "m" + strconv.Itoa(receives), ReceiptHandle: "r", Body: string(body),
			Attributes: map[string]string{"ApproximateReceiveCount": strconv.Itoa(receives)}}
	}
	run := func(msg awsevents.SQSMessage) bool {
		t.Helper()
		resp, err := w.HandleQueue(ctx, awsevents.SQSEvent{Records: []awsevents.SQSMessage{msg}})
		if err != nil {
			t.Fatal(err)
		}
		return len(resp.BatchItemFailures) == 0
	}

	recv.script = []int{500, 503}
	if run(message(hook.WebhookID, 1)) || run(message(hook.WebhookID, 2)) || !run(message(hook.WebhookID, 3)) {
		t.Fatal("want failure, failure, success")
	}
	if len(q.visibility) != 2 || q.visibility[0] != 5 || q.visibility[1] != 300 {
		t.Fatalf("retry waits = %v, want Svix's 5 s then 5 min", q.visibility)
	}
	if len(recv.headers) != 3 {
		t.Fatalf("%d attempts", len(recv.headers))
	}
	for _, h := range recv.headers {
		if h.Get("svix-id") != recv.headers[0].Get("svix-id") || h.Get("X-Token") != "t" {
			t.Fatalf("headers = %v", h)
		}
	}
	if err := webhook.Verify(hook.Secret, recv.headers[2], []byte(`{"type":"event"}`), time.Now()); err != nil {
		t.Fatalf("signature: %v", err)
	}

	// 410: dead-lettered at once, not retried.
	recv.script = []int{410}
	if !run(message(hook.WebhookID, 1)) || len(q.dead) != 1 {
		t.Fatalf("410: dead = %d", len(q.dead))
	}
	// The last attempt fails: dead-lettered.
	recv.script = []int{500}
	if !run(message(hook.WebhookID, webhook.MaxAttempts)) || len(q.dead) != 2 {
		t.Fatalf("exhausted: dead = %d", len(q.dead))
	}
	// A deleted webhook drops its pending deliveries without a POST.
	if err := st.DeleteWebhook(ctx, hook.WebhookID); err != nil {
		t.Fatal(err)
	}
	before := len(recv.headers)
	if !run(message(hook.WebhookID, 2)) || len(recv.headers) != before {
		t.Fatal("delivered to a deleted webhook")
	}
}
