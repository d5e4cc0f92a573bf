package realtime

// The sample Lambda events of events/ (as AWS sends them) through the handlers of fanout,
// webhooks and ws. The samples tell one story: a key connects and subscribes to
// agent@pigeon.local, a message arrives there (the stream record of its message.received event
// item), fanout posts it to the connection and queues it for a webhook (the SQS message), the
// webhooks function delivers it, and the client disconnects.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/events"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/webhook"
	"github.com/pigeon-mail/pigeon/shared/wire"
	"github.com/pigeon-mail/pigeon/shared/wsproto"
)

// The owners of the samples' event and connection.
const (
	sampleOrg   = "org_pigeon"
	sampleInbox = "agent@pigeon.local"
)

// readSample decodes events/<name> into v, refusing fields v's type does not know (a
// misspelt field would otherwise decode to nothing and the test would prove less).
func readSample(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func streamSample(t *testing.T) awsevents.DynamoDBEvent {
	t.Helper()
	var ev awsevents.DynamoDBEvent
	readSample(t, "dynamodb-stream-event-insert.json", &ev)
	if len(ev.Records) != 1 {
		t.Fatalf("%d records", len(ev.Records))
	}
	return ev
}

func sqsSample(t *testing.T) awsevents.SQSEvent {
	t.Helper()
	var ev awsevents.SQSEvent
	readSample(t, "sqs-webhook-task.json", &ev)
	if len(ev.Records) != 1 {
		t.Fatalf("%d records", len(ev.Records))
	}
	return ev
}

func wsSample(t *testing.T, name string) awsevents.APIGatewayWebsocketProxyRequest {
	t.Helper()
	var req awsevents.APIGatewayWebsocketProxyRequest
	readSample(t, name, &req)
	return req
}

// framePoster is a poster that also keeps the frames' bytes.
type framePoster struct {
	*poster
	mu     sync.Mutex
	frames map[string][][]byte
}

func newFramePoster() *framePoster {
	return &framePoster{poster: newPoster(), frames: map[string][][]byte{}}
}

func (p *framePoster) PostToConnection(ctx context.Context, in *apigatewaymanagementapi.PostToConnectionInput, opts ...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.PostToConnectionOutput, error) {
	out, err := p.poster.PostToConnection(ctx, in, opts...)
	if err == nil {
		p.mu.Lock()
		p.frames[aws.ToString(in.ConnectionId)] = append(p.frames[aws.ToString(in.ConnectionId)], in.Data)
		p.mu.Unlock()
	}
	return out, err
}

func putSampleKey(t *testing.T, st *store.Store, id, secret string) {
	t.Helper()
	err := st.PutAPIKey(context.Background(), store.APIKey{APIKeyID: id, Name: id, Prefix: auth.Prefix(secret), Hash: auth.Hash(secret), OrgID: sampleOrg})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSampleStreamInsert(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	ev := streamSample(t)
	rec := ev.Records[0]
	img := rec.Change.NewImage
	if rec.EventName != "INSERT" || rec.Change.StreamViewType != "NEW_IMAGE" || !strings.HasPrefix(img["pk"].String(), "EVT#") ||
		img["organization_id"].String() != sampleOrg || img["inbox_id"].String() != sampleInbox {
		t.Fatalf("sample record = %+v", rec)
	}
	eventID, payload := img["event_id"].String(), img["event"].String()

	putSampleKey(t, st, "ak_sample", auth.SecretPrefix+"stream")
	for conn, sub := range map[string]events.Subscription{
		"inbox":      {InboxIDs: []string{sampleInbox}, EventTypes: []string{events.MessageReceived}},
		"org":        {},
		"other":      {InboxIDs: []string{"ops@pigeon.local"}},
		"sent-only":  {EventTypes: []string{events.MessageSent}},
		"other-pod":  {PodIDs: []string{"p2"}},
		"other-type": {InboxIDs: []string{sampleInbox}, EventTypes: []string{events.MessageBounced}},
	} {
		if err := st.PutConnection(ctx, store.Connection{ConnectionID: conn, APIKeyID: "ak_sample", OrgID: sampleOrg}); err != nil {
			t.Fatal(err)
		}
		sub.OrgID = sampleOrg
		if err := st.SetSubscription(ctx, conn, sub); err != nil {
			t.Fatal(err)
		}
	}
	hook, _, err := st.CreateWebhook(ctx, store.Webhook{Webhook: wire.Webhook{URL: "https://agent.example.com/hooks/pigeon", Secret: webhook.NewSecret()}, OrgID: sampleOrg})
	if err != nil {
		t.Fatal(err)
	}

	p, q := newFramePoster(), &queue{}
	f := &Fanout{Store: st, Poster: p, Queue: q, QueueURL: "q", Log: slog.New(slog.DiscardHandler)}
	resp, err := f.HandleStream(ctx, ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("HandleStream = %+v, %v", resp, err)
	}
	for conn, want := range map[string]int{"inbox": 1, "org": 1, "other": 0, "sent-only": 0, "other-pod": 0, "other-type": 0} {
		if got := len(p.frames[conn]); got != want {
			t.Errorf("%s got %d frames, want %d", conn, got, want)
		}
	}
	// The frame is the event item's payload, unchanged.
	if got := p.frames["inbox"]; len(got) != 1 || string(got[0]) != payload {
		t.Fatalf("frame = %q\nwant %q", got, payload)
	}
	var frame wire.Event
	if err := json.Unmarshal(p.frames["inbox"][0], &frame); err != nil || frame.EventID != eventID || frame.EventType != events.MessageReceived ||
		frame.Message == nil || frame.Message.InboxID != sampleInbox {
		t.Fatalf("frame = %+v, %v", frame, err)
	}

	// One delivery queued for the webhook: what the SQS sample carries (but this webhook's id).
	if len(q.sent) != 1 {
		t.Fatalf("%d tasks queued", len(q.sent))
	}
	var task, sample webhook.Task
	if err := json.Unmarshal([]byte(q.sent[0]), &task); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(sqsSample(t).Records[0].Body), &sample); err != nil {
		t.Fatal(err)
	}
	if task.WebhookID != hook.WebhookID || task.EventID != eventID || task.Attempt != 1 || task.URL != hook.URL {
		t.Fatalf("task = %+v", task)
	}
	if sample.EventID != eventID || sample.Attempt != task.Attempt || !bytes.Equal(sample.Body, task.Body) {
		t.Fatalf("the SQS sample does not carry the stream sample's event:\n%s\n%s", sample.Body, task.Body)
	}

	// Redelivered (at least once): nothing is posted or queued again.
	if resp, err := f.HandleStream(ctx, ev); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("redelivery = %+v, %v", resp, err)
	}
	if len(p.frames["inbox"]) != 1 || len(q.sent) != 1 {
		t.Fatalf("redelivery posted %d frames, queued %d tasks", len(p.frames["inbox"]), len(q.sent))
	}
}

// hookReceiver records the webhook POSTs and answers status.
type hookReceiver struct {
	mu      sync.Mutex
	status  int
	headers []http.Header
	bodies  [][]byte
}

func (r *hookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.headers, r.bodies = append(r.headers, req.Header.Clone()), append(r.bodies, body)
	w.WriteHeader(r.status)
}

func TestSampleSQSWebhookTask(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	ev := sqsSample(t)
	msg := ev.Records[0]
	var sample webhook.Task
	if err := json.Unmarshal([]byte(msg.Body), &sample); err != nil {
		t.Fatal(err)
	}
	if msg.EventSource != "aws:sqs" || msg.Attributes["ApproximateReceiveCount"] != "1" || sample.WebhookID == "" || sample.EventID == "" || len(sample.Body) == 0 {
		t.Fatalf("sample = %+v / %+v", msg, sample)
	}

	recv := &hookReceiver{status: http.StatusNoContent}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	// The webhook as stored: the worker reads it again and posts to its current URL.
	hook, _, err := st.CreateWebhook(ctx, store.Webhook{Webhook: wire.Webhook{URL: srv.URL, Secret: sample.Secret}, OrgID: sampleOrg, Headers: sample.Headers})
	if err != nil {
		t.Fatal(err)
	}
	// The sample names a webhook id the store cannot mint; point it at this one.
	ev.Records[0].Body = strings.ReplaceAll(msg.Body, sample.WebhookID, hook.WebhookID)

	q := &queue{}
	w := &Webhooks{Store: st, Deliverer: webhook.NewDeliverer(false), Queue: q, QueueURL: "q", DeadLetterURL: "dlq", Log: slog.New(slog.DiscardHandler)}
	resp, err := w.HandleQueue(ctx, ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("HandleQueue = %+v, %v", resp, err)
	}
	if len(recv.bodies) != 1 {
		t.Fatalf("%d POSTs", len(recv.bodies))
	}
	h, body := recv.headers[0], recv.bodies[0]
	if !bytes.Equal(body, sample.Body) {
		t.Fatalf("POSTed %s\nwant the task's body %s", body, sample.Body)
	}
	if id := webhook.MessageID(sample.EventID, hook.WebhookID); h.Get("svix-id") != id || h.Get("webhook-id") != id {
		t.Fatalf("svix-id %q, webhook-id %q, want %q", h.Get("svix-id"), h.Get("webhook-id"), id)
	}
	if h.Get("svix-timestamp") == "" || h.Get("svix-signature") == "" || h.Get("Content-Type") != "application/json" {
		t.Fatalf("headers = %v", h)
	}
	if err := webhook.Verify(sample.Secret, h, body, time.Now()); err != nil {
		t.Fatalf("signature: %v", err)
	}
	for name, v := range sample.Headers {
		if h.Get(name) != v {
			t.Fatalf("custom header %s = %q, want %q", name, h.Get(name), v)
		}
	}
	if len(q.visibility) != 0 || len(q.dead) != 0 {
		t.Fatalf("delivered, yet retried %v / dead-lettered %d", q.visibility, len(q.dead))
	}

	// The receiver fails: the sample message is reported by its messageId and comes back
	// after the first backoff.
	recv.status = http.StatusServiceUnavailable
	resp, err = w.HandleQueue(ctx, ev)
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != msg.MessageId {
		t.Fatalf("HandleQueue = %+v, %v; want a failure for %s", resp, err, msg.MessageId)
	}
	if wait, _ := webhook.Backoff(1); len(q.visibility) != 1 || q.visibility[0] != int32(wait.Seconds()) {
		t.Fatalf("visibility = %v, want %v", q.visibility, wait)
	}
}

func TestSampleWebSocketSession(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	connect := wsSample(t, "apigw-websocket-connect.json")
	subscribe := wsSample(t, "apigw-websocket-subscribe.json")
	disconnect := wsSample(t, "apigw-websocket-disconnect.json")
	conn := connect.RequestContext.ConnectionID
	for _, c := range []struct {
		req             awsevents.APIGatewayWebsocketProxyRequest
		route, typ, dir string
	}{{connect, "$connect", "CONNECT", "IN"}, {subscribe, "$default", "MESSAGE", "IN"}, {disconnect, "$disconnect", "DISCONNECT", "IN"}} {
		rc := c.req.RequestContext
		if rc.RouteKey != c.route || rc.EventType != c.typ || rc.MessageDirection != c.dir || rc.ConnectionID != conn || rc.Stage != "v0" || rc.DomainName == "" {
			t.Fatalf("%s sample: request context = %+v", c.route, rc)
		}
	}
	secret := connect.QueryStringParameters["api_key"]
	if !strings.HasPrefix(secret, auth.SecretPrefix) || header(connect.Headers, "Authorization") != "Bearer "+secret {
		t.Fatalf("$connect sample: query %v, headers %v", connect.QueryStringParameters, connect.Headers)
	}
	if _, _, err := st.CreateInbox(ctx, sampleOrg, wire.Inbox{InboxID: sampleInbox}); err != nil {
		t.Fatal(err)
	}
	s := &Sessions{Store: st, Log: slog.New(slog.DiscardHandler)}
	call := func(req awsevents.APIGatewayWebsocketProxyRequest) awsevents.APIGatewayProxyResponse {
		t.Helper()
		resp, err := s.HandleWebSocket(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	// Before the sample's key exists, $connect is refused and nothing is stored.
	if resp := call(connect); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unknown key: $connect = %d %s", resp.StatusCode, resp.Body)
	}
	if _, err := st.GetConnection(ctx, conn); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused connection was stored: %v", err)
	}

	putSampleKey(t, st, "ak_sample", secret)
	if resp := call(connect); resp.StatusCode != http.StatusOK {
		t.Fatalf("$connect = %d %s", resp.StatusCode, resp.Body)
	}
	c, err := st.GetConnection(ctx, conn)
	if err != nil || c.APIKeyID != "ak_sample" || c.OrgID != sampleOrg || c.Subscription != nil {
		t.Fatalf("stored connection = %+v, %v", c, err)
	}

	resp := call(subscribe)
	var ack wsproto.Subscribed
	if err := json.Unmarshal([]byte(resp.Body), &ack); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("subscribe = %d %s", resp.StatusCode, resp.Body)
	}
	if ack.Type != wsproto.TypeSubscribed || !slices.Equal(ack.InboxIDs, []string{sampleInbox}) || !slices.Equal(ack.EventTypes, []string{events.MessageReceived}) {
		t.Fatalf("subscribed frame = %s", resp.Body)
	}
	c, err = st.GetConnection(ctx, conn)
	if err != nil || c.Subscription == nil || !slices.Equal(c.Subscription.InboxIDs, []string{sampleInbox}) || !slices.Equal(c.Subscription.EventTypes, []string{events.MessageReceived}) {
		t.Fatalf("stored subscription = %+v, %v", c.Subscription, err)
	}

	// The stream sample's message reaches the sample connection.
	p := newFramePoster()
	f := &Fanout{Store: st, Poster: p, Queue: &queue{}, QueueURL: "q", Log: slog.New(slog.DiscardHandler)}
	stream := streamSample(t)
	if resp, err := f.HandleStream(ctx, stream); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("HandleStream = %+v, %v", resp, err)
	}
	if got := p.frames[conn]; len(got) != 1 || string(got[0]) != stream.Records[0].Change.NewImage["event"].String() {
		t.Fatalf("frames to %s = %q", conn, got)
	}

	if resp := call(disconnect); resp.StatusCode != http.StatusOK {
		t.Fatalf("$disconnect = %d %s", resp.StatusCode, resp.Body)
	}
	if _, err := st.GetConnection(ctx, conn); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after $disconnect: %v", err)
	}
	if subs, err := st.Subscribers(ctx, store.Target{Kind: "inbox", ID: sampleInbox}); err != nil || len(subs) != 0 {
		t.Fatalf("index left: %+v, %v", subs, err)
	}
	// A frame after $disconnect is refused: the connection is not authenticated any more.
	var refused wsproto.Error
	if err := json.Unmarshal([]byte(call(subscribe).Body), &refused); err != nil || refused.Type != wsproto.TypeError || refused.Name != wsproto.ForbiddenError {
		t.Fatalf("frame after $disconnect = %+v, %v", refused, err)
	}
}
