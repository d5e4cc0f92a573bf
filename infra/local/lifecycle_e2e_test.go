package local

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// awaitStatus polls a sent message until its status is want (SES event notifications arrive
// asynchronously, as from SNS) and returns it.
func (c sender) awaitStatus(inbox, id, want string) wire.Message {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		m := c.message(inbox, id)
		if m.Status == want {
			return m
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("message %s: status %q, want %q (delivery %+v)", id, m.Status, want, m.Delivery)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lifecycleEvents are the message.* event items of an inbox, by type, for one message.
func lifecycleEvents(t *testing.T, st *Stack, inbox, messageID string) map[string][]wire.Event {
	t.Helper()
	recs, _, err := st.Store.InboxEvents(context.Background(), inbox, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]wire.Event{}
	for _, r := range recs {
		var ev wire.Event
		if err := json.Unmarshal(r.Payload, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.MessageID() == messageID {
			out[ev.EventType] = append(out[ev.EventType], ev)
		}
	}
	return out
}

func (c sender) blockEntry(address string) (wire.ListEntry, bool) {
	c.t.Helper()
	var list wire.ListListEntriesResponse
	c.ok("GET", "/v0/lists/send/block", nil, &list)
	for _, e := range list.Entries {
		if e.Entry == address {
			return e, true
		}
	}
	return wire.ListEntry{}, false
}

func outboxCount(t *testing.T, st *Stack) int {
	t.Helper()
	resp, err := http.Get(st.OutboxURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var outbox []json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&outbox); err != nil {
		t.Fatal(err)
	}
	return len(outbox)
}

// The delivery lifecycle on the local stack: sesemu publishes SES's notifications by the
// mailbox simulator's rules, sesevents moves the messages, suppression follows.
func TestDeliveryLifecycle(t *testing.T) {
	st := startStack(t)
	c := sender{t, st}
	a := c.inbox("agent", "")
	msgPath := "/v0/inboxes/" + url.PathEscape(a) + "/messages"
	mail := func(to string) map[string]any {
		return map[string]any{"to": to, "subject": "Lifecycle", "text": "Hello."}
	}

	// success@ ends delivered, with one message.sent and one message.delivered.
	ok := c.send(a, "/send", mail("success@simulator.amazonses.com"), nil)
	m := c.awaitStatus(a, ok.MessageID, "delivered")
	if !slices.Equal(m.Labels, []string{"sent", "delivered"}) || len(m.Delivery) != 1 ||
		m.Delivery[0].Address != "success@simulator.amazonses.com" || m.Delivery[0].Status != "delivered" || m.Delivery[0].UpdatedAt.IsZero() {
		t.Errorf("delivered message: labels %v delivery %+v", m.Labels, m.Delivery)
	}
	if evs := lifecycleEvents(t, st, a, ok.MessageID); len(evs["message.sent"]) != 1 || len(evs["message.delivered"]) != 1 || len(evs) != 2 {
		t.Errorf("events of the delivered message: %v", evs)
	}

	// bounce@ ends bounced, with message.bounced and an automatic block entry; the next send
	// to the address is refused, naming it and the reason, until the entry is deleted.
	bounced := c.send(a, "/send", mail("bounce@simulator.amazonses.com"), nil)
	m = c.awaitStatus(a, bounced.MessageID, "bounced")
	if !slices.Contains(m.Labels, "bounced") || m.Delivery[0].Status != "bounced" || !strings.Contains(m.Delivery[0].Detail, "Permanent/General") {
		t.Errorf("bounced message: labels %v delivery %+v", m.Labels, m.Delivery)
	}
	evs := lifecycleEvents(t, st, a, bounced.MessageID)
	if len(evs["message.bounced"]) != 1 {
		t.Fatalf("events of the bounced message: %v", evs)
	}
	if b := evs["message.bounced"][0].Bounce; b.Type != "Permanent" || b.SubType != "General" || b.ThreadID != bounced.ThreadID ||
		!slices.Equal(b.Recipients, []wire.BounceRecipient{{Address: "bounce@simulator.amazonses.com", Status: "5.1.1"}}) {
		t.Errorf("message.bounced payload %+v", b)
	}
	reason := "permanent bounce (Permanent/General) of message " + bounced.MessageID
	if e, found := c.blockEntry("bounce@simulator.amazonses.com"); !found || e.Reason != reason || e.EntryType != "email" {
		t.Errorf("block entry %+v (found %v), want reason %q", e, found, reason)
	}
	status, body, _ := c.call("POST", msgPath+"/send", mail("Ops <bounce@simulator.amazonses.com>"), nil)
	var refusal wire.Error
	_ = json.Unmarshal(body, &refusal)
	if want := "bounce@simulator.amazonses.com is on the block list: " + reason; status != 403 || refusal.Name != "MessageRejectedError" || refusal.Message != want {
		t.Errorf("second send: %d %s, want 403 MessageRejectedError %q", status, body, want)
	}
	c.ok("DELETE", "/v0/lists/send/block/"+url.PathEscape("bounce@simulator.amazonses.com"), nil, nil)
	again := c.send(a, "/send", mail("bounce@simulator.amazonses.com"), nil)
	c.awaitStatus(a, again.MessageID, "bounced")

	// complaint@ is delivered, then complains: complained, and blocked too.
	complained := c.send(a, "/send", mail("complaint@simulator.amazonses.com"), nil)
	m = c.awaitStatus(a, complained.MessageID, "complained")
	if !slices.Equal(m.Labels, []string{"sent", "delivered", "complained"}) {
		t.Errorf("complained message labels %v", m.Labels)
	}
	if evs := lifecycleEvents(t, st, a, complained.MessageID); len(evs["message.delivered"]) != 1 || len(evs["message.complained"]) != 1 {
		t.Errorf("events of the complained message: %v", evs)
	}
	if e, found := c.blockEntry("complaint@simulator.amazonses.com"); !found || e.Reason != "complaint (abuse) about message "+complained.MessageID {
		t.Errorf("complaint block entry %+v (found %v)", e, found)
	}

	// suppressionlist@ bounces as if on the account's suppression list.
	suppressed := c.send(a, "/send", mail("suppressionlist@simulator.amazonses.com"), nil)
	c.awaitStatus(a, suppressed.MessageID, "bounced")
	if e, _ := c.blockEntry("suppressionlist@simulator.amazonses.com"); !strings.Contains(e.Reason, "Permanent/OnAccountSuppressionList") {
		t.Errorf("suppression-list block entry %+v", e)
	}

	// The status filter, and its validation.
	var list wire.ListMessagesResponse
	c.ok("GET", msgPath+"?status=bounced", nil, &list)
	var ids []string
	for _, it := range list.Messages {
		ids = append(ids, it.MessageID)
		if it.Status != "bounced" || len(it.Delivery) != 1 {
			t.Errorf("listed %+v", it)
		}
	}
	if slices.Sort(ids); !slices.Equal(ids, sorted(bounced.MessageID, again.MessageID, suppressed.MessageID)) {
		t.Errorf("status=bounced lists %v", ids)
	}
	c.ok("GET", msgPath+"?status=delivered&limit=10", nil, &list)
	if len(list.Messages) != 1 || list.Messages[0].MessageID != ok.MessageID {
		t.Errorf("status=delivered lists %+v", list.Messages)
	}
	c.fails("GET", msgPath+"?status=lost", nil, nil, 400, "ValidationError")
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// Dry runs go through the whole lifecycle without reaching SES: per send (the request's
// delivery) and per inbox (the inbox's delivery).
func TestDryRunLifecycle(t *testing.T) {
	st := startStack(t)
	c := sender{t, st}
	a := c.inbox("agent", "")
	before := outboxCount(t, st)

	sent := c.send(a, "/send", map[string]any{"to": "someone@example.com", "subject": "Dry", "text": "Not really.", "delivery": "dry-run"}, nil)
	// Settled before the send answered.
	m := c.message(a, sent.MessageID)
	if m.Status != "delivered" || !slices.Equal(m.Labels, []string{"sent", "delivered"}) || !strings.HasPrefix(sent.MessageID, "<dryrun-") {
		t.Errorf("dry-run message %s: status %q labels %v", sent.MessageID, m.Status, m.Labels)
	}
	if evs := lifecycleEvents(t, st, a, sent.MessageID); len(evs["message.sent"]) != 1 || len(evs["message.delivered"]) != 1 {
		t.Errorf("dry-run events %v", evs)
	}

	// An inbox in dry-run mode; the simulator addresses behave as with SES.
	var in wire.Inbox
	c.ok("POST", "/v0/inboxes", map[string]any{"username": "rehearsal", "delivery": "dry-run"}, &in)
	if in.Delivery != "dry-run" {
		t.Fatalf("created inbox %+v", in)
	}
	b := c.send(in.InboxID, "/send", map[string]any{"to": []string{"bounce@simulator.amazonses.com", "friend@example.org"}, "text": "x"}, nil)
	m = c.message(in.InboxID, b.MessageID)
	if m.Status != "bounced" || !slices.Equal(m.Labels, []string{"sent", "bounced", "delivered"}) {
		t.Errorf("dry-run bounce: status %q labels %v delivery %+v", m.Status, m.Labels, m.Delivery)
	}
	if _, found := c.blockEntry("bounce@simulator.amazonses.com"); !found {
		t.Error("a dry-run permanent bounce did not block the address")
	}
	if n := outboxCount(t, st); n != before {
		t.Errorf("dry runs reached SES: outbox %d → %d", before, n)
	}

	// The mode switches back; an unknown mode is refused.
	c.ok("PATCH", "/v0/inboxes/"+url.PathEscape(in.InboxID), map[string]any{"delivery": "email"}, &in)
	if in.Delivery != "email" {
		t.Errorf("updated inbox %+v", in)
	}
	c.fails("PATCH", "/v0/inboxes/"+url.PathEscape(in.InboxID), map[string]any{"delivery": "carrier-pigeon"}, nil, 400, "ValidationError")
	c.fails("POST", "/v0/inboxes/"+url.PathEscape(a)+"/messages/send", map[string]any{"to": "x@example.com", "text": "x", "delivery": "maybe"}, nil, 400, "ValidationError")
	real := c.send(in.InboxID, "/send", map[string]any{"to": "friend@example.org", "text": "for real"}, nil)
	c.awaitStatus(in.InboxID, real.MessageID, "delivered")
	if n := outboxCount(t, st); n != before+1 {
		t.Errorf("the email send did not reach SES: outbox %d → %d", before, n)
	}
}
