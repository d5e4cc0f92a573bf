package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/mail"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// The route matrix: every route the server registers, tried with an organisation key, a key
// of pod A and a key of inbox A1 on resources at each place they can live — the
// organisation, pod A, inbox A1, inbox A2 (also in pod A), pod B, inbox B1 — and on a place
// that does not exist. A route registered without a row here fails TestRouteMatrix, so a new
// route cannot skip its tenancy check.

// place is where a target resource lives.
type place int

const (
	atOrg place = iota
	atPodA
	atA1
	atA2
	atPodB
	atB1
	atGhost // a pod, inbox, thread, key… that does not exist
)

var placeNames = [...]string{"org", "podA", "inboxA1", "inboxA2", "podB", "inboxB1", "ghost"}

func (p place) String() string { return placeNames[p] }

// In a matrixRow's podOnOrg, inboxOnOrg and inboxOnPod, the zero value denies: the key gets
// 403, as a key outside its scope does. allowed lets the key use the route there; any other
// value is the status the key gets. So a row that says nothing grants nothing.
const allowed = 1

// matrixRow is one route and what the narrower keys get where the general rule does not say:
// a pod-A key on an organisation-level target, an inbox-A1 key on an organisation-level or a
// pod-A-level target (allowed, 403 or 404). Elsewhere the rule is fixed: the organisation key
// may do everything; the pod-A key everything in pod A and its inboxes; the inbox-A1 key
// everything in inbox A1; everything else answers exactly what a target that does not exist
// answers (403 or 404), so a key cannot learn what exists outside its scope.
type matrixRow struct {
	pattern    string
	body       any
	bodyFor    func(msg wire.Message) any // the body, when it names the place's message
	podOnOrg   int
	inboxOnOrg int
	inboxOnPod int
	alsoOK     int  // a status that counts as allowed besides 2xx
	consumes   bool // a success uses the target up (as DELETE does): each allowed call gets fresh fixtures
}

var routeMatrix = []matrixRow{
	{pattern: "GET /v0/inboxes", inboxOnOrg: allowed, podOnOrg: allowed},
	// Searches without q answer 400 where the key may search (the scope check comes first).
	{pattern: "GET /v0/inboxes/search", inboxOnOrg: allowed, podOnOrg: allowed, alsoOK: 400},
	{pattern: "GET /v0/pods/{pod_id}/inboxes/search", inboxOnPod: allowed, alsoOK: 400},
	{pattern: "GET /v0/inboxes/{inbox_id}/messages/search", alsoOK: 400},
	{pattern: "GET /v0/inboxes/{inbox_id}/threads/search", alsoOK: 400},
	{pattern: "GET /v0/pods/{pod_id}/threads/search", inboxOnPod: allowed, alsoOK: 400},
	{pattern: "GET /v0/threads/search", inboxOnOrg: allowed, podOnOrg: allowed, alsoOK: 400},
	{pattern: "POST /v0/inboxes", podOnOrg: allowed, body: map[string]any{}, inboxOnOrg: 403},
	{pattern: "GET /v0/inboxes/{inbox_id}"},
	{pattern: "PATCH /v0/inboxes/{inbox_id}", body: map[string]any{"display_name": "x"}},
	{pattern: "DELETE /v0/inboxes/{inbox_id}"},
	{pattern: "GET /v0/pods/{pod_id}/inboxes", inboxOnPod: allowed},
	{pattern: "POST /v0/pods/{pod_id}/inboxes", body: map[string]any{}, inboxOnPod: 403},
	{pattern: "GET /v0/pods/{pod_id}/inboxes/{inbox_id}"},
	{pattern: "PATCH /v0/pods/{pod_id}/inboxes/{inbox_id}", body: map[string]any{"display_name": "x"}},
	{pattern: "DELETE /v0/pods/{pod_id}/inboxes/{inbox_id}"},

	{pattern: "GET /v0/pods", inboxOnOrg: allowed, podOnOrg: allowed},
	{pattern: "POST /v0/pods", body: map[string]any{"name": "x"}, podOnOrg: 403, inboxOnOrg: 403},
	{pattern: "GET /v0/pods/{pod_id}", inboxOnPod: allowed},
	{pattern: "DELETE /v0/pods/{pod_id}", inboxOnPod: 403, alsoOK: http.StatusBadRequest}, // pods with inboxes: 400

	{pattern: "GET /v0/inboxes/{inbox_id}/messages"},
	{pattern: "GET /v0/inboxes/{inbox_id}/messages/{message_id}"},
	{pattern: "GET /v0/inboxes/{inbox_id}/messages/{message_id}/raw"},
	{pattern: "GET /v0/inboxes/{inbox_id}/messages/{message_id}/attachments/{attachment_id}"},
	{pattern: "POST /v0/inboxes/{inbox_id}/messages/send", body: map[string]any{"to": "x@example.com", "subject": "s", "text": "t"}},
	{pattern: "POST /v0/inboxes/{inbox_id}/messages/{message_id}/reply", body: map[string]any{"text": "t"}},
	{pattern: "POST /v0/inboxes/{inbox_id}/messages/{message_id}/reply-all", body: map[string]any{"text": "t"}},
	{pattern: "POST /v0/inboxes/{inbox_id}/messages/{message_id}/forward", body: map[string]any{"to": "x@example.com", "text": "t"}},
	{pattern: "PATCH /v0/inboxes/{inbox_id}/messages/{message_id}", body: map[string]any{"add_labels": []string{"x"}}},
	{pattern: "DELETE /v0/inboxes/{inbox_id}/messages/{message_id}"},
	{pattern: "POST /v0/inboxes/{inbox_id}/messages/batch-get", bodyFor: func(m wire.Message) any {
		return map[string]any{"message_ids": []string{m.MessageID}}
	}},
	{pattern: "POST /v0/inboxes/{inbox_id}/messages/batch-update", bodyFor: func(m wire.Message) any {
		return map[string]any{"message_ids": []string{m.MessageID}, "add_labels": []string{"x"}}
	}},
	{pattern: "GET /v0/inboxes/{inbox_id}/events"},

	{pattern: "GET /v0/inboxes/{inbox_id}/threads"},
	{pattern: "GET /v0/inboxes/{inbox_id}/threads/{thread_id}"},
	{pattern: "GET /v0/inboxes/{inbox_id}/threads/{thread_id}/attachments/{attachment_id}"},
	{pattern: "GET /v0/pods/{pod_id}/threads", inboxOnPod: allowed},
	{pattern: "GET /v0/pods/{pod_id}/threads/{thread_id}"},
	{pattern: "GET /v0/pods/{pod_id}/threads/{thread_id}/attachments/{attachment_id}"},
	{pattern: "GET /v0/threads", inboxOnOrg: allowed, podOnOrg: allowed},
	{pattern: "GET /v0/threads/{thread_id}"},
	{pattern: "GET /v0/threads/{thread_id}/attachments/{attachment_id}"},
	{pattern: "PATCH /v0/inboxes/{inbox_id}/threads/{thread_id}", body: map[string]any{"add_labels": []string{"x"}}},
	{pattern: "DELETE /v0/inboxes/{inbox_id}/threads/{thread_id}"},
	{pattern: "PATCH /v0/pods/{pod_id}/threads/{thread_id}", body: map[string]any{"add_labels": []string{"x"}}},
	{pattern: "DELETE /v0/pods/{pod_id}/threads/{thread_id}"},
	{pattern: "PATCH /v0/threads/{thread_id}", body: map[string]any{"add_labels": []string{"x"}}},
	{pattern: "DELETE /v0/threads/{thread_id}"},

	{pattern: "GET /v0/organizations", inboxOnOrg: allowed, podOnOrg: allowed},
	{pattern: "GET /v0/auth/me", inboxOnOrg: allowed, podOnOrg: allowed},

	{pattern: "GET /v0/api-keys", inboxOnOrg: allowed, podOnOrg: allowed},
	{pattern: "POST /v0/api-keys", body: map[string]any{"name": "k"}, podOnOrg: 403, inboxOnOrg: 403},
	{pattern: "GET /v0/api-keys/{api_key_id}", podOnOrg: 404, inboxOnOrg: 404, inboxOnPod: 404},
	{pattern: "PATCH /v0/api-keys/{api_key_id}", body: map[string]any{"name": "k2"}, podOnOrg: 404, inboxOnOrg: 404, inboxOnPod: 404},
	{pattern: "DELETE /v0/api-keys/{api_key_id}", podOnOrg: 404, inboxOnOrg: 404, inboxOnPod: 404},
	{pattern: "GET /v0/pods/{pod_id}/api-keys", inboxOnPod: allowed},
	{pattern: "POST /v0/pods/{pod_id}/api-keys", body: map[string]any{"name": "k"}, inboxOnPod: 403},
	{pattern: "PATCH /v0/pods/{pod_id}/api-keys/{api_key_id}", body: map[string]any{"name": "k2"}, inboxOnPod: 404},
	{pattern: "DELETE /v0/pods/{pod_id}/api-keys/{api_key_id}", inboxOnPod: 404},
	{pattern: "GET /v0/inboxes/{inbox_id}/api-keys"},
	{pattern: "POST /v0/inboxes/{inbox_id}/api-keys", body: map[string]any{"name": "k"}},
	{pattern: "PATCH /v0/inboxes/{inbox_id}/api-keys/{api_key_id}", body: map[string]any{"name": "k2"}},
	{pattern: "DELETE /v0/inboxes/{inbox_id}/api-keys/{api_key_id}"},

	// Webhooks: an organisation webhook is the organisation keys' alone, a pod webhook is not
	// seen by the pod's inbox keys, and pod routes reach pod webhooks only (webhooks.go).
	{pattern: "GET /v0/webhooks", inboxOnOrg: allowed, podOnOrg: allowed},
	{pattern: "POST /v0/webhooks", body: webhookBody, podOnOrg: 403, inboxOnOrg: 403},
	{pattern: "GET /v0/webhooks/{webhook_id}", podOnOrg: 404, inboxOnOrg: 404, inboxOnPod: 404},
	{pattern: "PATCH /v0/webhooks/{webhook_id}", body: webhookUpdate, podOnOrg: 404, inboxOnOrg: 404, inboxOnPod: 404},
	{pattern: "DELETE /v0/webhooks/{webhook_id}", podOnOrg: 404, inboxOnOrg: 404, inboxOnPod: 404},
	{pattern: "GET /v0/webhooks/{webhook_id}/headers", podOnOrg: 404, inboxOnOrg: 404, inboxOnPod: 404},
	{pattern: "PATCH /v0/webhooks/{webhook_id}/headers", body: webhookHeaders, podOnOrg: 404, inboxOnOrg: 404, inboxOnPod: 404},
	{pattern: "GET /v0/pods/{pod_id}/webhooks", inboxOnPod: allowed},
	{pattern: "POST /v0/pods/{pod_id}/webhooks", body: webhookBody, inboxOnPod: 403},
	{pattern: "GET /v0/pods/{pod_id}/webhooks/{webhook_id}", inboxOnPod: 404},
	{pattern: "PATCH /v0/pods/{pod_id}/webhooks/{webhook_id}", body: webhookUpdate, inboxOnPod: 404},
	{pattern: "DELETE /v0/pods/{pod_id}/webhooks/{webhook_id}", inboxOnPod: 404},
	{pattern: "GET /v0/pods/{pod_id}/webhooks/{webhook_id}/headers", inboxOnPod: 404},
	{pattern: "PATCH /v0/pods/{pod_id}/webhooks/{webhook_id}/headers", body: webhookHeaders, inboxOnPod: 404},
	{pattern: "GET /v0/inboxes/{inbox_id}/webhooks"},
	{pattern: "POST /v0/inboxes/{inbox_id}/webhooks", body: webhookBody},
	{pattern: "GET /v0/inboxes/{inbox_id}/webhooks/{webhook_id}"},
	{pattern: "PATCH /v0/inboxes/{inbox_id}/webhooks/{webhook_id}", body: webhookUpdate},
	{pattern: "DELETE /v0/inboxes/{inbox_id}/webhooks/{webhook_id}"},
	{pattern: "GET /v0/inboxes/{inbox_id}/webhooks/{webhook_id}/headers"},
	{pattern: "PATCH /v0/inboxes/{inbox_id}/webhooks/{webhook_id}/headers", body: webhookHeaders},

	// Drafts: reads at the three scopes, changes at inbox scope; a send consumes the draft.
	{pattern: "GET /v0/inboxes/{inbox_id}/drafts"},
	{pattern: "GET /v0/inboxes/{inbox_id}/drafts/{draft_id}"},
	{pattern: "GET /v0/inboxes/{inbox_id}/drafts/{draft_id}/attachments/{attachment_id}"},
	{pattern: "GET /v0/pods/{pod_id}/drafts", inboxOnPod: allowed},
	{pattern: "GET /v0/pods/{pod_id}/drafts/{draft_id}", inboxOnPod: allowed},
	{pattern: "GET /v0/pods/{pod_id}/drafts/{draft_id}/attachments/{attachment_id}", inboxOnPod: allowed},
	{pattern: "GET /v0/drafts", inboxOnOrg: allowed, podOnOrg: allowed},
	{pattern: "GET /v0/drafts/{draft_id}"},
	{pattern: "GET /v0/drafts/{draft_id}/attachments/{attachment_id}"},
	{pattern: "POST /v0/inboxes/{inbox_id}/drafts", body: map[string]any{"text": "t"}},
	{pattern: "PATCH /v0/inboxes/{inbox_id}/drafts/{draft_id}", body: map[string]any{"text": "t2"}},
	{pattern: "DELETE /v0/inboxes/{inbox_id}/drafts/{draft_id}"},
	{pattern: "POST /v0/inboxes/{inbox_id}/drafts/{draft_id}/send", body: map[string]any{}, consumes: true},

	{pattern: "GET /v0/lists/{direction}/{type}", podOnOrg: 403, inboxOnOrg: 403},
	{pattern: "POST /v0/lists/{direction}/{type}", body: map[string]any{"entry": "new.example"}, podOnOrg: 403, inboxOnOrg: 403},
	{pattern: "GET /v0/lists/{direction}/{type}/{entry}", podOnOrg: 403, inboxOnOrg: 403},
	{pattern: "DELETE /v0/lists/{direction}/{type}/{entry}", podOnOrg: 403, inboxOnOrg: 403},
	{pattern: "GET /v0/pods/{pod_id}/lists/{direction}/{type}", inboxOnPod: 403},
	{pattern: "POST /v0/pods/{pod_id}/lists/{direction}/{type}", body: map[string]any{"entry": "new.example"}, inboxOnPod: 403},
	{pattern: "GET /v0/pods/{pod_id}/lists/{direction}/{type}/{entry}", inboxOnPod: 403},
	{pattern: "DELETE /v0/pods/{pod_id}/lists/{direction}/{type}/{entry}", inboxOnPod: 403},
	{pattern: "GET /v0/inboxes/{inbox_id}/lists/{direction}/{type}"},
	{pattern: "POST /v0/inboxes/{inbox_id}/lists/{direction}/{type}", body: map[string]any{"entry": "new.example"}},
	{pattern: "GET /v0/inboxes/{inbox_id}/lists/{direction}/{type}/{entry}"},
	{pattern: "DELETE /v0/inboxes/{inbox_id}/lists/{direction}/{type}/{entry}"},
}

var (
	webhookBody    = map[string]any{"url": "https://receiver.example/hook", "event_types": []string{"message.received"}}
	webhookHeaders = map[string]any{"headers": map[string]any{"X-Token": "t"}}
	webhookUpdate  = map[string]any{"event_types": []string{"message.received", "message.sent"}}
)

// targets are the places a route's resources can be at, the place that does not exist last.
func (row matrixRow) targets() []place {
	has := func(w string) bool { return strings.Contains(row.pattern, "{"+w+"}") }
	switch {
	case has("inbox_id"), has("thread_id"), has("draft_id") && !has("pod_id"):
		return []place{atA1, atA2, atB1, atGhost}
	case has("webhook_id") && has("pod_id"):
		return []place{atPodA, atPodB, atGhost}
	case has("webhook_id"):
		return []place{atOrg, atPodA, atA1, atA2, atPodB, atB1, atGhost}
	case has("api_key_id") && has("pod_id"):
		return []place{atPodA, atA1, atA2, atPodB, atB1, atGhost}
	case has("api_key_id"):
		return []place{atOrg, atPodA, atA1, atA2, atPodB, atB1, atGhost}
	case has("pod_id"):
		return []place{atPodA, atPodB, atGhost}
	}
	return []place{atOrg}
}

// expect is what caller ("org", "pod" or "inbox") gets at a place: allowed, or a status;
// -1 means "what the place that does not exist answers".
func (row matrixRow) expect(caller string, at place) int {
	const likeGhost = -1
	if at == atGhost {
		return likeGhost
	}
	denyByDefault := func(v int) int {
		if v == 0 {
			return http.StatusForbidden
		}
		return v
	}
	switch caller {
	case "pod":
		switch at {
		case atOrg:
			return denyByDefault(row.podOnOrg)
		case atPodB, atB1:
			return likeGhost
		}
	case "inbox":
		switch at {
		case atOrg:
			return denyByDefault(row.inboxOnOrg)
		case atPodA:
			return denyByDefault(row.inboxOnPod)
		case atA2, atPodB, atB1:
			return likeGhost
		}
	}
	return allowed
}

// matrixFixtures are the resources of the matrix: two pods, three inboxes with a message
// (and its attachment) each, an API key and a list entry at every place, and the three
// caller keys.
type matrixFixtures struct {
	podA, podB string
	inbox      map[place]string
	msg        map[place]wire.Message
	key        map[place]string
	webhook    map[place]string
	draft      map[place]string
	callers    map[string]string
}

const matrixEntry = "blocked.example"

func newMatrixEnv(t *testing.T) (*env, *matrixFixtures) {
	e := newEnv(t)
	ctx := context.Background()
	f := &matrixFixtures{inbox: map[place]string{}, msg: map[place]wire.Message{}, key: map[place]string{}, webhook: map[place]string{}, draft: map[place]string{}}
	f.podA, f.podB = e.createPod("A").PodID, e.createPod("B").PodID
	t0 := time.Date(2035, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, in := range []struct {
		at       place
		pod, usr string
	}{{atA1, f.podA, "a1"}, {atA2, f.podA, "a2"}, {atB1, f.podB, "b1"}} {
		f.inbox[in.at] = e.createInbox("/v0/pods/"+in.pod+"/inboxes", map[string]any{"username": in.usr}).InboxID
		f.msg[in.at] = e.deliver(f.inbox[in.at], "<m-"+in.usr+"@test>", "", "Hello", t0, nil, mail.Attachment{
			Attachment: wire.Attachment{AttachmentID: "att1", Filename: "a.txt", ContentType: "text/plain", ContentDisposition: "attachment"},
			Content:    []byte("attached"),
		})
	}
	for _, at := range []place{atA1, atA2, atB1} {
		in, err := e.st.GetInbox(ctx, f.inbox[at])
		if err != nil {
			t.Fatal(err)
		}
		d, _, err := e.st.CreateDraft(ctx, in, wire.Draft{To: []string{"x@example.com"}, Text: "t"}, []mail.Attachment{{
			Attachment: wire.Attachment{AttachmentID: "att1", Filename: "a.txt", ContentType: "text/plain"}, Content: []byte("draft"),
		}})
		if err != nil {
			t.Fatal(err)
		}
		f.draft[at] = d.DraftID
	}
	f.draft[atPodA], f.draft[atPodB] = f.draft[atA1], f.draft[atB1]
	for _, at := range []place{atOrg, atPodA, atA1, atA2, atPodB, atB1} {
		pod, inbox := f.podOf(at), f.inbox[at]
		k, err := e.st.APIKeyByHash(ctx, auth.Hash(e.newKey(pod, inbox, nil)))
		if err != nil {
			t.Fatal(err)
		}
		f.key[at] = k.APIKeyID
		e.ok("POST", f.scopePath(at)+"/lists/receive/block", map[string]any{"entry": matrixEntry}, nil)
		var wh wire.Webhook
		e.ok("POST", f.scopePath(at)+"/webhooks", webhookBody, &wh)
		f.webhook[at] = wh.WebhookID
	}
	f.callers = map[string]string{"org": e.key, "pod": e.newKey(f.podA, "", nil), "inbox": e.newKey(f.podA, f.inbox[atA1], nil)}
	return e, f
}

func (f *matrixFixtures) podOf(at place) string {
	switch at {
	case atPodA, atA1, atA2:
		return f.podA
	case atPodB, atB1:
		return f.podB
	case atGhost:
		return "pod_ghost"
	}
	return ""
}

// scopePath is the path prefix of a place's own scope.
func (f *matrixFixtures) scopePath(at place) string {
	switch at {
	case atPodA, atPodB:
		return "/v0/pods/" + f.podOf(at)
	case atA1, atA2, atB1:
		return "/v0/inboxes/" + pathEscape(f.inbox[at])
	}
	return "/v0"
}

// message is the message at a place (a made-up one at the place that does not exist).
func (f *matrixFixtures) message(at place) wire.Message {
	if at == atGhost {
		return wire.Message{MessageID: "<ghost@test>", ThreadID: "thr_ghost"}
	}
	return f.msg[at]
}

// path fills the pattern's wildcards with the resources at a place.
func (f *matrixFixtures) path(pattern string, at place) string {
	_, path, _ := strings.Cut(pattern, " ")
	inbox, msg, key, wh, draft := f.inbox[at], f.message(at), f.key[at], f.webhook[at], f.draft[at]
	if at == atGhost {
		inbox, key, wh, draft = "ghost@pigeon.test", "ak_ghost", "ep_ghost", "drf_ghost"
	}
	return strings.NewReplacer(
		"{pod_id}", f.podOf(at), "{inbox_id}", pathEscape(inbox),
		"{message_id}", pathEscape(msg.MessageID), "{thread_id}", msg.ThreadID, "{attachment_id}", "att1",
		"{api_key_id}", key, "{webhook_id}", wh, "{draft_id}", draft, "{direction}", "receive", "{type}", "block", "{entry}", matrixEntry,
	).Replace(path)
}

func TestRouteMatrix(t *testing.T) {
	e, f := newMatrixEnv(t)

	// Every registered route has a row, and every row is a registered route.
	registered := newServer(Deps{Store: e.st, Blobs: e.blobs}).patterns
	var rows []string
	for _, row := range routeMatrix {
		rows = append(rows, row.pattern)
		if !slices.Contains(registered, row.pattern) {
			t.Errorf("matrix row %q is not a registered route", row.pattern)
		}
	}
	for _, p := range registered {
		if !slices.Contains(rows, p) {
			t.Errorf("route %q is not in routeMatrix (matrix_test.go): add a row saying what pod and inbox keys may do with it", p)
		}
	}

	for _, row := range routeMatrix {
		method, _, _ := strings.Cut(row.pattern, " ")
		t.Run(row.pattern, func(t *testing.T) {
			for _, caller := range []string{"org", "pod", "inbox"} {
				ghost := -1
				for _, at := range row.targets() {
					want := row.expect(caller, at)
					env, fx := e, f
					if (method == "DELETE" || row.consumes) && want == allowed {
						env, fx = newMatrixEnv(t) // a delete that works changes the fixtures
					}
					path := fx.path(row.pattern, at)
					body := row.body
					if row.bodyFor != nil {
						body = row.bodyFor(fx.message(at))
					}
					resp := env.do(method, path, fx.callers[caller], body)
					where := fmt.Sprintf("%s key, %s: %s %s", caller, at, method, path)
					switch {
					case at == atGhost:
						if resp.status != http.StatusNotFound && resp.status != http.StatusForbidden {
							t.Errorf("%s = %d %s, want 404 (or 403)", where, resp.status, resp.body)
						}
						if caller == "org" && resp.status != http.StatusNotFound {
							t.Errorf("%s = %d %s, want 404", where, resp.status, resp.body)
						}
						if ghost != -1 && resp.status != ghost {
							t.Errorf("%s = %d, but a resource outside the key's scope answered %d: the key can tell them apart", where, resp.status, ghost)
						}
						var we wire.Error
						if resp.header.Get("Content-Type") != "application/json" || json.Unmarshal(resp.body, &we) != nil || we.Name == "" || we.Message == "" {
							t.Errorf("%s: not an error body: %s", where, resp.body)
						}
					case want == allowed:
						if resp.status/100 != 2 && resp.status != row.alsoOK {
							t.Errorf("%s = %d %s, want success", where, resp.status, resp.body)
						}
					case want == -1:
						if resp.status != http.StatusNotFound && resp.status != http.StatusForbidden {
							t.Errorf("%s = %d %s, want 404 (or 403)", where, resp.status, resp.body)
						} else if ghost == -1 {
							ghost = resp.status
						} else if resp.status != ghost {
							t.Errorf("%s = %d, other targets outside the scope %d", where, resp.status, ghost)
						}
					default:
						if resp.status != want {
							t.Errorf("%s = %d %s, want %d", where, resp.status, resp.body, want)
						}
					}
				}
			}
		})
	}
}
