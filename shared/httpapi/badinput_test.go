package httpapi

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Every registered route, fed malformed and wrong-typed input against real resources (so the
// handler gets past its lookups to the body), answers below 500 and, when it refuses, in the
// API's error shape with application/json. New routes are covered automatically.
func TestNoRouteAnswers500ToBadInput(t *testing.T) {
	e := newEnv(t)
	ids := e.routeFixtures()
	wrongTypes := map[string]any{}
	for _, f := range []string{"to", "cc", "bcc", "reply_to", "labels", "text", "html", "subject", "username", "domain",
		"display_name", "metadata", "url", "event_types", "add_labels", "remove_labels", "message_ids", "headers",
		"attachments", "entry", "reason", "name", "permissions", "send_at", "inbox_ids", "pod_ids", "client_id",
		"reply_all", "in_reply_to", "forward_of", "add_inbox_ids", "remove_headers", "delivery"} {
		wrongTypes[f] = []any{map[string]any{"x": 1}}
	}
	wrong, _ := json.Marshal(wrongTypes)
	bodies := []string{"{", "[]", "null", `"text"`, "12", string(wrong), `{"to":"` + strings.Repeat("a", 70000) + `"}`}
	queries := []string{"", "?limit=-5&page_token=%25%25&before=yesterday&after=1e9&ascending=maybe&labels=%5B1%2C2%5D&include_spam=x&q=%00&status=nope&permanent=maybe&type=x"}

	seen := map[int]int{}
	defer func() { t.Logf("statuses: %v", seen) }()
	// Deletes last, so the fixtures are there for every other route.
	patterns := slices.Clone(newServer(Deps{}).patterns)
	slices.SortStableFunc(patterns, func(a, b string) int {
		isDelete := func(p string) int {
			if strings.HasPrefix(p, "DELETE ") {
				return 1
			}
			return 0
		}
		return cmp.Compare(isDelete(a), isDelete(b))
	})
	for _, pattern := range patterns {
		method, path, _ := strings.Cut(pattern, " ")
		path = ids.Replace(path)
		for _, q := range queries {
			var reqs []any
			if method == "POST" || method == "PATCH" {
				for _, b := range bodies {
					reqs = append(reqs, b)
				}
			} else {
				reqs = []any{nil}
			}
			for _, b := range reqs {
				resp := e.do(method, path+q, e.key, b)
				what := method + " " + path + q
				if bs, ok := b.(string); ok {
					what += " " + bs[:min(len(bs), 40)]
				}
				seen[resp.status]++
				if resp.status >= 500 {
					t.Errorf("%s = %d %s", what, resp.status, resp.body)
					continue
				}
				if resp.status < 400 {
					continue
				}
				if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("%s = %d with Content-Type %q", what, resp.status, ct)
				}
				var body wire.Error
				if err := json.Unmarshal(resp.body, &body); err != nil || body.Name == "" || body.Message == "" {
					t.Errorf("%s = %d, body not the error shape: %s", what, resp.status, resp.body)
				}
			}
		}
	}
}

// routeFixtures makes one resource of every kind (a pod, an inbox in it, a received message,
// a webhook, a draft, an API key, a list entry) and returns what fills in route patterns'
// wildcards with them.
func (e *env) routeFixtures() *strings.Replacer {
	t := e.t
	t.Helper()
	pod := e.createPod("team")
	in := e.createInbox("/v0/pods/"+pod.PodID+"/inboxes", map[string]any{"username": "agent"})
	msg := e.deliver(in.InboxID, "<bad@host>", "", "Hello", time.Now().Add(-time.Hour), nil)
	var hook wire.Webhook
	e.ok("POST", "/v0/webhooks", map[string]any{"url": "https://x.example", "event_types": []string{"message.received"}}, &hook)
	var draft wire.Draft
	e.ok("POST", "/v0/inboxes/"+pathEscape(in.InboxID)+"/drafts", map[string]any{"to": []string{"a@x.test"}, "text": "hi"}, &draft)
	var key struct {
		APIKeyID string `json:"api_key_id"`
	}
	e.ok("POST", "/v0/api-keys", map[string]any{"name": "k"}, &key)
	e.ok("POST", "/v0/lists/send/block", map[string]any{"entry": "x.test"}, nil)

	return strings.NewReplacer(
		"{inbox_id}", pathEscape(in.InboxID), "{pod_id}", pod.PodID, "{message_id}", pathEscape(msg.MessageID),
		"{thread_id}", msg.ThreadID, "{attachment_id}", "att_none", "{webhook_id}", hook.WebhookID,
		"{draft_id}", draft.DraftID, "{api_key_id}", key.APIKeyID, "{direction}", "send", "{type}", "block",
		"{entry}", "x.test",
	)
}

// Every route that takes a body refuses a member it does not know, as a 400 ValidationError
// naming it, before doing anything else; so do the routes that share a body type with other
// routes for the fields only those have (notOnRoute), nested members, and the fields that
// once changed what a request did when they were dropped (pod_id on key and inbox creation).
func TestUnknownBodyFieldsAreRefused(t *testing.T) {
	e := newEnv(t)
	ids := e.routeFixtures()
	wantUnknown := func(t *testing.T, method, path string, body any, field string) {
		t.Helper()
		resp := e.do(method, path, e.key, body)
		var we wire.Error
		_ = json.Unmarshal(resp.body, &we)
		if resp.status != 400 || we.Name != "ValidationError" || len(we.Errors) != 1 || we.Errors[0].Path != field || !strings.Contains(we.Message, field) {
			t.Fatalf("%s %s = %d %s, want a 400 ValidationError naming %s", method, path, resp.status, resp.body, field)
		}
	}
	// Webhook and key routes under a pod or an inbox reach webhooks and keys made there.
	scoped := map[string]string{}
	for _, prefix := range []string{"/v0/pods/{pod_id}", "/v0/inboxes/{inbox_id}"} {
		var hook wire.Webhook
		e.ok("POST", ids.Replace(prefix+"/webhooks"), map[string]any{"url": "https://x.example", "event_types": []string{"message.received"}}, &hook)
		scoped[prefix+"/webhooks/{webhook_id}"] = prefix + "/webhooks/" + hook.WebhookID
		var key wire.CreateAPIKeyResponse
		e.ok("POST", ids.Replace(prefix+"/api-keys"), map[string]any{"name": "scoped"}, &key)
		scoped[prefix+"/api-keys/{api_key_id}"] = prefix + "/api-keys/" + key.APIKeyID
	}
	fill := func(path string) string {
		for pattern, p := range scoped {
			path = strings.Replace(path, pattern, p, 1)
		}
		return ids.Replace(path)
	}
	bodies := 0
	for _, pattern := range newServer(Deps{}).patterns {
		method, path, _ := strings.Cut(pattern, " ")
		if method != "POST" && method != "PATCH" {
			continue
		}
		bodies++
		t.Run(pattern, func(t *testing.T) {
			wantUnknown(t, method, fill(path), map[string]any{"no_such_field": true}, "no_such_field")
			for _, field := range notOnRoute[pattern] {
				wantUnknown(t, method, fill(path), map[string]any{field: []string{"x"}}, field)
			}
		})
	}
	if bodies < 20 {
		t.Fatalf("only %d routes with bodies", bodies)
	}
	for pattern := range notOnRoute {
		if !slices.Contains(newServer(Deps{}).patterns, pattern) {
			t.Errorf("notOnRoute names %s, which is not a route", pattern)
		}
	}

	for _, c := range []struct {
		method, path string
		body         any
		field        string
	}{
		{"POST", "/v0/api-keys", map[string]any{"name": "podA only", "pod_id": "{pod_id}"}, "pod_id"},
		{"POST", "/v0/api-keys", map[string]any{"name": "x", "client_id": "c"}, "client_id"},
		{"POST", "/v0/pods/{pod_id}/api-keys", map[string]any{"name": "x", "inbox_id": "{inbox_id}"}, "inbox_id"},
		{"POST", "/v0/inboxes", map[string]any{"username": "elsewhere", "pod_id": "{pod_id}"}, "pod_id"},
		{"PATCH", "/v0/inboxes/{inbox_id}", map[string]any{"display_name": "x", "Pod_ID": "p"}, "Pod_ID"},
		{"POST", "/v0/inboxes/{inbox_id}/messages/send", map[string]any{"to": "a@x.test", "text": "t", "attachments": []any{map[string]any{"content": "eA==", "filename": "a", "size": 1}}}, "attachments[0].size"},
		{"POST", "/v0/inboxes/{inbox_id}/messages/{message_id}/reply-all", map[string]any{"text": "t", "cc": "a@x.test"}, "cc"},
		{"POST", "/v0/inboxes/{inbox_id}/drafts", map[string]any{"text": "t", "add_attachments": []any{}}, "add_attachments"},
		{"PATCH", "/v0/inboxes/{inbox_id}/drafts/{draft_id}", map[string]any{"text": "t", "labels": []string{"a"}}, "labels"},
		{"POST", "/v0/pods/{pod_id}/webhooks", map[string]any{"url": "https://x.example", "event_types": []string{"message.received"}, "pod_ids": []string{"{pod_id}"}}, "pod_ids"},
	} {
		body, _ := json.Marshal(c.body)
		wantUnknown(t, c.method, fill(c.path), ids.Replace(string(body)), c.field)
	}
	// Documented fields, in their documented case, still pass.
	var k wire.CreateAPIKeyResponse
	e.ok("POST", ids.Replace("/v0/pods/{pod_id}/api-keys"), map[string]any{"name": "pod key", "permissions": map[string]bool{"inbox_read": true}}, &k)
	if k.PodID == "" {
		t.Fatalf("pod key = %+v", k)
	}
}
