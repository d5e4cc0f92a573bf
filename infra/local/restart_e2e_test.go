package local

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/events"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/webhook"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// startOn starts a stack on dataDir with the organisation key and PIGEON_LOCAL_RETRY_SCALE
// given; the test closes it (Close is safe twice).
func startOn(t *testing.T, dataDir, key, retryScale string) *Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := Start(ctx, Settings{
		HTTPAddr: "127.0.0.1:0", SMTPAddr: "127.0.0.1:0", Domain: "pigeon.local", APIKey: key, DataDir: dataDir,
		Lookup: func(name string) (string, bool) {
			if name == "PIGEON_LOCAL_RETRY_SCALE" {
				return retryScale, true
			}
			return "", false
		},
		Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// A delivery failing when the stack stops is retried after the restart, as the same message
// (same svix-id, its attempts counted on), and dead-lettered after the last attempt.
func TestWebhookRetriesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	key, _ := auth.NewSecret()
	// Svix's schedule scaled 20,000-fold: 5 s, 5 min, … 10 h → 0.25 ms, 15 ms, … 1.8 s.
	const scale = "0.00005"
	st := startOn(t, dir, key, scale)
	api := &apiClient{t: t, base: st.RESTURL, key: key, statuses: map[string]int{}}
	recv := &hookReceiver{arrived: make(chan struct{}, 2*webhook.MaxAttempts)}
	for range 2 * webhook.MaxAttempts {
		recv.script = append(recv.script, 500)
	}
	srv := httptest.NewServer(recv)
	defer srv.Close()

	var in wire.Inbox
	code, body, _ := api.do("POST", "/v0/inboxes", key, map[string]any{"username": "restarted"})
	if code != 200 || json.Unmarshal(body, &in) != nil {
		t.Fatalf("create inbox = %d %s", code, body)
	}
	code, body, _ = api.do("POST", "/v0/inboxes/"+pathSegment(in.InboxID)+"/webhooks", key,
		map[string]any{"url": srv.URL + "/hook", "event_types": []string{"message.received"}})
	if code != 200 {
		t.Fatalf("create webhook = %d %s", code, body)
	}
	sendMail(t, st.SMTPAddr, "s@sender.example", []string{in.InboxID}, simpleMail("s@sender.example", in.InboxID, "retry me"))
	for i := range 2 {
		select {
		case <-recv.arrived:
		case <-time.After(15 * time.Second):
			t.Fatalf("attempt %d did not arrive", i+1)
		}
	}
	st.Close()
	recv.mu.Lock()
	before := len(recv.attempts)
	recv.mu.Unlock()

	st = startOn(t, dir, key, scale)
	deadline := time.Now().Add(30 * time.Second)
	var dead []string
	for len(dead) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		dead = st.realtime.queue.Bodies(st.realtime.deadLetters)
		if len(dead) == 0 && st.realtime.queue.Len(st.realtime.queueURL) == 0 {
			break // delivered or dropped: not dead-lettered
		}
	}
	if len(dead) != 1 {
		t.Fatalf("dead letters after the restart: %d", len(dead))
	}
	var task webhook.Task
	if err := json.Unmarshal([]byte(dead[0]), &task); err != nil || task.EventID == "" {
		t.Fatalf("dead letter %s: %v", dead[0], err)
	}
	if n := st.realtime.queue.Len(st.realtime.queueURL); n != 0 {
		t.Fatalf("%d messages left in the queue", n)
	}
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if len(recv.attempts) <= before || len(recv.attempts) > webhook.MaxAttempts {
		t.Fatalf("%d attempts, %d of them before the restart (at most %d in all)", len(recv.attempts), before, webhook.MaxAttempts)
	}
	id := webhook.MessageID(task.EventID, task.WebhookID)
	for i, a := range recv.attempts {
		if got := a.header.Get("svix-id"); got != id {
			t.Fatalf("attempt %d has svix-id %q, want %q", i+1, got, id)
		}
	}
}

// Connection items left by a run whose sockets are gone are deleted when the stack starts
// again on the same data; new connections work as before.
func TestConnectionsClearedAtRestart(t *testing.T) {
	dir := t.TempDir()
	key, _ := auth.NewSecret()
	st := startOn(t, dir, key, "1")
	ctx := context.Background()
	org := st.Config.OrgID
	// What a run killed with a subscribed socket leaves: the connection and its index entry.
	if err := st.Store.PutConnection(ctx, store.Connection{ConnectionID: "stale", APIKeyID: "ak_x", OrgID: org}); err != nil {
		t.Fatal(err)
	}
	if err := st.Store.SetSubscription(ctx, "stale", events.Subscription{OrgID: org}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st = startOn(t, dir, key, "1")
	if _, err := st.Store.GetConnection(ctx, "stale"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("stale connection after the restart: %v", err)
	}
	subs, err := st.Store.Subscribers(ctx, store.Target{Kind: "org", ID: org})
	if err != nil || len(subs) != 0 {
		t.Fatalf("subscribers after the restart = %+v %v", subs, err)
	}
	c, _, err := dialWS(t, st, key)
	if err != nil {
		t.Fatal(err)
	}
	if f := subscribeWS(t, c, `{"type":"subscribe"}`); string(f["type"]) != `"subscribed"` {
		t.Fatalf("subscribe after the restart: %v", f)
	}
	ids, err := st.Store.ConnectionIDs(ctx, org)
	if err != nil || len(ids) != 1 || slices.Contains(ids, "stale") {
		t.Fatalf("connections = %v %v", ids, err)
	}
}
