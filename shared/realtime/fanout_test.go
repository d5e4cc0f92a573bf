package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/pigeon-mail/pigeon/shared/events"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/webhook"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

func newFanout(st *store.Store, p *poster, q *queue) *Fanout {
	return &Fanout{Store: st, Poster: p, Queue: q, QueueURL: "q", Log: slog.New(slog.DiscardHandler)}
}

func handle(t *testing.T, f *Fanout, recs ...awsevents.DynamoDBEventRecord) awsevents.DynamoDBEventResponse {
	t.Helper()
	resp, err := f.HandleStream(context.Background(), awsevents.DynamoDBEvent{Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestFanoutRedeliveredBatchPostsOncePerConnection(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	putKey(t, st, "k1", "", "", nil)
	subscribe(t, st, "org-wide", "k1", events.Subscription{})
	subscribe(t, st, "inbox-a", "k1", events.Subscription{InboxIDs: []string{"a@x.org"}})
	subscribe(t, st, "pod-p", "k1", events.Subscription{PodIDs: []string{"p"}, InboxIDs: []string{"a@x.org"}}) // found twice, served once
	subscribe(t, st, "inbox-b", "k1", events.Subscription{InboxIDs: []string{"b@x.org"}})
	subscribe(t, st, "sent-only", "k1", events.Subscription{EventTypes: []string{events.MessageSent}})
	hook, _, err := st.CreateWebhook(ctx, store.Webhook{Webhook: wire.Webhook{URL: "https://h.example", Secret: webhook.NewSecret()}, OrgID: testOrg})
	if err != nil {
		t.Fatal(err)
	}

	p, q := newPoster(), &queue{}
	f := newFanout(st, p, q)
	batch := []awsevents.DynamoDBEventRecord{
		eventRecord(1, events.MessageReceived, "p", "a@x.org"),
		eventRecord(2, events.MessageReceived, "p", "a@x.org"),
	}
	for range 2 { // the same batch delivered twice
		if resp := handle(t, f, batch...); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("failures = %+v", resp.BatchItemFailures)
		}
	}
	for conn, want := range map[string]int{"org-wide": 2, "inbox-a": 2, "pod-p": 2, "inbox-b": 0, "sent-only": 0} {
		if got := p.count(conn); got != want {
			t.Errorf("%s got %d frames, want %d (%v)", conn, got, want, p.posts[conn])
		}
	}
	if !slices.Equal(p.posts["org-wide"], []string{"evt_1", "evt_2"}) {
		t.Errorf("order = %v", p.posts["org-wide"])
	}
	if len(q.sent) != 2 {
		t.Fatalf("enqueued %d tasks, want one per event", len(q.sent))
	}
	var task webhook.Task
	if err := json.Unmarshal([]byte(q.sent[0]), &task); err != nil {
		t.Fatal(err)
	}
	if task.WebhookID != hook.WebhookID || task.EventID != "evt_1" || task.Attempt != 1 || task.Secret != hook.Secret || task.URL != hook.URL {
		t.Fatalf("task = %+v", task)
	}
	var body wire.Event
	if err := json.Unmarshal(task.Body, &body); err != nil || body.EventID != "evt_1" {
		t.Fatalf("task body = %s", task.Body)
	}
}

func TestFanoutForgetsGoneConnections(t *testing.T) {
	st := newStore(t)
	putKey(t, st, "k1", "", "", nil)
	subscribe(t, st, "gone", "k1", events.Subscription{})
	subscribe(t, st, "here", "k1", events.Subscription{})
	p := newPoster()
	p.gone["gone"] = true
	f := newFanout(st, p, &queue{})
	handle(t, f, eventRecord(1, events.MessageReceived, "p", "a@x.org"))
	if _, err := st.GetConnection(context.Background(), "gone"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("gone connection still stored: %v", err)
	}
	if p.count("here") != 1 {
		t.Fatal("the other connection did not get its frame")
	}
	p.gone["gone"] = false
	handle(t, f, eventRecord(2, events.MessageReceived, "p", "a@x.org"))
	if p.count("gone") != 0 {
		t.Fatal("a forgotten connection was posted to")
	}
}

func TestFanoutDeletedKeyStopsReceiving(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	putKey(t, st, "k1", "", "", nil)
	putKey(t, st, "k2", "", "", nil)
	subscribe(t, st, "c1", "k1", events.Subscription{})
	subscribe(t, st, "c2", "k2", events.Subscription{})
	p := newPoster()
	f := newFanout(st, p, &queue{})
	handle(t, f, eventRecord(1, events.MessageReceived, "p", "a@x.org"))
	if err := st.DeleteAPIKey(ctx, "k2"); err != nil {
		t.Fatal(err)
	}
	handle(t, f, eventRecord(2, events.MessageReceived, "p", "a@x.org"))
	if p.count("c1") != 2 || p.count("c2") != 1 {
		t.Fatalf("frames: c1 %d, c2 %d", p.count("c1"), p.count("c2"))
	}
	if !slices.Equal(p.deleted, []string{"c2"}) {
		t.Fatalf("closed = %v", p.deleted)
	}
	if _, err := st.GetConnection(ctx, "c2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("connection of a deleted key still stored: %v", err)
	}
}

func TestFanoutLabelPermission(t *testing.T) {
	st := newStore(t)
	putKey(t, st, "plain", "", "", map[string]bool{"message_read": true})
	subscribe(t, st, "c1", "plain", events.Subscription{})
	p := newPoster()
	handle(t, newFanout(st, p, &queue{}), eventRecord(1, events.MessageReceivedSpam, "p", "a@x.org"), eventRecord(2, events.MessageReceived, "p", "a@x.org"))
	if !slices.Equal(p.posts["c1"], []string{"evt_2"}) {
		t.Fatalf("posts = %v", p.posts["c1"])
	}
}

func TestFanoutEnqueueFailureIsRetriedWithoutRepeatingPosts(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	putKey(t, st, "k1", "", "", nil)
	subscribe(t, st, "c1", "k1", events.Subscription{})
	if _, _, err := st.CreateWebhook(ctx, store.Webhook{Webhook: wire.Webhook{URL: "https://h.example", Secret: webhook.NewSecret()}, OrgID: testOrg}); err != nil {
		t.Fatal(err)
	}
	p, q := newPoster(), &queue{fail: true}
	f := newFanout(st, p, q)
	batch := []awsevents.DynamoDBEventRecord{eventRecord(1, events.MessageReceived, "p", "a@x.org"), eventRecord(2, events.MessageReceived, "p", "a@x.org")}
	resp := handle(t, f, batch...)
	if len(resp.BatchItemFailures) != 2 || resp.BatchItemFailures[0].ItemIdentifier != batch[0].Change.SequenceNumber {
		t.Fatalf("failures = %+v", resp.BatchItemFailures)
	}
	q.fail = false
	if resp := handle(t, f, batch...); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("retry failures = %+v", resp.BatchItemFailures)
	}
	if !slices.Equal(p.posts["c1"], []string{"evt_1", "evt_2"}) || len(q.sent) != 2 {
		t.Fatalf("posts %v, tasks %d", p.posts["c1"], len(q.sent))
	}
}

func TestFanoutSkipsWhatIsNotAnEvent(t *testing.T) {
	st := newStore(t)
	putKey(t, st, "k1", "", "", nil)
	subscribe(t, st, "c1", "k1", events.Subscription{})
	p := newPoster()
	label := eventRecord(1, wire.EventLabelAdded, "p", "a@x.org")
	modify := eventRecord(2, events.MessageReceived, "p", "a@x.org")
	modify.EventName = "MODIFY"
	other := eventRecord(3, events.MessageReceived, "p", "a@x.org")
	other.Change.NewImage["pk"] = awsevents.NewStringAttribute("INBOX#a@x.org")
	other.Change.Keys["pk"] = other.Change.NewImage["pk"]
	broken := eventRecord(4, events.MessageReceived, "p", "a@x.org")
	broken.Change.NewImage["event"] = awsevents.NewStringAttribute("{not json")
	resp := handle(t, newFanout(st, p, &queue{}), label, modify, other, broken)
	if len(resp.BatchItemFailures) != 0 || p.count("c1") != 0 {
		t.Fatalf("failures %v, posts %v", resp.BatchItemFailures, p.posts)
	}
}
