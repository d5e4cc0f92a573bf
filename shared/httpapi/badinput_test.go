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

	ids := strings.NewReplacer(
		"{inbox_id}", pathEscape(in.InboxID), "{pod_id}", pod.PodID, "{message_id}", pathEscape(msg.MessageID),
		"{thread_id}", msg.ThreadID, "{attachment_id}", "att_none", "{webhook_id}", hook.WebhookID,
		"{draft_id}", draft.DraftID, "{api_key_id}", key.APIKeyID, "{direction}", "send", "{type}", "block",
		"{entry}", "x.test",
	)
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
