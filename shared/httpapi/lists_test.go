package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

func TestLists(t *testing.T) {
	e := newEnv(t)
	pod := e.createPod("P")
	in := e.createInbox("/v0/pods/"+pod.PodID+"/inboxes", map[string]any{"username": "agent"})
	inPath := "/v0/inboxes/" + pathEscape(in.InboxID)

	var first wire.ListEntry
	resp := e.do("POST", "/v0/lists/receive/block", e.key, map[string]any{"entry": " Spam@Example.COM ", "reason": "spam"})
	if resp.status != 200 {
		t.Fatalf("create = %d %s", resp.status, resp.body)
	}
	resp.decode(t, &first)
	if first.Entry != "spam@example.com" || first.EntryType != "email" || first.OrganizationID != testOrg || first.PodID != "" ||
		first.InboxID != "" || first.Direction != "receive" || first.ListType != "block" || first.Reason != "spam" || first.CreatedAt.IsZero() {
		t.Fatalf("created %+v", first)
	}
	if strings.Contains(string(resp.body), "read_only") || strings.Contains(string(resp.body), "pod_id") {
		t.Errorf("organisation entry: %s", resp.body)
	}
	var again wire.ListEntry
	e.ok("POST", "/v0/lists/receive/block", map[string]any{"entry": "spam@example.com"}, &again)
	if again != first {
		t.Fatalf("repeat create = %+v, want %+v", again, first)
	}
	var domain wire.ListEntry
	e.ok("POST", "/v0/lists/receive/block", map[string]any{"entry": "Example.org"}, &domain)
	if domain.EntryType != "domain" || domain.Entry != "example.org" {
		t.Fatalf("domain entry %+v", domain)
	}

	var list wire.ListListEntriesResponse
	e.ok("GET", "/v0/lists/receive/block", nil, &list)
	if list.Count != 2 || list.Limit != defaultLimit || list.Entries[0].Entry != "example.org" || list.Entries[1].Entry != "spam@example.com" {
		t.Fatalf("list %+v", list)
	}
	e.ok("GET", "/v0/lists/receive/block?limit=1", nil, &list)
	if list.Count != 1 || list.NextPageToken == "" {
		t.Fatalf("page 1 %+v", list)
	}
	e.ok("GET", "/v0/lists/receive/block?limit=1&page_token="+list.NextPageToken, nil, &list)
	if list.Count != 1 || list.Entries[0].Entry != "spam@example.com" {
		t.Fatalf("page 2 %+v", list)
	}
	e.ok("GET", "/v0/lists/receive/allow", nil, &list)
	if list.Count != 0 || list.Entries == nil {
		t.Fatalf("empty list %+v", list)
	}

	var got wire.ListEntry
	for _, p := range []string{"spam%40example.com", "SPAM%40Example.com", "spam@example.com"} {
		e.ok("GET", "/v0/lists/receive/block/"+p, nil, &got)
		if got != first {
			t.Fatalf("get %s = %+v", p, got)
		}
	}

	// Pod and inbox lists carry their scope.
	var podEntry, inboxEntry wire.ListEntry
	e.ok("POST", "/v0/pods/"+pod.PodID+"/lists/send/allow", map[string]any{"entry": "partner.com"}, &podEntry)
	if podEntry.PodID != pod.PodID || podEntry.InboxID != "" || podEntry.Direction != "send" || podEntry.ListType != "allow" {
		t.Fatalf("pod entry %+v", podEntry)
	}
	e.ok("POST", inPath+"/lists/reply/block", map[string]any{"entry": "noreply@partner.com"}, &inboxEntry)
	if inboxEntry.PodID != pod.PodID || inboxEntry.InboxID != in.InboxID {
		t.Fatalf("inbox entry %+v", inboxEntry)
	}
	e.ok("GET", "/v0/pods/"+pod.PodID+"/lists/send/allow", nil, &list)
	if list.Count != 1 {
		t.Fatalf("pod list %+v", list)
	}
	e.ok("GET", "/v0/lists/send/allow", nil, &list)
	if list.Count != 0 {
		t.Fatalf("organisation list shows the pod's: %+v", list)
	}

	// What the API stores is what the send and inbound paths check.
	ctx := context.Background()
	for _, c := range []struct {
		direction, addr string
		allowed         bool
	}{
		{"receive", "spam@example.com", false},
		{"receive", "bob@mail.example.org", false},
		{"receive", "bob@example.com", true},
		{"send", "x@partner.com", true},
		{"send", "x@elsewhere.com", false}, // the pod's allow list
		{"reply", "noreply@partner.com", false},
	} {
		d, err := e.st.CheckList(ctx, testOrg, pod.PodID, in.InboxID, c.direction, c.addr)
		if err != nil || d.Allowed != c.allowed {
			t.Errorf("CheckList %s %s = %+v %v, want allowed %v", c.direction, c.addr, d, err, c.allowed)
		}
	}

	if r := e.do("DELETE", "/v0/lists/receive/block/Spam%40example.com", e.key, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete = %d %s", r.status, r.body)
	}
	e.wantError(e.do("DELETE", "/v0/lists/receive/block/spam%40example.com", e.key, nil), http.StatusNotFound, "NotFoundError")
	e.wantError(e.do("GET", "/v0/lists/receive/block/spam%40example.com", e.key, nil), http.StatusNotFound, "NotFoundError")

	// Scope: lists belong to their scope as a whole.
	podKey := e.newKey(pod.PodID, "", nil)
	inboxKey := e.newKey(pod.PodID, in.InboxID, nil)
	e.wantError(e.do("GET", "/v0/lists/receive/block", podKey, nil), http.StatusForbidden, "ForbiddenError")
	e.wantError(e.do("POST", "/v0/pods/"+pod.PodID+"/lists/send/block", inboxKey, map[string]any{"entry": "a.com"}), http.StatusForbidden, "ForbiddenError")
	e.okAs(podKey, "GET", "/v0/pods/"+pod.PodID+"/lists/send/allow", nil, &list)
	e.okAs(inboxKey, "POST", inPath+"/lists/receive/allow", map[string]any{"entry": "a.com"}, nil)
	readOnly := e.newKey("", "", map[string]bool{"list_entry_read": true})
	e.okAs(readOnly, "GET", "/v0/lists/receive/block", nil, nil)
	e.wantError(e.do("POST", "/v0/lists/receive/block", readOnly, map[string]any{"entry": "a.com"}), http.StatusForbidden, "ForbiddenError")
	e.wantError(e.do("DELETE", "/v0/lists/receive/block/example.org", readOnly, nil), http.StatusForbidden, "ForbiddenError")

	// An inbox's lists go with it: a new inbox at the same address starts with none.
	if r := e.do("DELETE", inPath, e.key, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete inbox = %d %s", r.status, r.body)
	}
	e.createInbox("/v0/pods/"+pod.PodID+"/inboxes", map[string]any{"username": "agent"})
	e.ok("GET", inPath+"/lists/receive/allow", nil, &list)
	if list.Count != 0 {
		t.Fatalf("new inbox inherited %+v", list)
	}
}

func TestListsBadInput(t *testing.T) {
	e := newEnv(t)
	e.ok("POST", "/v0/lists/send/block", map[string]any{"entry": "a.com"}, nil)
	tests := []struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		{"GET", "/v0/lists/forward/block", nil, 400, "direction"},
		{"POST", "/v0/lists/forward/block", map[string]any{"entry": "a.com"}, 400, "direction"},
		{"GET", "/v0/lists/send/deny", nil, 400, "type"},
		{"GET", "/v0/lists/send/deny/a.com", nil, 400, "type"},
		{"DELETE", "/v0/lists/SEND/block/a.com", nil, 400, "direction"},
		{"POST", "/v0/lists/send/block", map[string]any{}, 400, "entry"},
		{"POST", "/v0/lists/send/block", nil, 400, "entry"},
		{"POST", "/v0/lists/send/block", map[string]any{"entry": "  "}, 400, "entry"},
		{"POST", "/v0/lists/send/block", map[string]any{"entry": 5}, 400, "entry"},
		{"POST", "/v0/lists/send/block", map[string]any{"entry": []string{"a.com"}}, 400, "entry"},
		{"POST", "/v0/lists/send/block", map[string]any{"entry": "not an address"}, 400, "entry"},
		{"POST", "/v0/lists/send/block", map[string]any{"entry": "a@b@c.com"}, 400, "entry"},
		{"POST", "/v0/lists/send/block", map[string]any{"entry": "Ann <ann@a.com>"}, 400, "entry"},
		{"POST", "/v0/lists/send/block", map[string]any{"entry": "a.com", "reason": 3}, 400, "reason"},
		{"POST", "/v0/lists/send/block", map[string]any{"entry": "a.com", "reason": strings.Repeat("r", maxReasonLen+1)}, 400, "reason"},
		{"POST", "/v0/lists/send/block", "[]", 400, ""},
		{"POST", "/v0/lists/send/block", "{\"entry\":", 400, ""},
		{"GET", "/v0/lists/send/block/b.com", nil, 404, ""},
		{"GET", "/v0/lists/send/allow/a.com", nil, 404, ""},
		{"GET", "/v0/lists/send/block/%25%25", nil, 404, ""},
		{"DELETE", "/v0/lists/send/block/not%20valid", nil, 404, ""},
		{"GET", "/v0/lists/send/block?limit=101", nil, 400, "limit"},
		{"GET", "/v0/lists/send/block?page_token=abc.def", nil, 400, "page_token"},
		{"GET", "/v0/pods/pod_nope/lists/send/block", nil, 404, ""},
		{"POST", "/v0/pods/pod_nope/lists/send/block", map[string]any{"entry": "a.com"}, 404, ""},
		{"GET", "/v0/inboxes/nope%40pigeon.test/lists/send/block", nil, 404, ""},
		{"DELETE", "/v0/inboxes/nope%40pigeon.test/lists/send/block/a.com", nil, 404, ""},
		{"PATCH", "/v0/lists/send/block/a.com", map[string]any{}, 405, ""},
		{"GET", "/v0/lists/send", nil, 404, ""},
	}
	for _, tt := range tests {
		resp := e.do(tt.method, tt.path, e.key, tt.body)
		name := map[int]string{400: "ValidationError", 404: "NotFoundError", 405: "MethodNotAllowedError"}[tt.status]
		we := e.wantError(resp, tt.status, name)
		if tt.field != "" && (len(we.Errors) != 1 || we.Errors[0].Path != tt.field) {
			t.Errorf("%s %s: errors %+v, want path %q", tt.method, tt.path, we.Errors, tt.field)
		}
	}
	var list wire.ListListEntriesResponse
	e.ok("GET", "/v0/lists/send/block", nil, &list)
	if list.Count != 1 {
		t.Fatalf("entries after bad input: %+v", list)
	}
}
