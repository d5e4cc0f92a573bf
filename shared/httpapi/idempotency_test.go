package httpapi

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// sesGate stands in front of the local SES and holds its calls while a test wants a send in
// flight.
type sesGate struct {
	next    http.Handler
	mu      sync.Mutex
	held    chan struct{} // closed to let the held calls through; nil: calls pass at once
	arrived chan struct{} // a value per call held
}

// hold holds SES calls from now on. arrived gets a value per call held; release lets them go
// (and may be called again).
func (g *sesGate) hold() (arrived <-chan struct{}, release func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	held, in := make(chan struct{}), make(chan struct{}, 16)
	g.held, g.arrived = held, in
	return in, sync.OnceFunc(func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.held, g.arrived = nil, nil
		close(held)
	})
}

func (g *sesGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	held, arrived := g.held, g.arrived
	g.mu.Unlock()
	if held != nil {
		arrived <- struct{}{}
		<-held
	}
	g.next.ServeHTTP(w, r)
}

// keyed sends a request with an Idempotency-Key.
func (e *env) keyed(path, key string, body any) response {
	e.t.Helper()
	return e.doHeader("POST", path, e.key, body, http.Header{"Idempotency-Key": {key}, "Content-Type": {"application/json"}})
}

// wantSent checks that SES was called n times in all.
func (e *env) wantSent(n int) {
	e.t.Helper()
	if got := len(e.ses.Outbox()); got != n {
		e.t.Fatalf("SES sent %d messages, want %d", got, n)
	}
}

// An Idempotency-Key is bound to the request it was first used with: the same request again
// answers the first result without sending; any other request with the key (another body,
// another message answered, another route, a draft) answers 422 and sends nothing.
func TestIdempotencyKeyBindsToRequest(t *testing.T) {
	e := newEnv(t)
	in := e.createInbox("/v0/inboxes", map[string]any{"username": "once"})
	base := "/v0/inboxes/" + pathEscape(in.InboxID) + "/messages"
	now := time.Now()
	m1 := e.deliver(in.InboxID, "<m1@example.com>", "", "First", now, nil)
	m2 := e.deliver(in.InboxID, "<m2@example.com>", "", "Second", now.Add(time.Second), nil)
	result := func(r response) wire.SendMessageResponse {
		t.Helper()
		if r.status != 200 {
			t.Fatalf("send = %d %s", r.status, r.body)
		}
		var out wire.SendMessageResponse
		r.decode(t, &out)
		return out
	}
	reused := func(r response) {
		t.Helper()
		we := e.wantError(r, http.StatusUnprocessableEntity, "IdempotencyKeyReusedError")
		if we.Code != "idempotency_key_reused" {
			t.Fatalf("code = %q", we.Code)
		}
	}

	send := map[string]any{"to": []string{"carol@example.com"}, "subject": "Hi", "text": "once"}
	first := result(e.keyed(base+"/send", "k1", send))
	e.wantSent(1)
	if again := result(e.keyed(base+"/send", "k1", send)); again != first {
		t.Fatalf("repeat = %+v, want %+v", again, first)
	}
	// The same body with its fields in another order is the same request.
	respelled := json.RawMessage(`{"text": "once", "subject": "Hi", "to": ["carol@example.com"]}`)
	if again := result(e.keyed(base+"/send", "k1", respelled)); again != first {
		t.Fatalf("respelled repeat = %+v, want %+v", again, first)
	}
	reused(e.keyed(base+"/send", "k1", map[string]any{"to": []string{"carol@example.com"}, "subject": "Hi", "text": "twice"}))
	reused(e.keyed(base+"/"+pathEscape(m1.MessageID)+"/reply", "k1", map[string]any{"text": "once"}))
	e.wantSent(1)

	// A reply's key is bound to the message it answers, and to the route.
	reply := map[string]any{"text": "thanks"}
	r1 := result(e.keyed(base+"/"+pathEscape(m1.MessageID)+"/reply", "k2", reply))
	e.wantSent(2)
	reused(e.keyed(base+"/"+pathEscape(m2.MessageID)+"/reply", "k2", reply))
	reused(e.keyed(base+"/"+pathEscape(m1.MessageID)+"/reply-all", "k2", reply))
	reused(e.keyed(base+"/"+pathEscape(m1.MessageID)+"/forward", "k2", map[string]any{"to": []string{"dave@example.com"}, "text": "thanks"}))
	if again := result(e.keyed(base+"/"+pathEscape(m1.MessageID)+"/reply", "k2", reply)); again != r1 {
		t.Fatalf("repeated reply = %+v, want %+v", again, r1)
	}

	// Draft sends share the inbox's keys: k1 cannot send a draft, which stays.
	var d wire.Draft
	e.ok("POST", "/v0/inboxes/"+pathEscape(in.InboxID)+"/drafts", map[string]any{"to": []string{"erin@example.com"}, "text": "draft"}, &d)
	reused(e.keyed("/v0/inboxes/"+pathEscape(in.InboxID)+"/drafts/"+d.DraftID+"/send", "k1", map[string]any{}))
	e.ok("GET", "/v0/inboxes/"+pathEscape(in.InboxID)+"/drafts/"+d.DraftID, nil, nil)
	e.wantSent(2)
}

// While the first request with a key is being sent, a repeat answers 425 with Retry-After (a
// status no SDK retries by itself), another request with the key 422; once the first is done,
// the repeat answers its result, and SES was called once.
func TestIdempotencyKeyInFlight(t *testing.T) {
	e := newEnv(t)
	in := e.createInbox("/v0/inboxes", map[string]any{"username": "inflight"})
	inbox := "/v0/inboxes/" + pathEscape(in.InboxID)
	var d wire.Draft
	e.ok("POST", inbox+"/drafts", map[string]any{"to": []string{"erin@example.com"}, "text": "draft"}, &d)

	for _, c := range []struct {
		name, path  string
		body, other any
	}{
		{"send", inbox + "/messages/send", map[string]any{"to": []string{"carol@example.com"}, "text": "slow"}, map[string]any{"to": []string{"carol@example.com"}, "text": "other"}},
		{"draft send", inbox + "/drafts/" + d.DraftID + "/send", map[string]any{}, map[string]any{"add_labels": []string{"x"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sent := len(e.ses.Outbox())
			arrived, release := e.gate.hold()
			defer release()
			done := make(chan response, 1)
			go func() { done <- e.keyed(c.path, "slow-"+c.name, c.body) }()
			select {
			case <-arrived:
			case r := <-done:
				t.Fatalf("the first request did not reach SES: %d %s", r.status, r.body)
			}
			r := e.keyed(c.path, "slow-"+c.name, c.body)
			we := e.wantError(r, http.StatusTooEarly, "IdempotencyKeyInUseError")
			if we.Code != "idempotency_key_in_use" || r.header.Get("Retry-After") != "1" {
				t.Errorf("in flight: code %q, Retry-After %q", we.Code, r.header.Get("Retry-After"))
			}
			e.wantError(e.keyed(c.path, "slow-"+c.name, c.other), http.StatusUnprocessableEntity, "IdempotencyKeyReusedError")
			release()
			first := <-done
			if first.status != 200 {
				t.Fatalf("first = %d %s", first.status, first.body)
			}
			again := e.keyed(c.path, "slow-"+c.name, c.body)
			if again.status != 200 || string(again.body) != string(first.body) {
				t.Fatalf("after: %d %s, want %s", again.status, again.body, first.body)
			}
			e.wantSent(sent + 1)
		})
	}
}
