package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pigeon-mail/pigeon/infra/local/sqsemu"
	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/deps/faults"
	"github.com/pigeon-mail/pigeon/shared/events"
	"github.com/pigeon-mail/pigeon/shared/realtime"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/webhook"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// recorder is a stand-in for the endpoint on the far side of a delivery: API Gateway's
// management API (POST /@connections/{id}: the frames the clients got) or a webhook receiver.
// It keeps "path body" per request, answers 200.
type recorder struct {
	mu   sync.Mutex
	got  []string
	srv  *httptest.Server
	seen func(r *http.Request) string // what to keep besides the path and body
}

func newRecorder(t *testing.T) *recorder {
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		extra := ""
		if rec.seen != nil {
			extra = " " + rec.seen(r)
		}
		rec.mu.Lock()
		rec.got = append(rec.got, r.Method+" "+r.URL.Path+" "+string(body)+extra)
		rec.mu.Unlock()
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// newQueue is a fresh local SQS queue and a client for it through the injector.
func newQueue(t *testing.T, inj *faults.Injector) (*sqsemu.Server, *sqs.Client, string) {
	var handler http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	q, err := sqsemu.Open(t.TempDir(), srv.URL, 0.001)
	if err != nil {
		t.Fatal(err)
	}
	q.NoSync = true
	t.Cleanup(func() { q.Close() })
	handler = q
	client := inj.SQS(sqs.New(sqs.Options{
		Region: sqsemu.Region, BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}))
	return q, client, q.CreateQueue("webhooks", 30*time.Second, 0, "")
}

// putKey stores an organisation API key.
func putKey(t *testing.T, w *world, id string) {
	t.Helper()
	secret := "am_faultsKey" + id + "000000000000000000000000000000"
	prefix := auth.Prefix(secret)
	if err := w.st.PutAPIKey(context.Background(), store.APIKey{APIKeyID: id, Name: id, Prefix: prefix, Hash: auth.Hash(secret), OrgID: w.cfg.OrgID}); err != nil {
		t.Fatal(err)
	}
}

// streamRecord is the stream record of a new message.received event item of the inbox.
func streamRecord(w *world, seq int, inboxID string) awsevents.DynamoDBEventRecord {
	id := "evt_" + strconv.Itoa(seq)
	payload, _ := json.Marshal(wire.Event{Type: "event", EventType: events.MessageReceived, EventID: id,
		Message: &wire.Message{InboxID: inboxID, MessageID: fmt.Sprintf("<m%d@x>", seq), Labels: []string{}, To: []string{}}})
	s := awsevents.NewStringAttribute
	return awsevents.DynamoDBEventRecord{
		EventName: "INSERT", EventSource: "aws:dynamodb", EventID: strconv.Itoa(seq),
		Change: awsevents.DynamoDBStreamRecord{
			SequenceNumber: fmt.Sprintf("%021d", seq), StreamViewType: "NEW_IMAGE",
			Keys: map[string]awsevents.DynamoDBAttributeValue{"pk": s("EVT#" + id), "sk": s("EVT")},
			NewImage: map[string]awsevents.DynamoDBAttributeValue{
				"pk": s("EVT#" + id), "sk": s("EVT"), "event_id": s(id), "event_type": s(events.MessageReceived),
				"organization_id": s(w.cfg.OrgID), "pod_id": s(store.DefaultPodID), "inbox_id": s(inboxID),
				"created_at": s(time.Now().UTC().Format(time.RFC3339Nano)), "event": s(string(payload)),
				"ttl": awsevents.NewNumberAttribute(strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)),
			},
		},
	}
}

// fanoutRig is an inbox with conns WebSocket connections and hooks webhooks subscribed, and
// fanout posting through a real management API client (to a recorder) and queueing through a
// real SQS client (to sqsemu).
type fanoutRig struct {
	*world
	f      *realtime.Fanout
	frames *recorder
	queue  *sqsemu.Server
	qURL   string
}

func newFanoutRig(t *testing.T, inj *faults.Injector, conns, hooks int) *fanoutRig {
	w := newWorld(t, inj)
	w.inbox("agent@pigeon.local")
	putKey(t, w, "k1")
	ctx := context.Background()
	for i := range conns {
		id := fmt.Sprintf("conn-%02d", i)
		if err := w.st.PutConnection(ctx, store.Connection{ConnectionID: id, APIKeyID: "k1", OrgID: w.cfg.OrgID}); err != nil {
			t.Fatal(err)
		}
		if err := w.st.SetSubscription(ctx, id, events.Subscription{OrgID: w.cfg.OrgID}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range hooks {
		_, _, err := w.st.CreateWebhook(ctx, store.Webhook{OrgID: w.cfg.OrgID, Webhook: wire.Webhook{URL: fmt.Sprintf("https://hook-%d.example", i), Secret: webhook.NewSecret()}})
		if err != nil {
			t.Fatal(err)
		}
	}
	frames := newRecorder(t)
	q, qc, qURL := newQueue(t, inj)
	poster := inj.APIGateway(apigatewaymanagementapi.New(apigatewaymanagementapi.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(frames.srv.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}))
	f := &realtime.Fanout{Store: w.st, Poster: poster, Queue: qc, QueueURL: qURL, Log: slog.New(slog.DiscardHandler)}
	return &fanoutRig{world: w, f: f, frames: frames, queue: q, qURL: qURL}
}

// state adds the frames posted and the webhook deliveries queued (webhook id and event id of
// each task: the rest is the webhook's secret and the event, both in the table).
func (r *fanoutRig) state(ctx context.Context) faults.State {
	s := r.world.state(ctx)
	s.Add("frames", r.frames.requests()...)
	for _, body := range r.queue.Bodies(r.qURL) {
		var task webhook.Task
		if err := json.Unmarshal([]byte(body), &task); err != nil {
			r.t.Fatal(err)
		}
		s.Add("queued", task.WebhookID+" "+task.EventID)
	}
	return s
}

// fanoutOne is one event for 3 connections and 2 webhooks, the stream retrying from the
// first failed record.
func fanoutOne(t *testing.T, inj *faults.Injector) faults.Run {
	r := newFanoutRig(t, inj, 3, 2)
	batch := []awsevents.DynamoDBEventRecord{streamRecord(r.world, 1, "agent@pigeon.local")}
	return faults.Run{
		Invoke: func(ctx context.Context) bool {
			resp, err := r.f.HandleStream(ctx, awsevents.DynamoDBEvent{Records: batch})
			if err != nil {
				return true
			}
			if len(resp.BatchItemFailures) > 0 {
				from := slices.IndexFunc(batch, func(rec awsevents.DynamoDBEventRecord) bool {
					return rec.Change.SequenceNumber == resp.BatchItemFailures[0].ItemIdentifier
				})
				batch = batch[from:]
				return true
			}
			return false
		},
		State: r.state,
	}
}

// Fanout's deliberate best effort (realtime.Fanout): a post that fails is not retried, a
// marker that cannot be written is logged, and a webhook batch SQS took with its answer lost
// is enqueued again on the retry (the receiver sees the same svix-id twice).
func TestFanoutFaults(t *testing.T) {
	const (
		postLost   = "WebSocket posts are best effort: a failed post is not retried"
		postAnswer = "post delivered, answer lost: the marker does not list the connection (no frame is repeated)"
		marker     = "the fanout marker write is best effort (logged)"
		enqueued   = "SQS took the batch, answer lost: the retry enqueues it again (same svix-id)"
	)
	faults.Enumerate(t, faults.Scenario{Setup: fanoutOne, Known: map[string]string{
		"before/6/ApiGatewayManagementApi.PostToConnection": postLost,
		"before/7/ApiGatewayManagementApi.PostToConnection": postLost,
		"before/8/ApiGatewayManagementApi.PostToConnection": postLost,
		"after/6/ApiGatewayManagementApi.PostToConnection":  postAnswer,
		"after/7/ApiGatewayManagementApi.PostToConnection":  postAnswer,
		"after/8/ApiGatewayManagementApi.PostToConnection":  postAnswer,
		"after/9/SQS.SendMessageBatch":                      enqueued,
		"before/10/DynamoDB.UpdateItem":                     marker,
	}})
}

// webhookBatch is two queued deliveries of one webhook, SQS handing back the failed items
// of a partial batch response (with their receive count one higher).
func webhookBatch(t *testing.T, inj *faults.Injector) faults.Run {
	w := newWorld(t, inj)
	ctx := context.Background()
	recv := newRecorder(t)
	recv.seen = func(r *http.Request) string { return r.Header.Get("svix-id") }
	hook, _, err := w.st.CreateWebhook(ctx, store.Webhook{OrgID: w.cfg.OrgID, Webhook: wire.Webhook{URL: recv.srv.URL + "/hook", Secret: webhook.NewSecret()}})
	if err != nil {
		t.Fatal(err)
	}
	_, qc, qURL := newQueue(t, inj)
	worker := &realtime.Webhooks{Store: w.st, Deliverer: webhook.NewDeliverer(false), Queue: qc, QueueURL: qURL, Log: slog.New(slog.DiscardHandler)}
	var batch []awsevents.SQSMessage
	for i := range 2 {
		body, _ := json.Marshal(webhook.Task{WebhookID: hook.WebhookID, EventID: fmt.Sprintf("evt_%d", i), Attempt: 1,
			URL: hook.URL, Secret: hook.Secret, Body: json.RawMessage(fmt.Sprintf(`{"type":"event","event_id":"evt_%d"}`, i))})
		batch = append(batch, awsevents.SQSMessage{MessageId: fmt.Sprintf("m%d", i), ReceiptHandle: fmt.Sprintf("r%d", i), Body: string(body),
			Attributes: map[string]string{"ApproximateReceiveCount": "1"}})
	}
	return faults.Run{
		Invoke: func(ctx context.Context) bool {
			resp, err := worker.HandleQueue(ctx, awsevents.SQSEvent{Records: batch})
			if err != nil {
				return true
			}
			var again []awsevents.SQSMessage
			for _, f := range resp.BatchItemFailures {
				i := slices.IndexFunc(batch, func(m awsevents.SQSMessage) bool { return m.MessageId == f.ItemIdentifier })
				m := batch[i]
				n, _ := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
				m.Attributes = map[string]string{"ApproximateReceiveCount": strconv.Itoa(n + 1)}
				again = append(again, m)
			}
			batch = again
			return len(batch) > 0
		},
		State: func(ctx context.Context) faults.State {
			s := w.state(ctx)
			for _, r := range recv.requests() {
				s.Add("webhooks", strings.TrimSpace(r))
			}
			return s
		},
	}
}

func TestWebhookFaults(t *testing.T) { faults.Enumerate(t, faults.Scenario{Setup: webhookBatch}) }
