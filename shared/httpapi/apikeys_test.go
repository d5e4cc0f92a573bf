package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

func TestAPIKeys(t *testing.T) {
	e := newEnv(t)
	podA, podB := e.createPod("A"), e.createPod("B")
	a1 := e.createInbox("/v0/pods/"+podA.PodID+"/inboxes", map[string]any{"username": "a1"})
	a1Path := "/v0/inboxes/" + pathEscape(a1.InboxID)

	// Create: the secret once, no type, no permissions when all are granted.
	resp := e.do("POST", "/v0/api-keys", e.key, map[string]any{"name": " ci "})
	var raw map[string]any
	resp.decode(t, &raw)
	for _, absent := range []string{"type", "permissions", "pod_id", "inbox_id"} {
		if _, ok := raw[absent]; ok {
			t.Errorf("create response has %q: %s", absent, resp.body)
		}
	}
	var created wire.CreateAPIKeyResponse
	resp.decode(t, &created)
	if resp.status != 200 || !strings.HasPrefix(created.APIKey, "am_") || created.Prefix != created.APIKey[:12] ||
		!strings.HasPrefix(created.APIKeyID, "ak_") || created.Name != "ci" || created.CreatedAt.IsZero() {
		t.Fatalf("created %d %+v", resp.status, created)
	}
	var me identity
	e.okAs(created.APIKey, "GET", "/v0/auth/me", nil, &me)
	if me.APIKeyID != created.APIKeyID || me.ScopeType != "organization" {
		t.Fatalf("new key identity %+v", me)
	}

	// Reads show the prefix, never the secret; the list has no limit; used_at is recorded.
	resp = e.do("GET", "/v0/api-keys", e.key, nil)
	if strings.Contains(string(resp.body), created.APIKey) || strings.Contains(string(resp.body), `"limit"`) ||
		strings.Contains(string(resp.body), `"hash"`) {
		t.Fatalf("list leaks: %s", resp.body)
	}
	var list wire.ListAPIKeysResponse
	resp.decode(t, &list)
	if list.Count != 2 || list.APIKeys[0].APIKeyID != created.APIKeyID || list.APIKeys[1].APIKeyID != "ak_bootstrap" {
		t.Fatalf("list %+v", list)
	}
	for _, k := range list.APIKeys {
		if k.Type != "bearer" || k.Prefix == "" || k.UpdatedAt.IsZero() || k.UsedAt == nil {
			t.Errorf("listed key %+v", k)
		}
	}
	var got wire.APIKey
	e.ok("GET", "/v0/api-keys/"+created.APIKeyID, nil, &got)
	usedAt := *got.UsedAt
	e.okAs(created.APIKey, "GET", "/v0/auth/me", nil, nil)
	e.ok("GET", "/v0/api-keys/"+created.APIKeyID, nil, &got)
	if !got.UsedAt.Equal(usedAt) {
		t.Errorf("used_at rewritten within a minute: %v then %v", usedAt, got.UsedAt)
	}

	// Update: name and permissions; {} grants nothing.
	e.ok("PATCH", "/v0/api-keys/"+created.APIKeyID, map[string]any{"name": "renamed", "permissions": map[string]any{"inbox_read": true}}, &got)
	if got.Name != "renamed" || len(got.Permissions) != 1 || !got.Permissions["inbox_read"] || got.UpdatedAt.Before(got.CreatedAt) {
		t.Fatalf("updated %+v", got)
	}
	e.okAs(created.APIKey, "GET", "/v0/inboxes", nil, nil)
	e.wantError(e.do("GET", "/v0/pods", created.APIKey, nil), http.StatusForbidden, "ForbiddenError")
	resp = e.do("PATCH", "/v0/api-keys/"+created.APIKeyID, e.key, map[string]any{"permissions": map[string]any{}})
	if resp.status != 200 || !strings.Contains(string(resp.body), `"permissions":{}`) {
		t.Fatalf("empty permissions: %d %s", resp.status, resp.body)
	}
	e.wantError(e.do("GET", "/v0/inboxes", created.APIKey, nil), http.StatusForbidden, "ForbiddenError")

	// Delete: the key stops working at once.
	if r := e.do("DELETE", "/v0/api-keys/"+created.APIKeyID, e.key, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete = %d %s", r.status, r.body)
	}
	if we := e.wantError(e.do("GET", "/v0/auth/me", created.APIKey, nil), http.StatusUnauthorized, "UnauthorizedError"); we.Code != "unknown_api_key" {
		t.Fatalf("deleted key: %+v", we)
	}
	e.wantError(e.do("GET", "/v0/api-keys/"+created.APIKeyID, e.key, nil), http.StatusNotFound, "NotFoundError")
	e.wantError(e.do("DELETE", "/v0/api-keys/"+created.APIKeyID, e.key, nil), http.StatusNotFound, "NotFoundError")

	// The bootstrap key belongs to the deployment.
	e.wantError(e.do("DELETE", "/v0/api-keys/ak_bootstrap", e.key, nil), http.StatusBadRequest, "ValidationError")
	e.wantError(e.do("PATCH", "/v0/api-keys/ak_bootstrap", e.key, map[string]any{"name": "x"}), http.StatusBadRequest, "ValidationError")
	e.okAs(e.key, "GET", "/v0/api-keys/ak_bootstrap", nil, nil)

	// Scoped keys: the route sets the scope; an inbox key carries its inbox's pod.
	var podKey, inboxKey wire.CreateAPIKeyResponse
	e.ok("POST", "/v0/pods/"+podA.PodID+"/api-keys", map[string]any{"name": "pod", "permissions": map[string]any{"inbox_read": true, "api_key_read": true, "api_key_create": true}}, &podKey)
	e.ok("POST", a1Path+"/api-keys", nil, &inboxKey)
	if podKey.PodID != podA.PodID || podKey.InboxID != "" || len(podKey.Permissions) != 3 || inboxKey.InboxID != a1.InboxID || inboxKey.PodID != podA.PodID {
		t.Fatalf("scoped keys %+v %+v", podKey, inboxKey)
	}
	e.okAs(inboxKey.APIKey, "GET", "/v0/auth/me", nil, &me)
	if me.ScopeType != "inbox" || me.PodID != podA.PodID {
		t.Fatalf("inbox key identity %+v", me)
	}
	e.ok("GET", "/v0/pods/"+podA.PodID+"/api-keys", nil, &list)
	if list.Count != 2 { // the pod's key and its inbox's
		t.Fatalf("pod keys %+v", list)
	}
	e.ok("GET", a1Path+"/api-keys", nil, &list)
	if list.Count != 1 || list.APIKeys[0].APIKeyID != inboxKey.APIKeyID {
		t.Fatalf("inbox keys %+v", list)
	}
	e.okAs(podKey.APIKey, "GET", "/v0/api-keys", nil, &list)
	if list.Count != 2 {
		t.Fatalf("pod key sees %+v", list)
	}
	e.ok("GET", "/v0/api-keys?limit=1", nil, &list)
	if list.Count != 1 || list.NextPageToken == "" {
		t.Fatalf("page %+v", list)
	}
	e.ok("GET", "/v0/api-keys?type=public_key", nil, &list)
	if list.Count != 0 || list.APIKeys == nil {
		t.Fatalf("public keys %+v", list)
	}

	// A key gives no more than it has: permissions and scope.
	for _, body := range []map[string]any{
		{}, // every permission, which the pod key lacks
		{"permissions": map[string]any{"inbox_read": true, "inbox_delete": true}},
	} {
		we := e.wantError(e.do("POST", "/v0/pods/"+podA.PodID+"/api-keys", podKey.APIKey, body), http.StatusForbidden, "ForbiddenError")
		if we.Code != "missing_permission" {
			t.Fatalf("%v: %+v", body, we)
		}
	}
	var narrower wire.CreateAPIKeyResponse
	e.okAs(podKey.APIKey, "POST", a1Path+"/api-keys", map[string]any{"permissions": map[string]any{"inbox_read": true, "inbox_delete": false}}, &narrower)
	if narrower.InboxID != a1.InboxID {
		t.Fatalf("narrower %+v", narrower)
	}
	if we := e.wantError(e.do("POST", "/v0/api-keys", podKey.APIKey, map[string]any{"permissions": map[string]any{"inbox_read": true}}), http.StatusForbidden, "ForbiddenError"); we.Code != "missing_permission" {
		t.Fatalf("pod key creating an organisation key: %+v", we)
	}
	e.wantError(e.do("POST", "/v0/pods/"+podB.PodID+"/api-keys", podKey.APIKey, map[string]any{"permissions": map[string]any{}}), http.StatusNotFound, "NotFoundError")
	e.wantError(e.do("POST", "/v0/pods/"+podA.PodID+"/api-keys", inboxKey.APIKey, nil), http.StatusForbidden, "ForbiddenError")
	e.wantError(e.do("PATCH", "/v0/pods/"+podA.PodID+"/api-keys/"+narrower.APIKeyID, podKey.APIKey, map[string]any{"permissions": map[string]any{"pod_read": true}}), http.StatusForbidden, "ForbiddenError")

	// Deleting an inbox deletes its keys: a new inbox at the address is not theirs.
	if r := e.do("DELETE", a1Path, e.key, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete inbox = %d %s", r.status, r.body)
	}
	e.createInbox("/v0/pods/"+podA.PodID+"/inboxes", map[string]any{"username": "a1"})
	e.wantError(e.do("GET", a1Path, inboxKey.APIKey, nil), http.StatusUnauthorized, "UnauthorizedError")
	e.wantError(e.do("GET", a1Path, narrower.APIKey, nil), http.StatusUnauthorized, "UnauthorizedError")
}

func TestAPIKeysBadInput(t *testing.T) {
	e := newEnv(t)
	pod := e.createPod("P")
	in := e.createInbox("/v0/pods/"+pod.PodID+"/inboxes", map[string]any{"username": "x"})
	var k wire.CreateAPIKeyResponse
	e.ok("POST", "/v0/api-keys", map[string]any{"name": "k"}, &k)
	long := strings.Repeat("n", maxKeyNameLen+1)
	tests := []struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		{"POST", "/v0/api-keys", map[string]any{"name": 5}, 400, "name"},
		{"POST", "/v0/api-keys", map[string]any{"name": long}, 400, "name"},
		{"POST", "/v0/api-keys", map[string]any{"name": "a\nb"}, 400, "name"},
		{"POST", "/v0/api-keys", map[string]any{"permissions": []string{"inbox_read"}}, 400, "permissions"},
		{"POST", "/v0/api-keys", map[string]any{"permissions": map[string]any{"inbox_read": "yes"}}, 400, "permissions"},
		{"POST", "/v0/api-keys", map[string]any{"permissions": map[string]any{"fly": true}}, 400, "permissions.fly"},
		{"POST", "/v0/api-keys", map[string]any{"public_key": map[string]any{"kty": "EC"}}, 400, "public_key"},
		{"POST", "/v0/api-keys", "[]", 400, ""},
		{"POST", "/v0/api-keys", "{", 400, ""},
		{"PATCH", "/v0/api-keys/" + k.APIKeyID, map[string]any{}, 400, ""},
		{"PATCH", "/v0/api-keys/" + k.APIKeyID, map[string]any{"name": true}, 400, "name"},
		{"PATCH", "/v0/api-keys/" + k.APIKeyID, map[string]any{"permissions": map[string]any{"nope": true}}, 400, "permissions.nope"},
		{"PATCH", "/v0/api-keys/ak_nope", map[string]any{"name": "x"}, 404, ""},
		{"GET", "/v0/api-keys/ak_nope", nil, 404, ""},
		{"DELETE", "/v0/api-keys/ak_nope", nil, 404, ""},
		{"GET", "/v0/api-keys?limit=0", nil, 400, "limit"},
		{"GET", "/v0/api-keys?limit=x", nil, 400, "limit"},
		{"GET", "/v0/api-keys?page_token=forged", nil, 400, "page_token"},
		{"GET", "/v0/api-keys?type=ssh", nil, 400, "type"},
		{"GET", "/v0/api-keys?ascending=maybe", nil, 400, "ascending"},
		{"GET", "/v0/pods/pod_nope/api-keys", nil, 404, ""},
		{"POST", "/v0/pods/pod_nope/api-keys", map[string]any{}, 404, ""},
		{"DELETE", "/v0/pods/pod_nope/api-keys/" + k.APIKeyID, nil, 404, ""},
		{"PATCH", "/v0/pods/" + pod.PodID + "/api-keys/" + k.APIKeyID, map[string]any{"name": "x"}, 404, ""}, // an organisation key is not the pod's
		{"GET", "/v0/inboxes/nope%40pigeon.test/api-keys", nil, 404, ""},
		{"POST", "/v0/inboxes/nope%40pigeon.test/api-keys", map[string]any{}, 404, ""},
		{"DELETE", "/v0/inboxes/" + pathEscape(in.InboxID) + "/api-keys/" + k.APIKeyID, nil, 404, ""},
		{"GET", "/v0/pods/" + pod.PodID + "/api-keys/" + k.APIKeyID, nil, 405, ""}, // no single-key read below the organisation
		{"PUT", "/v0/api-keys/" + k.APIKeyID, nil, 405, ""},
	}
	for _, tt := range tests {
		resp := e.do(tt.method, tt.path, e.key, tt.body)
		name := map[int]string{400: "ValidationError", 404: "NotFoundError", 405: "MethodNotAllowedError"}[tt.status]
		we := e.wantError(resp, tt.status, name)
		if tt.field != "" && (len(we.Errors) != 1 || we.Errors[0].Path != tt.field) {
			t.Errorf("%s %s: errors %+v, want path %q", tt.method, tt.path, we.Errors, tt.field)
		}
	}
	// Nothing was created or changed by the rejected requests.
	var list wire.ListAPIKeysResponse
	e.ok("GET", "/v0/api-keys", nil, &list)
	if list.Count != 2 || list.APIKeys[0].Name != "k" {
		t.Fatalf("keys after bad input: %+v", list)
	}
	var raw json.RawMessage
	e.ok("GET", "/v0/api-keys/"+k.APIKeyID, nil, &raw)
}
