package httpapi

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/pigeon-mail/pigeon/shared/config"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

func TestWebhookLifecycle(t *testing.T) {
	e := newEnv(t)
	in := e.createInbox("/v0/inboxes", map[string]any{"username": "hooks"})
	body := map[string]any{"url": "https://receiver.example/hook", "event_types": []string{"message.received", "message.received"},
		"client_id": "wh-1", "headers": map[string]string{"X-Token": "secret"}}

	var wh wire.Webhook
	e.ok("POST", "/v0/webhooks", body, &wh)
	if !strings.HasPrefix(wh.WebhookID, "ep_") || !strings.HasPrefix(wh.Secret, "whsec_") || !wh.Enabled ||
		!slices.Equal(wh.EventTypes, []string{"message.received"}) || wh.ClientID != "wh-1" || wh.CreatedAt.IsZero() {
		t.Fatalf("created = %+v", wh)
	}
	var again wire.Webhook
	e.ok("POST", "/v0/webhooks", body, &again)
	if again.WebhookID != wh.WebhookID || again.Secret != wh.Secret {
		t.Fatalf("client_id replay made %+v", again)
	}

	var got wire.Webhook
	e.ok("GET", "/v0/webhooks/"+wh.WebhookID, nil, &got)
	if got.Secret != wh.Secret {
		t.Fatal("secret not returned on read")
	}
	var names wire.WebhookHeaderNamesResponse
	e.ok("GET", "/v0/webhooks/"+wh.WebhookID+"/headers", nil, &names)
	if !slices.Equal(names.HeaderNames, []string{"X-Token"}) || strings.Contains(string(e.do("GET", "/v0/webhooks/"+wh.WebhookID+"/headers", e.key, nil).body), "secret") {
		t.Fatalf("header names = %+v", names)
	}
	if r := e.do("PATCH", "/v0/webhooks/"+wh.WebhookID+"/headers", e.key, map[string]any{"headers": map[string]string{"x-token": "new", "X-Other": "1"}}); r.status != http.StatusNoContent {
		t.Fatalf("headers patch = %d %s", r.status, r.body)
	}
	e.ok("GET", "/v0/webhooks/"+wh.WebhookID+"/headers", nil, &names)
	if !slices.Equal(names.HeaderNames, []string{"X-Other", "x-token"}) {
		t.Fatalf("header names after patch = %v", names.HeaderNames)
	}
	e.wantError(e.do("PATCH", "/v0/webhooks/"+wh.WebhookID+"/headers", e.key, map[string]any{"headers": map[string]string{"A": "1"}, "remove_headers": []string{"a"}}), 400, "ValidationError")
	e.wantError(e.do("PATCH", "/v0/webhooks/"+wh.WebhookID+"/headers", e.key, map[string]any{}), 400, "ValidationError")
	e.wantError(e.do("PATCH", "/v0/webhooks/"+wh.WebhookID+"/headers", e.key, map[string]any{"headers": map[string]string{"svix-id": "x"}}), 400, "ValidationError")

	// Update: event types replaced, an inbox filter added (org scope).
	var up wire.Webhook
	e.ok("PATCH", "/v0/webhooks/"+wh.WebhookID, map[string]any{"event_types": []string{"message.sent", "message.delivered"},
		"add_inbox_ids": []string{in.InboxID}}, &up)
	if !slices.Equal(up.EventTypes, []string{"message.sent", "message.delivered"}) || !slices.Equal(up.InboxIDs, []string{in.InboxID}) {
		t.Fatalf("updated = %+v", up)
	}
	var removed wire.Webhook
	e.ok("PATCH", "/v0/webhooks/"+wh.WebhookID, map[string]any{"event_types": []string{}, "remove_inbox_ids": []string{in.InboxID}}, &removed)
	if len(removed.InboxIDs) != 0 || len(removed.EventTypes) != 2 {
		t.Fatalf("after removing = %+v", removed)
	}
	e.wantError(e.do("PATCH", "/v0/webhooks/"+wh.WebhookID, e.key, map[string]any{"add_inbox_ids": []string{"nobody@pigeon.test"}}), 400, "ValidationError")

	var list wire.ListWebhooksResponse
	e.ok("GET", "/v0/webhooks", nil, &list)
	if list.Count != 1 || list.Webhooks[0].WebhookID != wh.WebhookID {
		t.Fatalf("list = %+v", list)
	}
	if r := e.do("DELETE", "/v0/webhooks/"+wh.WebhookID, e.key, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete = %d", r.status)
	}
	e.wantError(e.do("GET", "/v0/webhooks/"+wh.WebhookID, e.key, nil), 404, "NotFoundError")
}

func TestWebhookValidation(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name   string
		body   map[string]any
		status int
		err    string
	}{
		{"no url", map[string]any{"event_types": []string{"message.received"}}, 400, "ValidationError"},
		{"bad scheme", map[string]any{"url": "ftp://x.example", "event_types": []string{"message.received"}}, 400, "ValidationError"},
		{"no event types", map[string]any{"url": "https://x.example"}, 400, "ValidationError"},
		{"unknown event type", map[string]any{"url": "https://x.example", "event_types": []string{"message.exploded"}}, 400, "ValidationError"},
		{"empty headers", map[string]any{"url": "https://x.example", "event_types": []string{"message.sent"}, "headers": map[string]string{}}, 400, "ValidationError"},
		{"reserved header", map[string]any{"url": "https://x.example", "event_types": []string{"message.sent"}, "headers": map[string]string{"Content-Type": "x"}}, 400, "ValidationError"},
		{"unknown pod", map[string]any{"url": "https://x.example", "event_types": []string{"message.sent"}, "pod_ids": []string{"nope"}}, 400, "ValidationError"},
		{"loopback allowed locally", map[string]any{"url": "http://127.0.0.1:9/x", "event_types": []string{"message.sent"}}, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/v0/webhooks", e.key, c.body)
			if c.status == 200 {
				if r.status != 200 {
					t.Fatalf("= %d %s", r.status, r.body)
				}
				return
			}
			e.wantError(r, c.status, c.err)
		})
	}
}

func TestWebhookSSRFRefusedWhenDeployed(t *testing.T) {
	e := newEnv(t)
	cfg, err := config.FromLookup(func(k string) (string, bool) {
		return map[string]string{"PIGEON_MODE": "deployed", "PIGEON_DOMAIN": "pigeon.test"}[k], k == "PIGEON_MODE" || k == "PIGEON_DOMAIN"
	})
	if err != nil {
		t.Fatal(err)
	}
	e.h = New(Deps{Store: e.st, Blobs: e.blobs, Config: cfg, Log: slog.New(slog.DiscardHandler)})
	for _, u := range []string{"http://127.0.0.1/x", "http://localhost:8080/x", "http://169.254.169.254/latest", "http://10.0.0.1/", "http://[::1]/"} {
		e.wantError(e.do("POST", "/v0/webhooks", e.key, map[string]any{"url": u, "event_types": []string{"message.received"}}), 400, "ValidationError")
	}
	e.ok("POST", "/v0/webhooks", map[string]any{"url": "https://hooks.example.com/x", "event_types": []string{"message.received"}}, nil)
}

func TestWebhookRestrictedTypesNeedLabelPermission(t *testing.T) {
	e := newEnv(t)
	key := e.newKey("", "", map[string]bool{"webhook_create": true, "webhook_read": true})
	body := map[string]any{"url": "https://x.example", "event_types": []string{"message.received", "message.received.spam"}}
	we := e.wantError(e.do("POST", "/v0/webhooks", key, body), 403, "ForbiddenError")
	if we.Code != "missing_permission" || !strings.Contains(we.Message, "label_spam_read") {
		t.Fatalf("error = %+v", we)
	}
	spamKey := e.newKey("", "", map[string]bool{"webhook_create": true, "label_spam_read": true})
	e.okAs(spamKey, "POST", "/v0/webhooks", body, nil)
}

func TestWebhookScopes(t *testing.T) {
	e := newEnv(t)
	pod := e.createPod("team")
	other := e.createPod("other")
	in := e.createInbox("/v0/pods/"+pod.PodID+"/inboxes", map[string]any{"username": "a"})
	outside := e.createInbox("/v0/pods/"+other.PodID+"/inboxes", map[string]any{"username": "b"})
	podKey := e.newKey(pod.PodID, "", nil)
	inboxKey := e.newKey(pod.PodID, in.InboxID, nil)
	target := map[string]any{"url": "https://x.example", "event_types": []string{"message.received"}}

	var orgHook, podHook, inboxHook wire.Webhook
	e.ok("POST", "/v0/webhooks", target, &orgHook)
	e.okAs(podKey, "POST", "/v0/pods/"+pod.PodID+"/webhooks", map[string]any{"url": "https://x.example", "event_types": []string{"message.received"}, "inbox_ids": []string{in.InboxID}}, &podHook)
	if !slices.Equal(podHook.PodIDs, []string{pod.PodID}) || !slices.Equal(podHook.InboxIDs, []string{in.InboxID}) {
		t.Fatalf("pod webhook = %+v", podHook)
	}
	e.okAs(inboxKey, "POST", "/v0/inboxes/"+pathEscape(in.InboxID)+"/webhooks", target, &inboxHook)
	if !slices.Equal(inboxHook.InboxIDs, []string{in.InboxID}) {
		t.Fatalf("inbox webhook = %+v", inboxHook)
	}

	// Creates beyond the key's scope are refused; an inbox of another pod is not found.
	e.wantError(e.do("POST", "/v0/webhooks", podKey, target), 403, "ForbiddenError")
	e.wantError(e.do("POST", "/v0/pods/"+pod.PodID+"/webhooks", inboxKey, target), 403, "ForbiddenError")
	e.wantError(e.do("POST", "/v0/pods/"+other.PodID+"/webhooks", podKey, target), 404, "NotFoundError")
	e.wantError(e.do("POST", "/v0/pods/"+pod.PodID+"/webhooks", podKey, map[string]any{"url": "https://x.example", "event_types": []string{"message.received"}, "inbox_ids": []string{outside.InboxID}}), 400, "ValidationError")

	// Reads: who sees what.
	e.wantError(e.do("GET", "/v0/webhooks/"+orgHook.WebhookID, podKey, nil), 404, "NotFoundError")
	e.okAs(podKey, "GET", "/v0/webhooks/"+podHook.WebhookID, nil, nil)
	e.okAs(podKey, "GET", "/v0/webhooks/"+inboxHook.WebhookID, nil, nil)
	e.wantError(e.do("GET", "/v0/webhooks/"+podHook.WebhookID, inboxKey, nil), 404, "NotFoundError")
	e.okAs(inboxKey, "GET", "/v0/inboxes/"+pathEscape(in.InboxID)+"/webhooks/"+inboxHook.WebhookID, nil, nil)
	// The route's scope must match the webhook's.
	e.wantError(e.do("GET", "/v0/pods/"+pod.PodID+"/webhooks/"+inboxHook.WebhookID, e.key, nil), 404, "NotFoundError")
	e.wantError(e.do("GET", "/v0/inboxes/"+pathEscape(in.InboxID)+"/webhooks/"+podHook.WebhookID, e.key, nil), 404, "NotFoundError")

	count := func(key, path string) int {
		var l wire.ListWebhooksResponse
		e.okAs(key, "GET", path, nil, &l)
		return l.Count
	}
	if n := count(e.key, "/v0/webhooks"); n != 3 {
		t.Errorf("org list = %d", n)
	}
	if n := count(podKey, "/v0/webhooks"); n != 1 {
		t.Errorf("pod key's org list = %d", n)
	}
	if n := count(e.key, "/v0/pods/"+pod.PodID+"/webhooks"); n != 1 {
		t.Errorf("pod list = %d", n)
	}
	if n := count(inboxKey, "/v0/pods/"+pod.PodID+"/webhooks"); n != 0 {
		t.Errorf("inbox key's pod list = %d", n)
	}
	if n := count(inboxKey, "/v0/inboxes/"+pathEscape(in.InboxID)+"/webhooks"); n != 1 {
		t.Errorf("inbox list = %d", n)
	}
}

func TestInboxEventsRoute(t *testing.T) {
	e := newEnv(t)
	in := e.createInbox("/v0/inboxes", map[string]any{"username": "log"})
	var list wire.ListInboxEventsResponse
	e.ok("GET", "/v0/inboxes/"+pathEscape(in.InboxID)+"/events?limit=10", nil, &list)
	if list.Count != 0 || list.Events == nil || list.Limit != 10 {
		t.Fatalf("events = %+v", list)
	}
	if r := e.do("GET", "/v0/inboxes/"+pathEscape(in.InboxID)+"/events", e.key, nil); !strings.Contains(string(r.body), `"events":[]`) {
		t.Fatalf("body = %s", r.body)
	}
	e.wantError(e.do("GET", "/v0/inboxes/nobody%40pigeon.test/events", e.key, nil), 404, "NotFoundError")
}

// Deleting an inbox or a pod deletes the webhooks created at its scope: nothing stays listed
// at the organisation's scope, and a re-created inbox inherits nothing.
func TestScopedWebhooksGoWithTheirScope(t *testing.T) {
	e := newEnv(t)
	pod := e.createPod("team")
	in := e.createInbox("/v0/pods/"+pod.PodID+"/inboxes", map[string]any{"username": "a"})
	target := map[string]any{"url": "https://x.example", "event_types": []string{"message.received"}}
	var orgHook, podHook, inboxHook wire.Webhook
	e.ok("POST", "/v0/webhooks", target, &orgHook)
	e.ok("POST", "/v0/pods/"+pod.PodID+"/webhooks", target, &podHook)
	e.ok("POST", "/v0/inboxes/"+pathEscape(in.InboxID)+"/webhooks", target, &inboxHook)

	ids := func() []string {
		var list wire.ListWebhooksResponse
		e.ok("GET", "/v0/webhooks", nil, &list)
		var out []string
		for _, w := range list.Webhooks {
			out = append(out, w.WebhookID)
		}
		slices.Sort(out)
		return out
	}
	want := []string{orgHook.WebhookID, podHook.WebhookID, inboxHook.WebhookID}
	slices.Sort(want)
	if got := ids(); !slices.Equal(got, want) {
		t.Fatalf("before: %v, want %v", got, want)
	}
	for _, path := range []string{"/v0/inboxes/" + pathEscape(in.InboxID), "/v0/pods/" + pod.PodID} {
		if resp := e.do("DELETE", path, e.key, nil); resp.status != 204 {
			t.Fatalf("DELETE %s = %d", path, resp.status)
		}
	}
	e.wantError(e.do("GET", "/v0/webhooks/"+inboxHook.WebhookID, e.key, nil), 404, "NotFoundError")
	if got := ids(); !slices.Equal(got, []string{orgHook.WebhookID}) {
		t.Fatalf("after deleting the inbox and the pod: %v", got)
	}
}
