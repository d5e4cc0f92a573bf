package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/mail"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

func TestDraftCRUD(t *testing.T) {
	e := newEnv(t)
	pod := e.createPod("P")
	in := e.createInbox("/v0/pods/"+pod.PodID+"/inboxes", map[string]any{"username": "agent"})
	base := "/v0/inboxes/" + pathEscape(in.InboxID) + "/drafts"

	var d wire.Draft
	e.ok("POST", base, map[string]any{
		"to": []string{"Bob <bob@example.com>"}, "subject": "Plan", "text": "Hello   Bob,\n\nthe plan.",
		"labels": []string{"Todo"}, "client_id": "c-1",
		"attachments": []map[string]any{{"filename": "a.txt", "content_type": "text/plain", "content": base64.StdEncoding.EncodeToString([]byte("attached"))}},
	}, &d)
	if !strings.HasPrefix(d.DraftID, "drf_") || d.InboxID != in.InboxID || d.ClientID != "c-1" || d.Subject != "Plan" ||
		!slices.Equal(d.Labels, []string{"todo"}) || d.Preview != "Hello Bob, the plan." || d.SendStatus != "" || d.CreatedAt.IsZero() {
		t.Fatalf("draft = %+v", d)
	}
	if len(d.Attachments) != 1 || d.Attachments[0].Size != 8 || d.Attachments[0].AttachmentID == "" {
		t.Fatalf("attachments = %+v", d.Attachments)
	}
	var again wire.Draft
	e.ok("POST", base, map[string]any{"subject": "other", "client_id": "c-1"}, &again)
	if again.DraftID != d.DraftID || again.Subject != "Plan" {
		t.Fatalf("client_id repeat = %+v", again)
	}
	var plain wire.Draft
	e.ok("POST", base, nil, &plain) // no body: an empty draft
	if plain.Labels == nil || plain.DraftID == d.DraftID {
		t.Fatalf("empty draft = %+v", plain)
	}

	// The draft at all three scopes, and its attachment.
	for _, p := range []string{base + "/" + d.DraftID, "/v0/pods/" + pod.PodID + "/drafts/" + d.DraftID, "/v0/drafts/" + d.DraftID} {
		var got wire.Draft
		e.ok("GET", p, nil, &got)
		if got.DraftID != d.DraftID || got.Text != d.Text || len(got.Attachments) != 1 {
			t.Fatalf("GET %s = %+v", p, got)
		}
		var att wire.AttachmentResponse
		e.ok("GET", p+"/attachments/"+d.Attachments[0].AttachmentID, nil, &att)
		if body, _ := fetch(t, att.DownloadURL); body != "attached" || att.Filename != "a.txt" {
			t.Fatalf("attachment = %+v %q", att, body)
		}
	}
	e.wantError(e.do("GET", base+"/"+d.DraftID+"/attachments/att_nope", e.key, nil), 404, "NotFoundError")
	e.wantError(e.do("GET", "/v0/drafts/drf_nope", e.key, nil), 404, "NotFoundError")

	// Lists: most recently updated first, at every scope; labels filter.
	for _, p := range []string{base, "/v0/pods/" + pod.PodID + "/drafts", "/v0/drafts"} {
		var list wire.ListDraftsResponse
		e.ok("GET", p, nil, &list)
		if list.Count != 2 || list.Drafts[0].DraftID != plain.DraftID || list.Drafts[1].DraftID != d.DraftID {
			t.Fatalf("list %s = %+v", p, list)
		}
	}
	var labelled wire.ListDraftsResponse
	e.ok("GET", base+`?labels=["todo"]`, nil, &labelled)
	if labelled.Count != 1 || labelled.Drafts[0].DraftID != d.DraftID {
		t.Fatalf("labelled = %+v", labelled)
	}
	var asc wire.ListDraftsResponse
	e.ok("GET", base+"?ascending=true&limit=1", nil, &asc)
	if asc.Count != 1 || asc.Drafts[0].DraftID != d.DraftID || asc.NextPageToken == "" {
		t.Fatalf("ascending = %+v", asc)
	}

	// PATCH: absent stays, null and [] clear, attachments and labels change.
	var up wire.Draft
	e.ok("PATCH", base+"/"+d.DraftID, map[string]any{
		"subject": nil, "to": []string{}, "cc": []string{"carol@example.com"}, "html": "<p>Hi</p>",
		"add_labels": []string{"urgent"}, "remove_labels": []string{"todo"},
		"remove_attachments": []string{d.Attachments[0].AttachmentID},
		"add_attachments":    []map[string]any{{"filename": "b.bin", "content": base64.StdEncoding.EncodeToString([]byte("bb"))}},
	}, &up)
	if up.Subject != "" || len(up.To) != 0 || !slices.Equal(up.Cc, []string{"carol@example.com"}) || up.Text != d.Text || up.HTML != "<p>Hi</p>" ||
		!slices.Equal(up.Labels, []string{"urgent"}) || len(up.Attachments) != 1 || up.Attachments[0].Filename != "b.bin" || !up.UpdatedAt.After(d.UpdatedAt) {
		t.Fatalf("patched = %+v", up)
	}
	var list wire.ListDraftsResponse
	e.ok("GET", base, nil, &list)
	if list.Drafts[0].DraftID != d.DraftID {
		t.Fatalf("patched draft not first: %+v", list)
	}

	// Scheduling and unscheduling.
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	var sched wire.Draft
	e.ok("PATCH", base+"/"+d.DraftID, map[string]any{"send_at": at.Format(time.RFC3339Nano)}, &sched)
	if sched.SendStatus != wire.DraftScheduled || sched.SendAt == nil || !sched.SendAt.Equal(at) {
		t.Fatalf("scheduled = %+v", sched)
	}
	var unsched wire.Draft
	e.ok("PATCH", base+"/"+d.DraftID, map[string]any{"send_at": nil}, &unsched)
	if unsched.SendStatus != "" || unsched.SendAt != nil {
		t.Fatalf("unscheduled = %+v", unsched)
	}

	// Delete.
	if resp := e.do("DELETE", base+"/"+d.DraftID, e.key, nil); resp.status != http.StatusNoContent {
		t.Fatalf("delete = %d %s", resp.status, resp.body)
	}
	e.wantError(e.do("GET", base+"/"+d.DraftID, e.key, nil), 404, "NotFoundError")
	e.wantError(e.do("DELETE", base+"/"+d.DraftID, e.key, nil), 404, "NotFoundError")
	e.wantError(e.do("PATCH", base+"/"+d.DraftID, e.key, map[string]any{"text": "x"}), 404, "NotFoundError")
}

func TestDraftSend(t *testing.T) {
	e := newEnv(t)
	in := e.createInbox("/v0/inboxes", map[string]any{"username": "agent"})
	base := "/v0/inboxes/" + pathEscape(in.InboxID)
	orig := e.deliver(in.InboxID, "<orig@example.com>", "", "Hello", time.Now().Add(-time.Hour), nil, mail.Attachment{
		Attachment: wire.Attachment{AttachmentID: "att1", Filename: "o.txt", ContentType: "text/plain", ContentDisposition: "attachment"},
		Content:    []byte("original attachment"),
	})

	// A reply draft derives recipients, subject and threading, and is sent into the thread.
	var reply wire.Draft
	e.ok("POST", base+"/drafts", map[string]any{"in_reply_to": orig.MessageID, "text": "Thanks!", "labels": []string{"a", "b"}}, &reply)
	if !slices.Equal(reply.To, []string{"Sender <sender@example.com>"}) || reply.Subject != "Re: Hello" ||
		reply.InReplyTo != orig.MessageID || !slices.Equal(reply.References, []string{"<orig@example.com>"}) {
		t.Fatalf("reply draft = %+v", reply)
	}
	send := func(draftID, key string, body any) response {
		t.Helper()
		var h http.Header
		if key != "" {
			h = http.Header{"Idempotency-Key": {key}}
		}
		return e.doHeader("POST", base+"/drafts/"+draftID+"/send", e.key, body, h)
	}
	first := map[string]any{"add_labels": []string{"done"}, "remove_labels": "b"}
	resp := send(reply.DraftID, "k1", first)
	var sent wire.SendMessageResponse
	if resp.status != 200 {
		t.Fatalf("send = %d %s", resp.status, resp.body)
	}
	resp.decode(t, &sent)
	if sent.ThreadID != orig.ThreadID || sent.MessageID == "" {
		t.Fatalf("reply sent = %+v, want thread %s", sent, orig.ThreadID)
	}
	var msg wire.Message
	e.ok("GET", base+"/messages/"+pathEscape(sent.MessageID), nil, &msg)
	if !slices.Contains(msg.Labels, wire.LabelSent) || !slices.Contains(msg.Labels, "done") || !slices.Contains(msg.Labels, "a") || slices.Contains(msg.Labels, "b") ||
		msg.Subject != "Re: Hello" || msg.InReplyTo != "<orig@example.com>" {
		t.Fatalf("sent message = %+v", msg)
	}
	// Same Idempotency-Key and body: the first result again; the key with another body: 422.
	// Without a key, or with a new one: the draft is gone.
	e.wantError(send(reply.DraftID, "k1", map[string]any{}), 422, "IdempotencyKeyReusedError")
	resp = send(reply.DraftID, "k1", first)
	var replay wire.SendMessageResponse
	if resp.status != 200 {
		t.Fatalf("replay = %d %s", resp.status, resp.body)
	}
	if resp.decode(t, &replay); replay != sent {
		t.Fatalf("replay = %+v, want %+v", replay, sent)
	}
	e.wantError(send(reply.DraftID, "", map[string]any{}), 404, "NotFoundError")
	e.wantError(send(reply.DraftID, "k2", map[string]any{}), 404, "NotFoundError")
	e.wantError(e.do("GET", base+"/drafts/"+reply.DraftID, e.key, nil), 404, "NotFoundError")

	// A forward draft: subject derived, the original's body and attachments added at send.
	var fwd wire.Draft
	e.ok("POST", base+"/drafts", map[string]any{"forward_of": orig.MessageID, "to": []string{"dave@example.com"}, "text": "FYI"}, &fwd)
	if fwd.Subject != "Fwd: Hello" || fwd.ForwardOf != orig.MessageID || fwd.InReplyTo != "" {
		t.Fatalf("forward draft = %+v", fwd)
	}
	resp = send(fwd.DraftID, "", nil)
	if resp.status != 200 {
		t.Fatalf("forward send = %d %s", resp.status, resp.body)
	}
	sent, msg = wire.SendMessageResponse{}, wire.Message{}
	resp.decode(t, &sent)
	e.ok("GET", base+"/messages/"+pathEscape(sent.MessageID), nil, &msg)
	if !strings.Contains(msg.Text, "FYI") || !strings.Contains(msg.Text, "hello") || len(msg.Attachments) != 1 || msg.Subject != "Fwd: Hello" {
		t.Fatalf("forwarded = %+v", msg)
	}

	// A new message with an attachment, in a new thread.
	var plain wire.Draft
	e.ok("POST", base+"/drafts", map[string]any{
		"to": []string{"erin@example.com"}, "subject": "New", "html": "<p>Hi</p>",
		"attachments": []map[string]any{{"filename": "x.txt", "content": base64.StdEncoding.EncodeToString([]byte("xx"))}},
	}, &plain)
	resp = send(plain.DraftID, "", map[string]any{})
	if resp.status != 200 {
		t.Fatalf("plain send = %d %s", resp.status, resp.body)
	}
	sent, msg = wire.SendMessageResponse{}, wire.Message{}
	resp.decode(t, &sent)
	e.ok("GET", base+"/messages/"+pathEscape(sent.MessageID), nil, &msg)
	if sent.ThreadID == orig.ThreadID || msg.Subject != "New" || len(msg.Attachments) != 1 || msg.Attachments[0].Filename != "x.txt" {
		t.Fatalf("plain sent = %+v", msg)
	}

	// A draft that cannot be sent as it stands: 400, and the draft stays.
	var empty wire.Draft
	e.ok("POST", base+"/drafts", map[string]any{"subject": "nobody"}, &empty)
	e.wantError(send(empty.DraftID, "", nil), 400, "ValidationError")
	var kept wire.Draft
	e.ok("GET", base+"/drafts/"+empty.DraftID, nil, &kept)
	if kept.SendStatus != "" || kept.Subject != "nobody" {
		t.Fatalf("after a failed send = %+v", kept)
	}
	e.wantError(send(empty.DraftID, "", map[string]any{"add_labels": []string{"sent"}}), 400, "ValidationError")

	// A draft being sent can be neither changed nor sent again.
	if _, err := e.st.ClaimDraft(context.Background(), in.InboxID, empty.DraftID, "other", "fp", false, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.wantError(e.do("PATCH", base+"/drafts/"+empty.DraftID, e.key, map[string]any{"text": "x"}), 409, "ConflictError")
	e.wantError(send(empty.DraftID, "", nil), 409, "ConflictError")
}

func TestDraftBadInput(t *testing.T) {
	e := newEnv(t)
	in := e.createInbox("/v0/inboxes", map[string]any{"username": "agent"})
	base := "/v0/inboxes/" + pathEscape(in.InboxID) + "/drafts"
	orig := e.deliver(in.InboxID, "<orig@example.com>", "", "Hello", time.Now(), nil)
	var reply wire.Draft
	e.ok("POST", base, map[string]any{"in_reply_to": orig.MessageID, "text": "hi"}, &reply)
	var plain wire.Draft
	e.ok("POST", base, map[string]any{"text": "hi"}, &plain)

	for _, c := range []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"to is a string", "POST", base, map[string]any{"to": "a@example.com"}, 400, "to"},
		{"labels is a string", "POST", base, map[string]any{"labels": "x"}, 400, "labels"},
		{"subject is a number", "POST", base, map[string]any{"subject": 3}, 400, "subject"},
		{"reply_all is a string", "POST", base, map[string]any{"reply_all": "yes"}, 400, "reply_all"},
		{"not JSON", "POST", base, "{", 400, ""},
		{"reply and forward", "POST", base, map[string]any{"in_reply_to": orig.MessageID, "forward_of": orig.MessageID}, 400, "forward_of"},
		{"unknown message", "POST", base, map[string]any{"in_reply_to": "<nope@example.com>"}, 400, "in_reply_to"},
		{"unknown forwarded message", "POST", base, map[string]any{"forward_of": "<nope@example.com>"}, 400, "forward_of"},
		{"reply_all with to", "POST", base, map[string]any{"in_reply_to": orig.MessageID, "reply_all": true, "to": []string{"a@example.com"}}, 400, "to"},
		{"reply_all alone", "POST", base, map[string]any{"reply_all": true}, 400, "reply_all"},
		{"reply with another subject", "POST", base, map[string]any{"in_reply_to": orig.MessageID, "subject": "Other"}, 400, "subject"},
		{"bad address", "POST", base, map[string]any{"to": []string{"not an address"}}, 400, "to[0]"},
		{"too many recipients", "POST", base, map[string]any{"to": manyAddresses(51)}, 400, "to"},
		{"system label", "POST", base, map[string]any{"labels": []string{"sent"}}, 400, "labels[0]"},
		{"bad send_at", "POST", base, map[string]any{"send_at": "tomorrow"}, 400, "send_at"},
		{"send_at a number", "POST", base, map[string]any{"send_at": 1700000000}, 400, "send_at"},
		{"scheduled without recipient", "POST", base, map[string]any{"text": "x", "send_at": "2030-01-01T00:00:00Z"}, 400, "send_at"},
		{"scheduled without body", "POST", base, map[string]any{"to": []string{"a@example.com"}, "send_at": "2030-01-01T00:00:00Z"}, 400, "send_at"},
		{"attachment content and url", "POST", base, map[string]any{"attachments": []map[string]any{{"content": "eA==", "url": "https://example.com/x"}}}, 400, "attachments[0]"},
		{"attachment bad base64", "POST", base, map[string]any{"attachments": []map[string]any{{"content": "!!!"}}}, 400, "attachments[0].content"},
		{"attachment bad disposition", "POST", base, map[string]any{"attachments": []map[string]any{{"content": "eA==", "content_disposition": "x"}}}, 400, "attachments[0].content_disposition"},
		{"long client_id", "POST", base, map[string]any{"client_id": strings.Repeat("c", 257)}, 400, "client_id"},
		{"patch to a string", "PATCH", base + "/" + plain.DraftID, map[string]any{"to": "a@example.com"}, 400, "to"},
		{"patch text a number", "PATCH", base + "/" + plain.DraftID, map[string]any{"text": 1}, 400, "text"},
		{"patch unknown attachment", "PATCH", base + "/" + plain.DraftID, map[string]any{"remove_attachments": []string{"att_x"}}, 400, "remove_attachments[0]"},
		{"patch bad send_at", "PATCH", base + "/" + plain.DraftID, map[string]any{"send_at": "soon"}, 400, "send_at"},
		{"patch schedule without recipient", "PATCH", base + "/" + plain.DraftID, map[string]any{"send_at": "2030-01-01T00:00:00Z"}, 400, "send_at"},
		{"patch reply subject", "PATCH", base + "/" + reply.DraftID, map[string]any{"subject": "Other"}, 400, "subject"},
		{"patch system label", "PATCH", base + "/" + plain.DraftID, map[string]any{"add_labels": []string{"bounced"}}, 400, "add_labels[0]"},
		{"send labels wrong type", "POST", base + "/" + plain.DraftID + "/send", map[string]any{"add_labels": 3}, 400, ""},
		{"unknown draft", "PATCH", base + "/drf_nope", map[string]any{"text": "x"}, 404, ""},
		{"unknown draft send", "POST", base + "/drf_nope/send", map[string]any{}, 404, ""},
		{"unknown inbox", "POST", "/v0/inboxes/nobody%40pigeon.test/drafts", map[string]any{}, 404, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := e.do(c.method, c.path, e.key, c.body)
			name := map[int]string{400: "ValidationError", 404: "NotFoundError"}[c.status]
			we := e.wantError(resp, c.status, name)
			if c.field != "" && (len(we.Errors) == 0 || we.Errors[0].Path != c.field) {
				t.Fatalf("errors = %+v, want path %s", we.Errors, c.field)
			}
		})
	}
	// Nothing was changed by the refused requests.
	var after wire.Draft
	e.ok("GET", base+"/"+plain.DraftID, nil, &after)
	if !after.UpdatedAt.Equal(plain.UpdatedAt) {
		t.Fatalf("a refused PATCH changed the draft: %+v", after)
	}
}

// doHeader is do with extra request headers.
func (e *env) doHeader(method, path, key string, body any, h http.Header) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	r := httptest.NewRequest(method, path, rd)
	r.Header.Set("Authorization", "Bearer "+key)
	for k, v := range h {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

func manyAddresses(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "user" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + "@example.com"
	}
	return out
}

func TestDraftScope(t *testing.T) {
	e := newEnv(t)
	podA, podB := e.createPod("A"), e.createPod("B")
	a1 := e.createInbox("/v0/pods/"+podA.PodID+"/inboxes", map[string]any{"username": "a1"})
	a2 := e.createInbox("/v0/pods/"+podA.PodID+"/inboxes", map[string]any{"username": "a2"})
	b1 := e.createInbox("/v0/pods/"+podB.PodID+"/inboxes", map[string]any{"username": "b1"})
	draftIn := func(in wire.Inbox) wire.Draft {
		var d wire.Draft
		e.ok("POST", "/v0/inboxes/"+pathEscape(in.InboxID)+"/drafts", map[string]any{"subject": in.InboxID}, &d)
		return d
	}
	dA1, dA2, dB1 := draftIn(a1), draftIn(a2), draftIn(b1)
	podKey := e.newKey(podA.PodID, "", nil)
	inboxKey := e.newKey(podA.PodID, a1.InboxID, nil)

	listed := func(key, path string) []string {
		t.Helper()
		var list wire.ListDraftsResponse
		e.okAs(key, "GET", path, nil, &list)
		var ids []string
		for _, d := range list.Drafts {
			ids = append(ids, d.DraftID)
		}
		slices.Sort(ids)
		return ids
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	if got := listed(podKey, "/v0/drafts"); !slices.Equal(got, sorted(dA1.DraftID, dA2.DraftID)) {
		t.Fatalf("pod key, org list = %v", got)
	}
	if got := listed(inboxKey, "/v0/drafts"); !slices.Equal(got, []string{dA1.DraftID}) {
		t.Fatalf("inbox key, org list = %v", got)
	}
	if got := listed(inboxKey, "/v0/pods/"+podA.PodID+"/drafts"); !slices.Equal(got, []string{dA1.DraftID}) {
		t.Fatalf("inbox key, pod list = %v", got)
	}
	if got := listed(e.key, "/v0/pods/"+podB.PodID+"/drafts"); !slices.Equal(got, []string{dB1.DraftID}) {
		t.Fatalf("org key, pod B list = %v", got)
	}

	// Outside the key's scope, a draft answers exactly as one that does not exist.
	b1Base := "/v0/inboxes/" + pathEscape(b1.InboxID) + "/drafts/" + dB1.DraftID
	for _, c := range []struct {
		key, method, path string
		body              any
	}{
		{podKey, "GET", "/v0/drafts/" + dB1.DraftID, nil},
		{podKey, "GET", "/v0/pods/" + podA.PodID + "/drafts/" + dB1.DraftID, nil},
		{podKey, "GET", "/v0/pods/" + podB.PodID + "/drafts", nil},
		{podKey, "GET", b1Base, nil},
		{podKey, "GET", b1Base + "/attachments/att_x", nil},
		{podKey, "PATCH", b1Base, map[string]any{"text": "x"}},
		{podKey, "DELETE", b1Base, nil},
		{podKey, "POST", b1Base + "/send", map[string]any{}},
		{podKey, "POST", "/v0/inboxes/" + pathEscape(b1.InboxID) + "/drafts", map[string]any{}},
		{inboxKey, "GET", "/v0/drafts/" + dA2.DraftID, nil},
		{inboxKey, "GET", "/v0/inboxes/" + pathEscape(a2.InboxID) + "/drafts/" + dA2.DraftID, nil},
		{e.key, "GET", "/v0/pods/" + podA.PodID + "/drafts/" + dB1.DraftID, nil},
		{e.key, "GET", "/v0/inboxes/" + pathEscape(a1.InboxID) + "/drafts/" + dB1.DraftID, nil},
	} {
		e.wantError(e.do(c.method, c.path, c.key, c.body), 404, "NotFoundError")
	}
	var got wire.Draft
	e.okAs(podKey, "GET", "/v0/drafts/"+dA2.DraftID, nil, &got)
	e.okAs(inboxKey, "GET", "/v0/pods/"+podA.PodID+"/drafts/"+dA1.DraftID, nil, &got)
	e.ok("GET", "/v0/inboxes/"+pathEscape(b1.InboxID)+"/drafts/"+dB1.DraftID, nil, &got)

	// A reply draft reads the message it answers: message_read is needed.
	orig := e.deliver(a1.InboxID, "<o@example.com>", "", "Hi", time.Now(), nil)
	noRead := e.newKey(podA.PodID, "", map[string]bool{"draft_create": true})
	e.wantError(e.do("POST", "/v0/inboxes/"+pathEscape(a1.InboxID)+"/drafts", noRead, map[string]any{"in_reply_to": orig.MessageID}), 403, "ForbiddenError")
	e.okAs(noRead, "POST", "/v0/inboxes/"+pathEscape(a1.InboxID)+"/drafts", map[string]any{"text": "plain"}, &got)
	e.wantError(e.do("GET", "/v0/drafts", noRead, nil), 403, "ForbiddenError")
}
