package local

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/webhook"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// startRealtimeStack is startStack with webhook retry waits scaled down 1000-fold.
func startRealtimeStack(t *testing.T) (*Stack, *apiClient) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := Start(ctx, Settings{
		HTTPAddr: "127.0.0.1:0", SMTPAddr: "127.0.0.1:0", Domain: "pigeon.local",
		Lookup: func(name string) (string, bool) {
			if name == "PIGEON_LOCAL_RETRY_SCALE" {
				return "0.001", true
			}
			return "", false
		},
		Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st, &apiClient{t: t, base: st.RESTURL, key: st.APIKey, statuses: map[string]int{}}
}

// dialWS connects to the stack's WebSocket API with key in the query string, as the SDK does.
func dialWS(t *testing.T, st *Stack, key string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, st.WebSocketURL+"?api_key="+url.QueryEscape(key), nil)
	if err == nil {
		t.Cleanup(func() { _ = c.CloseNow() })
	}
	return c, resp, err
}

// readFrame reads one JSON frame, failing the test after timeout.
func readFrame(t *testing.T, c *websocket.Conn, timeout time.Duration) (map[string]json.RawMessage, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err != nil {
		return nil, err
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("frame %s is not a JSON object", data)
	}
	return f, nil
}

func subscribeWS(t *testing.T, c *websocket.Conn, frame string) map[string]json.RawMessage {
	t.Helper()
	if err := c.Write(context.Background(), websocket.MessageText, []byte(frame)); err != nil {
		t.Fatal(err)
	}
	f, err := readFrame(t, c, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func simpleMail(from, to, subject string) []byte {
	return []byte("From: Sender <" + from + ">\r\nTo: " + to + "\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", "-") + "@sender.example>\r\nDate: Mon, 02 Jun 2025 10:00:00 +0000\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nHello from " + subject + ".\r\n")
}

// keysOf returns the set of the JSON object's keys.
func keysOf(t *testing.T, raw json.RawMessage) map[string]bool {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

func TestWebSocketEndToEnd(t *testing.T) {
	st, api := startRealtimeStack(t)
	var in wire.Inbox
	code, body, _ := api.do("POST", "/v0/inboxes", api.key, map[string]any{"username": "live"})
	if code != 200 || json.Unmarshal(body, &in) != nil {
		t.Fatalf("create inbox = %d %s", code, body)
	}

	// Refused handshakes: no key, unknown key.
	for _, key := range []string{"", "am_unknown"} {
		_, resp, err := dialWS(t, st, key)
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("dial with %q: %v %v", key, resp, err)
		}
	}

	c, _, err := dialWS(t, st, st.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	ack := subscribeWS(t, c, `{"type":"subscribe","inbox_ids":["`+in.InboxID+`"],"event_types":["message.received"]}`)
	if string(ack["type"]) != `"subscribed"` || !strings.Contains(string(ack["inbox_ids"]), in.InboxID) {
		t.Fatalf("ack = %v", ack)
	}
	if f := subscribeWS(t, c, `{"type":"subscribe","inbox_ids":["nobody@pigeon.local"]}`); string(f["type"]) != `"error"` {
		t.Fatalf("bad subscribe = %v", f)
	} // a refused subscribe leaves the previous one in force

	sent := time.Now()
	sendMail(t, st.SMTPAddr, "sender@sender.example", []string{in.InboxID}, simpleMail("sender@sender.example", in.InboxID, "live one"))
	frame, err := readFrame(t, c, 10*time.Second)
	if err != nil {
		t.Fatalf("no event frame: %v", err)
	}
	t.Logf("SMTP accepted → frame: %v", time.Since(sent))
	if got := keysOf(t, mustJSON(t, frame)); !reflect.DeepEqual(got, map[string]bool{"type": true, "event_type": true, "event_id": true, "message": true, "thread": true}) {
		t.Fatalf("event keys = %v", got)
	}
	if string(frame["type"]) != `"event"` || string(frame["event_type"]) != `"message.received"` || !strings.HasPrefix(string(frame["event_id"]), `"evt_`) {
		t.Fatalf("envelope = %s %s %s", frame["type"], frame["event_type"], frame["event_id"])
	}

	// The frame's message and thread are what REST answers for them.
	var msg wire.Message
	var th wire.ThreadItem
	if err := json.Unmarshal(frame["message"], &msg); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(frame["thread"], &th); err != nil {
		t.Fatal(err)
	}
	var restMsg wire.Message
	api.get("/v0/inboxes/"+pathSegment(in.InboxID)+"/messages/"+pathSegment(msg.MessageID), &restMsg)
	if !reflect.DeepEqual(msg, restMsg) {
		t.Fatalf("frame message differs from REST:\nframe %+v\nrest  %+v", msg, restMsg)
	}
	var restThread wire.Thread
	api.get("/v0/inboxes/"+pathSegment(in.InboxID)+"/threads/"+th.ThreadID, &restThread)
	if !reflect.DeepEqual(th, restThread.ThreadItem) {
		t.Fatalf("frame thread differs from REST:\nframe %+v\nrest  %+v", th, restThread.ThreadItem)
	}
	// Fields the SDK's strict event schemas require.
	mk, tk := keysOf(t, frame["message"]), keysOf(t, frame["thread"])
	for _, k := range []string{"inbox_id", "thread_id", "message_id", "labels", "timestamp", "from", "to", "size", "updated_at", "created_at"} {
		if !mk[k] {
			t.Errorf("message lacks %s", k)
		}
	}
	for _, k := range []string{"inbox_id", "thread_id", "labels", "timestamp", "senders", "recipients", "last_message_id", "message_count", "size", "updated_at", "created_at"} {
		if !tk[k] {
			t.Errorf("thread lacks %s", k)
		}
	}
	if mk["status"] {
		t.Error("event message carries the REST-only status field")
	}
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pathSegment(s string) string { return strings.ReplaceAll(url.PathEscape(s), "@", "%40") }

func TestWebSocketDeletedKeyStopsReceiving(t *testing.T) {
	st, api := startRealtimeStack(t)
	var in wire.Inbox
	code, body, _ := api.do("POST", "/v0/inboxes", api.key, map[string]any{"username": "keys"})
	if code != 200 || json.Unmarshal(body, &in) != nil {
		t.Fatalf("create inbox = %d %s", code, body)
	}
	secret, prefix := auth.NewSecret()
	if err := st.Store.PutAPIKey(context.Background(), store.APIKey{APIKeyID: "ak_doomed", Name: "doomed", Prefix: prefix, Hash: auth.Hash(secret), OrgID: st.Config.OrgID}); err != nil {
		t.Fatal(err)
	}
	doomed, _, err := dialWS(t, st, secret)
	if err != nil {
		t.Fatal(err)
	}
	keeper, _, err := dialWS(t, st, st.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	subscribeWS(t, doomed, `{"type":"subscribe"}`)
	subscribeWS(t, keeper, `{"type":"subscribe"}`)
	if err := st.Store.DeleteAPIKey(context.Background(), "ak_doomed"); err != nil {
		t.Fatal(err)
	}
	sendMail(t, st.SMTPAddr, "s@sender.example", []string{in.InboxID}, simpleMail("s@sender.example", in.InboxID, "after delete"))
	if f, err := readFrame(t, keeper, 10*time.Second); err != nil || string(f["event_type"]) != `"message.received"` {
		t.Fatalf("the live key's connection: %v %v", f, err)
	}
	f, err := readFrame(t, doomed, 5*time.Second)
	if err == nil {
		t.Fatalf("the deleted key's connection got %v", f)
	}
	if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("the deleted key's connection was not closed by the server: %v", err)
	}
}

// hookReceiver answers POSTs with the statuses of its script, then 200, recording each.
type hookReceiver struct {
	mu       sync.Mutex
	script   []int
	attempts []hookAttempt
	arrived  chan struct{}
}

type hookAttempt struct {
	header http.Header
	body   []byte
	at     time.Time
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.attempts = append(h.attempts, hookAttempt{r.Header.Clone(), body, time.Now()})
	status := 200
	if len(h.script) > 0 {
		status, h.script = h.script[0], h.script[1:]
	}
	h.mu.Unlock()
	w.WriteHeader(status)
	h.arrived <- struct{}{}
}

func TestWebhookRetriesEndToEnd(t *testing.T) {
	st, api := startRealtimeStack(t)
	recv := &hookReceiver{script: []int{500, 500}, arrived: make(chan struct{}, 10)}
	srv := httptest.NewServer(recv)
	defer srv.Close()

	var in wire.Inbox
	code, body, _ := api.do("POST", "/v0/inboxes", api.key, map[string]any{"username": "hooked"})
	if code != 200 || json.Unmarshal(body, &in) != nil {
		t.Fatalf("create inbox = %d %s", code, body)
	}
	var hook wire.Webhook
	code, body, _ = api.do("POST", "/v0/inboxes/"+pathSegment(in.InboxID)+"/webhooks", api.key,
		map[string]any{"url": srv.URL + "/hook", "event_types": []string{"message.received"}, "headers": map[string]string{"X-Pigeon-Test": "yes"}})
	if code != 200 || json.Unmarshal(body, &hook) != nil {
		t.Fatalf("create webhook = %d %s", code, body)
	}

	sendMail(t, st.SMTPAddr, "s@sender.example", []string{in.InboxID}, simpleMail("s@sender.example", in.InboxID, "hook me"))
	for i := range 3 {
		select {
		case <-recv.arrived:
		case <-time.After(15 * time.Second):
			t.Fatalf("attempt %d did not arrive", i+1)
		}
	}
	select {
	case <-recv.arrived:
		t.Fatal("a fourth attempt after the 200")
	case <-time.After(300 * time.Millisecond):
	}
	recv.mu.Lock()
	defer recv.mu.Unlock()
	id := recv.attempts[0].header.Get("svix-id")
	for i, a := range recv.attempts {
		if a.header.Get("svix-id") != id || id == "" {
			t.Fatalf("attempt %d svix-id %q, first %q", i+1, a.header.Get("svix-id"), id)
		}
		if err := webhook.Verify(hook.Secret, a.header, a.body, time.Now()); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
		if a.header.Get("X-Pigeon-Test") != "yes" {
			t.Fatalf("attempt %d lacks the custom header", i+1)
		}
		var ev wire.Event
		if err := json.Unmarshal(a.body, &ev); err != nil || ev.EventType != "message.received" || ev.Message == nil || ev.Thread == nil {
			t.Fatalf("attempt %d body = %s", i+1, a.body)
		}
	}
	// The waits follow Svix's schedule, scaled 1000-fold: 5 s → 5 ms, then 5 min → 300 ms.
	if gap := recv.attempts[2].at.Sub(recv.attempts[1].at); gap < 250*time.Millisecond {
		t.Errorf("second retry came after %v, want about 300 ms", gap)
	}
	if dead := st.realtime.queue.Bodies(st.realtime.deadLetters); len(dead) != 0 {
		t.Errorf("dead letters: %v", dead)
	}
}
