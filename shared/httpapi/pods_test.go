package httpapi

import (
	"net/http"
	"testing"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

func TestPods(t *testing.T) {
	e := newEnv(t)
	p := e.createPod("Support")
	if p.PodID == "" || p.Name != "Support" || p.CreatedAt.IsZero() {
		t.Fatalf("created %+v", p)
	}
	var replay wire.Pod
	e.ok("POST", "/v0/pods", map[string]any{"name": "A", "client_id": "pc"}, &replay)
	var replay2 wire.Pod
	e.ok("POST", "/v0/pods", map[string]any{"name": "B", "client_id": "pc"}, &replay2)
	if replay.PodID != replay2.PodID || replay2.Name != "A" {
		t.Fatalf("client_id replay: %+v vs %+v", replay, replay2)
	}
	var got wire.Pod
	e.ok("GET", "/v0/pods/"+p.PodID, nil, &got)
	if got.PodID != p.PodID {
		t.Fatalf("got %+v", got)
	}
	var list wire.ListPodsResponse
	e.ok("GET", "/v0/pods", nil, &list)
	if list.Count != 3 || len(list.Pods) != 3 || list.Limit != defaultLimit { // default + two
		t.Fatalf("list %+v", list)
	}

	// A pod with inboxes cannot be deleted: 400 "pod is not empty".
	in := e.createInbox("/v0/pods/"+p.PodID+"/inboxes", map[string]any{"username": "pod-inbox"})
	if in.PodID != p.PodID {
		t.Fatalf("inbox pod %q", in.PodID)
	}
	we := e.wantError(e.do("DELETE", "/v0/pods/"+p.PodID, e.key, nil), http.StatusBadRequest, "ValidationError")
	if we.Message == "" {
		t.Fatal("no message")
	}
	// The inbox is not reachable under another pod.
	e.wantError(e.do("GET", "/v0/pods/default/inboxes/pod-inbox%40pigeon.test", e.key, nil), http.StatusNotFound, "NotFoundError")
	if r := e.do("DELETE", "/v0/pods/"+p.PodID+"/inboxes/pod-inbox%40pigeon.test", e.key, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete inbox = %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/v0/pods/"+p.PodID, e.key, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete pod = %d %s", r.status, r.body)
	}
	e.wantError(e.do("GET", "/v0/pods/"+p.PodID, e.key, nil), http.StatusNotFound, "NotFoundError")
	e.wantError(e.do("POST", "/v0/pods/"+p.PodID+"/inboxes", e.key, map[string]any{}), http.StatusNotFound, "NotFoundError")
	e.wantError(e.do("POST", "/v0/pods", e.key, map[string]any{"name": 7}), http.StatusBadRequest, "ValidationError")
}
