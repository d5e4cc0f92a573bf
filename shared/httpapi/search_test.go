package httpapi

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

func TestSearch(t *testing.T) {
	e := newEnv(t)
	in := e.createInbox("/v0/inboxes", map[string]any{"username": "agent", "display_name": "Billing Desk"})
	e.createInbox("/v0/inboxes", map[string]any{"username": "agent-two"})
	t0 := time.Date(2035, 1, 2, 3, 4, 5, 0, time.UTC)
	e.deliver(in.InboxID, "<a@host>", "", "Invoice overdue", t0, nil)
	e.deliver(in.InboxID, "<b@host>", "", "Lunch on Friday", t0.Add(time.Minute), nil)
	e.deliver(in.InboxID, "<c@host>", "", "Invoice paid", t0.Add(2*time.Minute), []string{wire.LabelSpam})
	base := "/v0/inboxes/agent%40pigeon.test"

	var msgs wire.ListMessagesResponse
	e.ok("GET", base+"/messages/search?q=invoice", nil, &msgs)
	if msgs.Count != 1 || msgs.Messages[0].MessageID != "<a@host>" { // spam is never searched
		t.Fatalf("q=invoice: %+v", msgs.Messages)
	}
	e.ok("GET", base+"/messages/search?q=HELLO+friday", nil, &msgs) // body and subject, any case, every word
	if msgs.Count != 1 || msgs.Messages[0].MessageID != "<b@host>" {
		t.Fatalf("q=HELLO friday: %+v", msgs.Messages)
	}
	var threads wire.ListThreadsResponse
	e.ok("GET", "/v0/threads/search?q=sender%40example+lunch", nil, &threads)
	if threads.Count != 1 || threads.Threads[0].Subject != "Lunch on Friday" {
		t.Fatalf("thread search: %+v", threads.Threads)
	}
	var inboxes wire.ListInboxesResponse
	e.ok("GET", "/v0/inboxes/search?q=agent%40pigeon.test", nil, &inboxes)
	var ids []string
	for _, i := range inboxes.Inboxes {
		ids = append(ids, i.InboxID)
	}
	if !reflect.DeepEqual(ids, []string{"agent@pigeon.test"}) {
		t.Fatalf("exact address: %v", ids)
	}
	e.ok("GET", "/v0/inboxes/search?q=billing", nil, &inboxes) // display name
	if inboxes.Count != 1 || inboxes.Inboxes[0].InboxID != "agent@pigeon.test" {
		t.Fatalf("display name: %+v", inboxes.Inboxes)
	}
	e.ok("GET", "/v0/inboxes/search?q=agent", nil, &inboxes)
	if inboxes.Count != 2 {
		t.Fatalf("q=agent: %d inboxes", inboxes.Count)
	}
	for _, bad := range []string{"/v0/inboxes/search", "/v0/inboxes/search?q=a", base + "/messages/search?q=" + string(make([]byte, 0)),
		"/v0/threads/search?q=a+b+c+d+e+f+g+h+i+j+k"} {
		if resp := e.do("GET", bad, e.key, nil); resp.status != 400 {
			t.Errorf("GET %s = %d, want 400", bad, resp.status)
		}
	}
}

func TestSearchHighlights(t *testing.T) {
	e := newEnv(t)
	in := e.createInbox("/v0/inboxes", map[string]any{"username": "agent"})
	e.deliver(in.InboxID, "<a@host>", "", "Invoice overdue", time.Now().Add(-time.Minute), nil)
	var got searchMessagesResponse
	e.ok("GET", "/v0/inboxes/"+pathEscape(in.InboxID)+"/messages/search?q=INVOICE+sender", nil, &got)
	if got.Count != 1 {
		t.Fatalf("results %+v", got)
	}
	h := got.Messages[0].Highlights
	want := &highlights{From: []string{"**Sender** <**sender**@example.com>"}, Subject: []string{"**Invoice** overdue"}}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("highlights %+v, want %+v", h, want)
	}
}

func TestMarkWords(t *testing.T) {
	long := strings.Repeat("a", 100) + " needle " + strings.Repeat("b", 100)
	cases := []struct {
		v, want string
		ok      bool
	}{
		{"Lunch on Friday", "Lunch on **Friday**", true},
		{"ab ab", "**ab** **ab**", true},
		{"nothing here", "", false},
		{long, "…" + strings.Repeat("a", 39) + " **needle** " + strings.Repeat("b", 39) + "…", true},
	}
	for _, c := range cases {
		got, ok := markWords(c.v, []string{"friday", "AB", "needle"})
		if got != c.want || ok != c.ok {
			t.Errorf("markWords(%.30q) = %q, %v; want %q, %v", c.v, got, ok, c.want, c.ok)
		}
	}
}
