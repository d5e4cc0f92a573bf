package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// patch is one label change sent through the API by TestConcurrentLabelChangesCommute.
type patch struct {
	path        string
	add, remove []string
}

// patchAll sends every change at once, one goroutine each, and returns each answer's status
// and body in the order of changes.
func (e *env) patchAll(changes []patch) []response {
	out := make([]response, len(changes))
	var wg sync.WaitGroup
	for i, c := range changes {
		body, _ := json.Marshal(map[string][]string{"add_labels": c.add, "remove_labels": c.remove})
		wg.Go(func() {
			r := httptest.NewRequest("PATCH", c.path, strings.NewReader(string(body)))
			r.Header.Set("Authorization", "Bearer "+e.key)
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			out[i] = response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
		})
	}
	wg.Wait()
	return out
}

// labelRange is prefix0 … prefix<n-1>.
func labelRange(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

// Label changes commute: concurrent adds and removes of different labels on one message and on
// its thread all succeed, the result is their union and difference, and the audit log has one
// event per effective change.
func TestConcurrentLabelChangesCommute(t *testing.T) {
	e := newEnv(t)
	in := e.createInbox("/v0/inboxes", map[string]any{"username": "busy"})
	t0 := time.Date(2035, 3, 4, 5, 6, 7, 0, time.UTC)
	first := e.deliver(in.InboxID, "<first@host>", "", "Busy", t0, nil)
	second := e.deliver(in.InboxID, "<second@host>", "<first@host>", "Re: Busy", t0.Add(time.Minute), nil)
	if first.ThreadID != second.ThreadID {
		t.Fatalf("the reply is in thread %s, not %s", second.ThreadID, first.ThreadID)
	}
	base := "/v0/inboxes/" + pathEscape(in.InboxID)
	msgPath := func(m wire.Message) string { return base + "/messages/" + pathEscape(m.MessageID) }
	threadPath := base + "/threads/" + first.ThreadID

	check := func(phase string, answers []response) {
		t.Helper()
		for i, r := range answers {
			if r.status != 200 {
				t.Fatalf("%s: change %d answered %d %s", phase, i, r.status, r.body)
			}
		}
	}
	labelsOf := func(m wire.Message) []string {
		var got wire.Message
		e.ok("GET", msgPath(m), nil, &got)
		return got.Labels
	}
	wantLabels := func(what string, got, want, gone []string) {
		t.Helper()
		for _, l := range want {
			if !slices.Contains(got, l) {
				t.Errorf("%s lacks %s: %v", what, l, got)
			}
		}
		for _, l := range gone {
			if slices.Contains(got, l) {
				t.Errorf("%s still has %s: %v", what, l, got)
			}
		}
	}

	// 50 adds of 50 different labels on one message.
	added := labelRange("a", 50)
	var adds []patch
	for _, l := range added {
		adds = append(adds, patch{path: msgPath(first), add: []string{l}})
	}
	check("50 adds", e.patchAll(adds))
	wantLabels("the message", labelsOf(first), added, nil)
	var th wire.Thread
	e.ok("GET", threadPath, nil, &th)
	wantLabels("the thread", th.Labels, added, nil)

	// Mixed, all at once: removes of 10 of those labels and adds of 10 new ones on the message,
	// and thread-wide adds of 10 labels and removes of 5 others.
	removed := added[:10]
	more := labelRange("b", 10)
	threadAdded := labelRange("t", 10)
	var mixed []patch
	for i := range 10 {
		mixed = append(mixed,
			patch{path: msgPath(first), remove: []string{removed[i]}},
			patch{path: msgPath(first), add: []string{more[i]}},
			patch{path: threadPath, add: []string{threadAdded[i]}},
		)
	}
	threadRemoved := added[10:15]
	for _, l := range threadRemoved {
		mixed = append(mixed, patch{path: threadPath, remove: []string{l}})
	}
	check("mixed", e.patchAll(mixed))
	kept := added[15:]
	wantLabels("the message", labelsOf(first), slices.Concat(kept, more, threadAdded), slices.Concat(removed, threadRemoved))
	wantLabels("the reply", labelsOf(second), threadAdded, slices.Concat(added, more))
	e.ok("GET", threadPath, nil, &th)
	wantLabels("the thread", th.Labels, slices.Concat(kept, more, threadAdded), slices.Concat(removed, threadRemoved))

	// One audit event per effective change: each label added once and removed at most once.
	count := map[string]int{} // "<message> <event type> <label>" → events
	var list wire.ListInboxEventsResponse
	for path := base + "/events?limit=100"; ; {
		e.ok("GET", path, nil, &list)
		for _, ev := range list.Events {
			count[ev.MessageID+" "+ev.EventType+" "+ev.Label]++
		}
		if list.NextPageToken == "" {
			break
		}
		path = base + "/events?limit=100&page_token=" + list.NextPageToken
	}
	want := map[string]int{}
	for _, l := range slices.Concat(added, more, threadAdded) {
		want[first.MessageID+" "+wire.EventLabelAdded+" "+l] = 1
	}
	for _, l := range slices.Concat(removed, threadRemoved) {
		want[first.MessageID+" "+wire.EventLabelRemoved+" "+l] = 1
	}
	for _, l := range threadAdded {
		want[second.MessageID+" "+wire.EventLabelAdded+" "+l] = 1
	}
	for k, n := range count {
		if want[k] != n {
			t.Errorf("audit log: %d × %s, want %d", n, k, want[k])
		}
	}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("audit log: %d × %s, want %d", count[k], k, n)
		}
	}
}
