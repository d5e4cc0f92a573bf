package local

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// sender drives the send and label routes over real HTTP.
type sender struct {
	t  *testing.T
	st *Stack
}

// call makes one request; body is JSON-encoded unless it is already []byte.
func (c sender) call(method, path string, body any, hdr map[string]string) (int, []byte, http.Header) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			b, _ = json.Marshal(body)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.st.RESTURL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.st.APIKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data, resp.Header
}

// ok makes a request that must answer 200 (or 204) and decodes the answer into v.
func (c sender) ok(method, path string, body, v any) {
	c.t.Helper()
	status, data, _ := c.call(method, path, body, nil)
	if status != 200 && status != 204 {
		c.t.Fatalf("%s %s: %d %s", method, path, status, data)
	}
	if v != nil {
		if err := json.Unmarshal(data, v); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
}

// fails makes a request that must fail with status and the error shape.
func (c sender) fails(method, path string, body any, hdr map[string]string, status int, name string) http.Header {
	c.t.Helper()
	got, data, h := c.call(method, path, body, hdr)
	var e wire.Error
	if got != status || json.Unmarshal(data, &e) != nil || e.Name != name || e.Message == "" ||
		!strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		c.t.Errorf("%s %s: %d %s, want %d %s", method, path, got, data, status, name)
	}
	return h
}

func (c sender) inbox(username, name string) string {
	c.t.Helper()
	var in wire.Inbox
	c.ok("POST", "/v0/inboxes", map[string]any{"username": username, "display_name": name}, &in)
	return in.InboxID
}

func (c sender) send(inbox, route string, body any, hdr map[string]string) wire.SendMessageResponse {
	c.t.Helper()
	status, data, _ := c.call("POST", "/v0/inboxes/"+url.PathEscape(inbox)+"/messages"+route, body, hdr)
	if status != 200 {
		c.t.Fatalf("POST %s %s: %d %s", inbox, route, status, data)
	}
	var r wire.SendMessageResponse
	if err := json.Unmarshal(data, &r); err != nil || r.MessageID == "" || r.ThreadID == "" {
		c.t.Fatalf("send answer %s: %v", data, err)
	}
	return r
}

func (c sender) message(inbox, id string) wire.Message {
	c.t.Helper()
	var m wire.Message
	c.ok("GET", "/v0/inboxes/"+url.PathEscape(inbox)+"/messages/"+url.PathEscape(id), nil, &m)
	return m
}

func (c sender) thread(inbox, id string) wire.Thread {
	c.t.Helper()
	var th wire.Thread
	c.ok("GET", "/v0/inboxes/"+url.PathEscape(inbox)+"/threads/"+url.PathEscape(id), nil, &th)
	return th
}

// received returns the newest message of inbox labelled received.
func (c sender) received(inbox string) wire.MessageItem {
	c.t.Helper()
	var list wire.ListMessagesResponse
	c.ok("GET", "/v0/inboxes/"+url.PathEscape(inbox)+"/messages?labels=received", nil, &list)
	if len(list.Messages) == 0 {
		c.t.Fatalf("%s received nothing", inbox)
	}
	return list.Messages[0]
}

func TestSendConversation(t *testing.T) {
	st := startStack(t)
	c := sender{t, st}
	a, b, d := c.inbox("alice", "Agent Alice"), c.inbox("bob", "Agent Bob"), c.inbox("dora", "")

	// A writes to B (and copies D): both receive it through the inbound path.
	sent := c.send(a, "/send", map[string]any{
		"to": b, "cc": []string{d}, "subject": "Plans", "text": "Shall we meet?", "labels": []string{"Project-X"},
	}, nil)
	// SES reports the delivery shortly after (lifecycle_e2e_test.go): wait for it.
	mine := c.awaitStatus(a, sent.MessageID, "delivered")
	if !slices.Equal(mine.Labels, []string{"sent", "project-x", "delivered"}) || mine.From != "Agent Alice <alice@pigeon.local>" ||
		!strings.HasSuffix(sent.MessageID, "@email.amazonses.com>") || mine.Subject != "Plans" {
		t.Fatalf("sent message %+v", mine)
	}
	got := c.received(b)
	if got.MessageID != sent.MessageID || got.Subject != "Plans" || got.Status != "" {
		t.Fatalf("B received %+v, want message id %s", got, sent.MessageID)
	}

	// B replies: the reply joins B's thread, and A's sent thread on A's side.
	reply := c.send(b, "/"+url.PathEscape(got.MessageID)+"/reply", map[string]any{"text": "Yes, Tuesday."}, nil)
	if reply.ThreadID != got.ThreadID {
		t.Errorf("B's reply is in thread %s, B received in %s", reply.ThreadID, got.ThreadID)
	}
	back := c.received(a)
	if back.ThreadID != sent.ThreadID || back.Subject != "Re: Plans" || back.InReplyTo != sent.MessageID {
		t.Fatalf("A got the reply %+v; want it in thread %s", back, sent.ThreadID)
	}
	for _, side := range []struct{ inbox, thread string }{{a, sent.ThreadID}, {b, got.ThreadID}} {
		th := c.thread(side.inbox, side.thread)
		if th.MessageCount != 2 || len(th.Messages) != 2 || th.SentTimestamp == nil || th.ReceivedTimestamp == nil {
			t.Errorf("%s thread: count %d, %d messages, sent %v received %v", side.inbox, th.MessageCount, len(th.Messages), th.SentTimestamp, th.ReceivedTimestamp)
		}
	}
	rm := c.message(b, reply.MessageID)
	if !slices.Equal(rm.To, []string{"Agent Alice <alice@pigeon.local>"}) || len(rm.Cc) != 0 {
		t.Errorf("reply went to %v cc %v", rm.To, rm.Cc)
	}

	// D, copied on the original, replies to all: A and B in to, D itself left out; it joins
	// D's thread, and A's.
	dOrig := c.received(d)
	all := c.send(d, "/"+url.PathEscape(dOrig.MessageID)+"/reply-all", map[string]any{"text": "Tuesday suits me.", "html": "<p>Tuesday suits me.</p>"}, nil)
	am := c.message(d, all.MessageID)
	if all.ThreadID != dOrig.ThreadID || len(am.To) != 2 || !strings.Contains(am.To[0], a) || !strings.Contains(am.To[1], b) || len(am.Cc) != 0 {
		t.Errorf("reply-all: thread %s to %v cc %v", all.ThreadID, am.To, am.Cc)
	}
	if th := c.thread(a, sent.ThreadID); th.MessageCount != 3 {
		t.Errorf("A's thread has %d messages, want the original, B's reply and D's reply-all", th.MessageCount)
	}

	// A forwards B's message, with an attachment of its own, to D; then D forwards that on,
	// and the attachment travels along.
	pdf := []byte("%PDF-1.4 agenda")
	fwd := c.send(a, "/"+url.PathEscape(back.MessageID)+"/forward", map[string]any{
		"to": d, "text": "FYI",
		"attachments": []map[string]string{{"filename": "agenda.pdf", "content_type": "application/pdf", "content": base64.StdEncoding.EncodeToString(pdf)}},
	}, nil)
	fm := c.message(a, fwd.MessageID)
	if fm.Subject != "Fwd: Re: Plans" || !strings.Contains(fm.Text, "FYI") || !strings.Contains(fm.Text, "Forwarded message") ||
		!strings.Contains(fm.Text, "Yes, Tuesday.") || len(fm.Attachments) != 1 || fwd.ThreadID != sent.ThreadID {
		t.Fatalf("forward %+v", fm)
	}
	dm := c.received(d)
	if dm.MessageID != fwd.MessageID || len(dm.Attachments) != 1 {
		t.Fatalf("D got %+v", dm)
	}
	again := c.send(d, "/"+url.PathEscape(dm.MessageID)+"/forward", map[string]any{"to": "someone@example.com"}, nil)
	if am := c.message(d, again.MessageID); len(am.Attachments) != 1 || am.Attachments[0].Filename != "agenda.pdf" || am.Attachments[0].Size != int64(len(pdf)) {
		t.Errorf("forwarded attachment %+v", am.Attachments)
	}
}

func TestSendExternalAndIdempotency(t *testing.T) {
	st := startStack(t)
	c := sender{t, st}
	a := c.inbox("agent", "")

	// An attachment by URL, served locally (local mode allows loopback).
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/report.csv" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/csv")
		io.WriteString(w, "a,b\n1,2\n")
	}))
	defer files.Close()

	key := map[string]string{"Idempotency-Key": "order-42"}
	body := map[string]any{
		"to": "Carol <carol@example.com>", "bcc": "audit@example.net", "subject": "Report", "html": "<p>Attached.</p>",
		"attachments": []map[string]string{{"url": files.URL + "/report.csv"}},
	}
	first := c.send(a, "/send", body, key)
	second := c.send(a, "/send", body, key)
	if first != second {
		t.Errorf("idempotent repeat answered %+v, first %+v", second, first)
	}
	var outbox []struct {
		SESMessageID string   `json:"ses_message_id"`
		Recipients   []string `json:"recipients"`
		Raw          []byte   `json:"raw"`
	}
	resp, err := http.Get(st.OutboxURL)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&outbox)
	resp.Body.Close()
	if len(outbox) != 1 {
		t.Fatalf("outbox holds %d messages, want 1 (one send for two requests)", len(outbox))
	}
	if want := "Message-ID: " + first.MessageID + "\r\n"; !bytes.Contains(outbox[0].Raw, []byte(want)) {
		t.Errorf("kept mail lacks %q", want)
	}
	if bytes.Contains(outbox[0].Raw, []byte("audit@example.net")) || !slices.Contains(outbox[0].Recipients, "audit@example.net") {
		t.Errorf("bcc must be in the envelope only: recipients %v", outbox[0].Recipients)
	}
	m := c.message(a, first.MessageID)
	if len(m.Attachments) != 1 || m.Attachments[0].Filename != "report.csv" || !strings.HasPrefix(m.Attachments[0].ContentType, "text/csv") ||
		!slices.Equal(m.Bcc, []string{"audit@example.net"}) {
		t.Errorf("sent message %+v", m)
	}
	var raw wire.RawMessageResponse
	c.ok("GET", "/v0/inboxes/"+a+"/messages/"+url.PathEscape(first.MessageID)+"/raw", nil, &raw)
	if data, _ := download(t, raw.DownloadURL); !bytes.Equal(data, outbox[0].Raw) {
		t.Error("the stored raw mail is not the mail SES sent")
	}
}

func TestSendFailures(t *testing.T) {
	st := startStack(t)
	c := sender{t, st}
	a := c.inbox("agent", "")
	send := "/v0/inboxes/" + a + "/messages/send"
	ok := map[string]any{"to": "x@example.com", "text": "hi"}

	many := make([]string, 51)
	for i := range many {
		many[i] = "r" + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + "@example.com"
	}
	bad := []struct {
		name   string
		body   any
		status int
		errN   string
	}{
		{"no recipients", map[string]any{"text": "hi"}, 400, "ValidationError"},
		{"no body", map[string]any{"to": "x@example.com"}, 400, "ValidationError"},
		{"bad address", map[string]any{"to": []string{"x@example.com", "not an address"}, "text": "hi"}, 400, "ValidationError"},
		{"51 recipients", map[string]any{"to": many, "text": "hi"}, 400, "ValidationError"},
		{"to is a number", []byte(`{"to": 5, "text": "hi"}`), 400, "ValidationError"},
		{"system label", map[string]any{"to": "x@example.com", "text": "hi", "labels": "sent"}, 400, "ValidationError"},
		{"bad base64", map[string]any{"to": "x@example.com", "text": "hi", "attachments": []map[string]string{{"content": "%%%"}}}, 400, "ValidationError"},
		{"content and url", map[string]any{"to": "x@example.com", "text": "hi", "attachments": []map[string]string{{"content": "aGk=", "url": "https://x"}}}, 400, "ValidationError"},
		{"header injection", map[string]any{"to": "x@example.com", "text": "hi", "headers": map[string]string{"X-A": "a\r\nBcc: y@z"}}, 400, "ValidationError"},
		{"oversize attachment", map[string]any{"to": "x@example.com", "text": "hi", "attachments": []map[string]string{{"content": strings.Repeat("A", 7<<20)}}}, 413, "PayloadTooLargeError"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			sender{t, st}.fails("POST", send, b.body, nil, b.status, b.errN)
		})
	}
	c.fails("POST", "/v0/inboxes/"+a+"/messages/%3Cnope%40x%3E/reply", map[string]any{"text": "hi"}, nil, 404, "NotFoundError")
	c.fails("POST", "/v0/inboxes/nobody@pigeon.local/messages/send", ok, nil, 404, "NotFoundError")

	// SES throttles (the SDK retries twice, so three failures reach the API): 429, nothing kept.
	st.SES.FailNext(3, "TooManyRequestsException", "Maximum sending rate exceeded.")
	h := c.fails("POST", send, ok, map[string]string{"Idempotency-Key": "k1"}, 429, "TooManyRequestsError")
	if h.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// The key was given back: the retry sends.
	c.send(a, "/send", ok, map[string]string{"Idempotency-Key": "k1"})

	st.SES.FailNext(1, "MessageRejected", "Email address is not verified.")
	c.fails("POST", send, ok, nil, 403, "MessageRejectedError")

	var list wire.ListMessagesResponse
	c.ok("GET", "/v0/inboxes/"+a+"/messages", nil, &list)
	if list.Count != 1 {
		t.Errorf("%d messages after one send, one throttled and one rejected", list.Count)
	}

	// SES unreachable (no connection: surely not sent): 503 and nothing kept, so that the
	// client's retry ends as one sent message.
	st.sesSrv.Close()
	c.fails("POST", send, map[string]any{"to": "x@example.com", "text": "lost?"}, nil, 503, "ServiceUnavailableError")
	c.ok("GET", "/v0/inboxes/"+a+"/messages", nil, &list)
	if list.Count != 1 {
		t.Fatalf("messages after an unreachable SES: %+v", list.Messages)
	}
}

func TestMessageAndThreadLabels(t *testing.T) {
	st := startStack(t)
	c := sender{t, st}
	a, b := c.inbox("a", ""), c.inbox("b", "")
	s1 := c.send(a, "/send", map[string]any{"to": b, "subject": "one", "text": "1"}, nil)
	r1 := c.received(b)
	c.send(b, "/"+url.PathEscape(r1.MessageID)+"/reply", map[string]any{"text": "2"}, nil)
	s2 := c.send(a, "/send", map[string]any{"to": "x@example.com", "subject": "two", "text": "3"}, nil)
	msgs := "/v0/inboxes/" + a + "/messages/"
	c.awaitStatus(a, s1.MessageID, "delivered") // the lifecycle label arrives first
	c.awaitStatus(a, s2.MessageID, "delivered")

	var up wire.UpdateMessageResponse
	c.ok("PATCH", msgs+url.PathEscape(s1.MessageID), map[string]any{"add_labels": "Important", "remove_labels": []string{"x"}}, &up)
	if !slices.Equal(up.Labels, []string{"sent", "delivered", "important"}) {
		t.Errorf("labels after PATCH %v", up.Labels)
	}
	if th := c.thread(a, s1.ThreadID); !slices.Contains(th.Labels, "important") {
		t.Errorf("thread labels %v lack important", th.Labels)
	}
	var evs wire.ListInboxEventsResponse
	c.ok("GET", "/v0/inboxes/"+a+"/events", nil, &evs)
	if evs.Count != 1 || evs.Events[0].EventType != "label.added" || evs.Events[0].Label != "important" || evs.Events[0].MessageID != s1.MessageID {
		t.Errorf("label events %+v", evs.Events)
	}
	c.fails("PATCH", msgs+url.PathEscape(s1.MessageID), map[string]any{"add_labels": "delivered"}, nil, 400, "ValidationError")
	c.fails("PATCH", msgs+url.PathEscape(s1.MessageID), map[string]any{}, nil, 400, "ValidationError")
	c.fails("PATCH", msgs+"%3Cnope%40x%3E", map[string]any{"add_labels": "a"}, nil, 404, "NotFoundError")

	var bg wire.BatchGetMessagesResponse
	c.ok("POST", msgs+"batch-get", map[string]any{"message_ids": []string{s2.MessageID, "<missing@x>", s1.MessageID}}, &bg)
	if bg.Limit != 3 || bg.Count != 2 || bg.Messages[0].MessageID != s2.MessageID || bg.Messages[1].MessageID != s1.MessageID || bg.Messages[0].Text != "" {
		t.Errorf("batch-get %+v", bg)
	}
	c.fails("POST", msgs+"batch-get", map[string]any{"message_ids": []string{s1.MessageID, s1.MessageID}}, nil, 400, "ValidationError")

	var bu wire.BatchUpdateMessagesResponse
	c.ok("POST", msgs+"batch-update", map[string]any{"message_ids": []string{s1.MessageID, s2.MessageID, "<missing@x>"}, "add_labels": "later", "remove_labels": "important"}, &bu)
	if bu.Count != 2 || !slices.Equal(bu.Updates[0].Labels, []string{"sent", "delivered", "later"}) || !slices.Equal(bu.Updates[1].Labels, []string{"sent", "delivered", "later"}) {
		t.Errorf("batch-update %+v", bu)
	}
	if th := c.thread(a, s1.ThreadID); slices.Contains(th.Labels, "important") || !slices.Contains(th.Labels, "later") {
		t.Errorf("thread labels after batch-update %v", th.Labels)
	}

	var ut wire.UpdateThreadResponse
	c.ok("PATCH", "/v0/inboxes/"+a+"/threads/"+s1.ThreadID, map[string]any{"add_labels": []string{"done"}, "remove_labels": []string{"unread"}}, &ut)
	if !slices.Contains(ut.Labels, "done") || slices.Contains(ut.Labels, "unread") {
		t.Errorf("thread PATCH labels %v", ut.Labels)
	}
	th := c.thread(a, s1.ThreadID)
	for _, m := range th.Messages {
		if !slices.Contains(m.Labels, "done") || slices.Contains(m.Labels, "unread") {
			t.Errorf("message %s labels %v after thread PATCH", m.MessageID, m.Labels)
		}
	}

	// DELETE moves to trash: hidden from lists, shown with include_trash.
	c.ok("DELETE", "/v0/threads/"+s1.ThreadID, nil, nil)
	var threads wire.ListThreadsResponse
	c.ok("GET", "/v0/inboxes/"+a+"/threads", nil, &threads)
	if threads.Count != 1 || threads.Threads[0].ThreadID != s2.ThreadID {
		t.Errorf("threads after trash: %+v", threads.Threads)
	}
	c.ok("GET", "/v0/inboxes/"+a+"/threads?include_trash=true", nil, &threads)
	if threads.Count != 2 {
		t.Errorf("include_trash lists %d threads", threads.Count)
	}
	// A second DELETE of a thread in trash deletes it for good (the SDKs send no permanent
	// flag): the thread and its messages are gone.
	c.ok("DELETE", "/v0/inboxes/"+a+"/threads/"+s1.ThreadID, nil, nil)
	c.fails("GET", "/v0/inboxes/"+a+"/threads/"+s1.ThreadID, nil, nil, 404, "NotFoundError")
	c.fails("GET", msgs+url.PathEscape(s1.MessageID), nil, nil, 404, "NotFoundError")

	// Deleting a thread's only message removes the thread too; B's side keeps its thread of
	// two, and loses one message when B deletes it.
	c.ok("DELETE", msgs+url.PathEscape(s2.MessageID), nil, nil)
	c.fails("GET", "/v0/inboxes/"+a+"/threads/"+s2.ThreadID, nil, nil, 404, "NotFoundError")
	c.ok("DELETE", "/v0/inboxes/"+b+"/messages/"+url.PathEscape(r1.MessageID), nil, nil)
	if th := c.thread(b, r1.ThreadID); th.MessageCount != 1 || th.Subject != "Re: one" || th.LastMessageID == r1.MessageID {
		t.Errorf("B's thread after delete: %+v", th.ThreadItem)
	}
	// permanent=true deletes at once, from outside the trash too.
	c.ok("DELETE", "/v0/inboxes/"+b+"/threads/"+r1.ThreadID+"?permanent=true", nil, nil)
	c.fails("GET", "/v0/inboxes/"+b+"/threads/"+r1.ThreadID, nil, nil, 404, "NotFoundError")
}

func TestSendToSelf(t *testing.T) {
	st := startStack(t)
	c := sender{t, st}
	a := c.inbox("me", "")
	r := c.send(a, "/send", map[string]any{"to": a, "subject": "note to self", "text": "remember"}, map[string]string{"Idempotency-Key": "self"})
	m := c.awaitStatus(a, r.MessageID, "delivered")
	for _, l := range []string{"received", "unread", "sent", "delivered"} {
		if !slices.Contains(m.Labels, l) {
			t.Errorf("labels %v lack %s", m.Labels, l)
		}
	}
	if th := c.thread(a, r.ThreadID); th.MessageCount != 1 || th.SentTimestamp == nil || th.ReceivedTimestamp == nil {
		t.Errorf("thread %+v", th.ThreadItem)
	}
	if again := c.send(a, "/send", map[string]any{"to": a, "subject": "note to self", "text": "remember"}, map[string]string{"Idempotency-Key": "self"}); again != r {
		t.Errorf("replay %+v, first %+v", again, r)
	}
}
