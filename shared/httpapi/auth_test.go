package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, header, value, code string
	}{
		{"missing", "", "", "missing_authorization"},
		{"empty bearer", "Authorization", "Bearer ", "missing_authorization"},
		{"basic scheme", "Authorization", "Basic YTpi", "invalid_token_type"},
		{"unknown key", "Authorization", "Bearer am_nope", "unknown_api_key"},
		{"unknown x-api-key", "X-Api-Key", "am_nope", "unknown_api_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/v0/inboxes", "/v0/no/such/route"} {
				r := httptest.NewRequest("GET", path, nil)
				if tt.header != "" {
					r.Header.Set(tt.header, tt.value)
				}
				w := httptest.NewRecorder()
				e.h.ServeHTTP(w, r)
				we := e.wantError(response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}, http.StatusUnauthorized, "UnauthorizedError")
				if we.Code != tt.code {
					t.Errorf("%s: code %q, want %q", path, we.Code, tt.code)
				}
			}
		})
	}
	// x-api-key and a lower-case scheme work.
	for h, v := range map[string]string{"X-Api-Key": e.key, "Authorization": "bearer " + e.key} {
		r := httptest.NewRequest("GET", "/v0/inboxes", nil)
		r.Header.Set(h, v)
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Errorf("%s: %d %s", h, w.Code, w.Body)
		}
	}
}

func TestIdentityAndOrganization(t *testing.T) {
	e := newEnv(t)
	pod := e.createPod("P")
	in := e.createInbox("/v0/pods/"+pod.PodID+"/inboxes", map[string]any{"username": "me"})
	e.createInbox("/v0/inboxes", map[string]any{"username": "other"})
	podKey := e.newKey(pod.PodID, "", nil)
	inboxKey := e.newKey(pod.PodID, in.InboxID, nil)

	var me identity
	e.ok("GET", "/v0/auth/me", nil, &me)
	if me.ScopeType != "organization" || me.ScopeID != testOrg || me.OrganizationID != testOrg || me.APIKeyID != "ak_bootstrap" {
		t.Fatalf("org identity %+v", me)
	}
	e.okAs(podKey, "GET", "/v0/auth/me", nil, &me)
	if me.ScopeType != "pod" || me.ScopeID != pod.PodID || me.PodID != pod.PodID || me.InboxID != "" {
		t.Fatalf("pod identity %+v", me)
	}
	me = identity{}
	e.okAs(inboxKey, "GET", "/v0/auth/me", nil, &me)
	if me.ScopeType != "inbox" || me.ScopeID != in.InboxID || me.PodID != pod.PodID || me.InboxID != in.InboxID {
		t.Fatalf("inbox identity %+v", me)
	}

	var org wire.Organization
	e.ok("GET", "/v0/organizations", nil, &org)
	if org.OrganizationID != testOrg || org.InboxCount != 2 || org.DomainCount != 2 || org.CreatedAt.IsZero() {
		t.Fatalf("organization %+v", org)
	}
	e.okAs(podKey, "GET", "/v0/organizations", nil, &org)
	if org.InboxCount != 1 {
		t.Fatalf("pod key organization %+v", org)
	}
}

// TestScopes checks tenancy: a pod key sees only its pod, an inbox key only its inbox;
// everything else answers 404 as if it did not exist, and wider lists are narrowed.
func TestScopes(t *testing.T) {
	e := newEnv(t)
	podA, podB := e.createPod("A"), e.createPod("B")
	a1 := e.createInbox("/v0/pods/"+podA.PodID+"/inboxes", map[string]any{"username": "a1"})
	a2 := e.createInbox("/v0/pods/"+podA.PodID+"/inboxes", map[string]any{"username": "a2"})
	b1 := e.createInbox("/v0/pods/"+podB.PodID+"/inboxes", map[string]any{"username": "b1"})
	podKey := e.newKey(podA.PodID, "", nil)
	inboxKey := e.newKey(podA.PodID, a1.InboxID, nil)

	enc := func(id string) string { return "/v0/inboxes/" + pathEscape(id) }

	// Pod key.
	var list wire.ListInboxesResponse
	e.okAs(podKey, "GET", "/v0/inboxes", nil, &list)
	if list.Count != 2 || !sameIDs(list.Inboxes, a1, a2) {
		t.Fatalf("pod key /v0/inboxes = %v", ids(list.Inboxes))
	}
	for _, p := range []string{enc(b1.InboxID), "/v0/pods/" + podB.PodID, "/v0/pods/" + podB.PodID + "/inboxes",
		"/v0/pods/" + podB.PodID + "/inboxes/" + pathEscape(b1.InboxID), "/v0/pods/" + podB.PodID + "/threads",
		enc(b1.InboxID) + "/messages", enc(b1.InboxID) + "/threads"} {
		e.wantError(e.do("GET", p, podKey, nil), http.StatusNotFound, "NotFoundError")
	}
	e.wantError(e.do("PATCH", enc(b1.InboxID), podKey, map[string]any{"display_name": "x"}), http.StatusNotFound, "NotFoundError")
	e.wantError(e.do("DELETE", enc(b1.InboxID), podKey, nil), http.StatusNotFound, "NotFoundError")
	e.wantError(e.do("POST", "/v0/pods/"+podB.PodID+"/inboxes", podKey, map[string]any{}), http.StatusNotFound, "NotFoundError")
	var pods wire.ListPodsResponse
	e.okAs(podKey, "GET", "/v0/pods", nil, &pods)
	if pods.Count != 1 || pods.Pods[0].PodID != podA.PodID {
		t.Fatalf("pod key pods = %+v", pods)
	}
	var created wire.Inbox
	e.okAs(podKey, "POST", "/v0/inboxes", map[string]any{"username": "a3"}, &created)
	if created.PodID != podA.PodID {
		t.Fatalf("pod key created inbox in %q", created.PodID)
	}
	e.wantError(e.do("POST", "/v0/pods", podKey, map[string]any{"name": "x"}), http.StatusForbidden, "ForbiddenError")

	// Inbox key.
	e.okAs(inboxKey, "GET", "/v0/inboxes", nil, &list)
	if list.Count != 1 || list.Inboxes[0].InboxID != a1.InboxID {
		t.Fatalf("inbox key /v0/inboxes = %v", ids(list.Inboxes))
	}
	e.okAs(inboxKey, "GET", "/v0/pods/"+podA.PodID+"/inboxes", nil, &list)
	if list.Count != 1 || list.Inboxes[0].InboxID != a1.InboxID {
		t.Fatalf("inbox key pod inboxes = %v", ids(list.Inboxes))
	}
	var got wire.Inbox
	e.okAs(inboxKey, "GET", enc(a1.InboxID), nil, &got)
	for _, p := range []string{enc(a2.InboxID), enc(b1.InboxID), enc(a2.InboxID) + "/messages", enc(a2.InboxID) + "/threads"} {
		e.wantError(e.do("GET", p, inboxKey, nil), http.StatusNotFound, "NotFoundError")
	}
	e.wantError(e.do("POST", "/v0/inboxes", inboxKey, map[string]any{}), http.StatusForbidden, "ForbiddenError")
	var threads wire.ListThreadsResponse
	e.okAs(inboxKey, "GET", "/v0/threads", nil, &threads)
	e.okAs(inboxKey, "GET", "/v0/pods/"+podA.PodID+"/threads", nil, &threads)

	// Permissions: a key limited to inbox_read cannot create or read messages.
	readOnly := e.newKey("", "", map[string]bool{"inbox_read": true})
	e.okAs(readOnly, "GET", "/v0/inboxes", nil, &list)
	we := e.wantError(e.do("POST", "/v0/inboxes", readOnly, map[string]any{}), http.StatusForbidden, "ForbiddenError")
	if we.Code != "missing_permission" {
		t.Fatalf("code %q", we.Code)
	}
	e.wantError(e.do("GET", enc(a1.InboxID)+"/messages", readOnly, nil), http.StatusForbidden, "ForbiddenError")
}

func sameIDs(got []wire.Inbox, want ...wire.Inbox) bool {
	if len(got) != len(want) {
		return false
	}
	seen := map[string]bool{}
	for _, g := range got {
		seen[g.InboxID] = true
	}
	for _, w := range want {
		if !seen[w.InboxID] {
			return false
		}
	}
	return true
}
