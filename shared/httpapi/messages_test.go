package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/mail"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// deliver stores an inbound message in inbox through the store's delivery path.
func (e *env) deliver(inboxID, messageID, inReplyTo, subject string, at time.Time, labels []string, atts ...mail.Attachment) wire.Message {
	e.t.Helper()
	ctx := context.Background()
	in, err := e.st.GetInbox(ctx, inboxID)
	if err != nil {
		e.t.Fatal(err)
	}
	raw := []byte("Message-ID: " + messageID + "\r\nSubject: " + subject + "\r\n\r\nhello\r\n")
	key := "raw/" + inboxID + "/" + url.PathEscape(messageID)
	if err := e.blobs.Put(ctx, key, "message/rfc822", raw); err != nil {
		e.t.Fatal(err)
	}
	var refs []string
	if inReplyTo != "" {
		refs = []string{inReplyTo}
	}
	parsed := &mail.Message{
		MessageID: messageID, From: "Sender <sender@example.com>", To: []string{inboxID},
		ReplyTo: []string{}, Cc: []string{}, Bcc: []string{}, Subject: subject,
		Text: "hello", Preview: "hello", InReplyTo: inReplyTo, References: refs,
		Headers: map[string]string{"Subject": subject}, Size: int64(len(raw)), Timestamp: at,
		Attachments: atts,
	}
	m, _, _, err := e.st.DeliverInbound(ctx, store.Delivery{Inbox: in, SourceKey: key, Parsed: parsed, Labels: labels, ReceivedAt: at})
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func fetch(t *testing.T, u string) (string, http.Header) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d %s", u, resp.StatusCode, data)
	}
	return string(data), resp.Header
}

func TestMessagesAndThreads(t *testing.T) {
	e := newEnv(t)
	pod := e.createPod("P")
	in := e.createInbox("/v0/pods/"+pod.PodID+"/inboxes", map[string]any{"username": "agent"})
	other := e.createInbox("/v0/inboxes", map[string]any{"username": "other"})
	t0 := time.Date(2035, 1, 2, 3, 4, 5, 0, time.UTC)
	first := e.deliver(in.InboxID, "<abc@host>", "", "Hello", t0, nil, mail.Attachment{
		Attachment: wire.Attachment{AttachmentID: "att1", Filename: "report.pdf", ContentType: "application/pdf", ContentDisposition: "attachment"},
		Content:    []byte("%PDF-1.4 fake"),
	})
	reply := e.deliver(in.InboxID, "<def/ghi@host>", "<abc@host>", "Re: Hello", t0.Add(time.Hour), []string{"vip"})
	spam := e.deliver(in.InboxID, "<spam@host>", "", "Buy now", t0.Add(2*time.Hour), []string{wire.LabelSpam})
	e.deliver(other.InboxID, "<elsewhere@host>", "", "Other", t0, nil)
	base := "/v0/inboxes/agent%40pigeon.test"

	// List: newest first, spam hidden unless include_spam.
	var list wire.ListMessagesResponse
	e.ok("GET", base+"/messages", nil, &list)
	if list.Count != 2 || list.Messages[0].MessageID != reply.MessageID || list.Messages[1].MessageID != first.MessageID {
		t.Fatalf("list = %+v", list)
	}
	e.ok("GET", base+"/messages?include_spam=true&ascending=true", nil, &list)
	if list.Count != 3 || list.Messages[0].MessageID != first.MessageID || list.Messages[2].MessageID != spam.MessageID {
		t.Fatalf("include_spam ascending = %+v", list)
	}
	// labels[] in all three encodings.
	for _, q := range []string{"labels=%5B%22vip%22%5D", "labels=vip&labels=received", "labels=vip,unread"} {
		e.ok("GET", base+"/messages?"+q, nil, &list)
		if list.Count != 1 || list.Messages[0].MessageID != reply.MessageID {
			t.Fatalf("%s = %+v", q, list)
		}
	}
	e.ok("GET", base+"/messages?after="+url.QueryEscape(t0.Add(30*time.Minute).Format(time.RFC3339)), nil, &list)
	if list.Count != 1 || list.Messages[0].MessageID != reply.MessageID {
		t.Fatalf("after = %+v", list)
	}
	e.ok("GET", base+"/messages?before=2035-01-02T03:30:00.000Z", nil, &list)
	if list.Count != 1 || list.Messages[0].MessageID != first.MessageID {
		t.Fatalf("before = %+v", list)
	}

	// GET one, with percent-encoded ids (<, @, >, and / inside the id).
	var m wire.Message
	e.ok("GET", base+"/messages/%3Cabc%40host%3E", nil, &m)
	if m.MessageID != "<abc@host>" || m.Text != "hello" || len(m.Attachments) != 1 {
		t.Fatalf("message = %+v", m)
	}
	e.ok("GET", base+"/messages/%3Cdef%2Fghi%40host%3E", nil, &m)
	if m.MessageID != "<def/ghi@host>" {
		t.Fatalf("message = %+v", m)
	}
	e.wantError(e.do("GET", "/v0/inboxes/other%40pigeon.test/messages/%3Cabc%40host%3E", e.key, nil), http.StatusNotFound, "NotFoundError")

	// Raw: a presigned URL that serves the .eml.
	var raw wire.RawMessageResponse
	e.ok("GET", base+"/messages/%3Cabc%40host%3E/raw", nil, &raw)
	if raw.MessageID != "<abc@host>" || raw.Size == 0 || raw.ExpiresAt.Before(time.Now().Add(14*time.Minute)) {
		t.Fatalf("raw = %+v", raw)
	}
	if body, _ := fetch(t, raw.DownloadURL); body[:11] != "Message-ID:" {
		t.Fatalf("raw body %q", body)
	}

	// Attachment: metadata plus a presigned URL serving the bytes with their content type.
	var att wire.AttachmentResponse
	e.ok("GET", base+"/messages/%3Cabc%40host%3E/attachments/att1", nil, &att)
	if att.AttachmentID != "att1" || att.Filename != "report.pdf" || att.DownloadURL == "" {
		t.Fatalf("attachment = %+v", att)
	}
	body, hdr := fetch(t, att.DownloadURL)
	if body != "%PDF-1.4 fake" || hdr.Get("Content-Type") != "application/pdf" {
		t.Fatalf("attachment body %q type %q", body, hdr.Get("Content-Type"))
	}
	e.wantError(e.do("GET", base+"/messages/%3Cabc%40host%3E/attachments/nope", e.key, nil), http.StatusNotFound, "NotFoundError")

	// Threads at the three scopes.
	for _, scope := range []string{base, "/v0/pods/" + pod.PodID, "/v0"} {
		var threads wire.ListThreadsResponse
		e.ok("GET", scope+"/threads", nil, &threads)
		want := 1
		if scope == "/v0" {
			want = 2 // the other inbox's thread too
		}
		if threads.Count != want {
			t.Fatalf("%s/threads = %+v", scope, threads)
		}
		var th wire.Thread
		e.ok("GET", scope+"/threads/"+first.ThreadID, nil, &th)
		if th.ThreadID != first.ThreadID || th.Count != 2 || th.Messages[0].MessageID != first.MessageID || th.Messages[1].MessageID != reply.MessageID {
			t.Fatalf("%s thread = %+v", scope, th)
		}
		var tatt wire.AttachmentResponse
		e.ok("GET", scope+"/threads/"+first.ThreadID+"/attachments/att1", nil, &tatt)
		if tatt.AttachmentID != "att1" || tatt.DownloadURL == "" {
			t.Fatalf("%s thread attachment = %+v", scope, tatt)
		}
	}
	// Thread pages: limit 1 gives the newest message first, then older.
	var th wire.Thread
	e.ok("GET", base+"/threads/"+first.ThreadID+"?limit=1", nil, &th)
	if th.Count != 1 || th.Messages[0].MessageID != reply.MessageID || th.NextPageToken == "" {
		t.Fatalf("thread page 1 = %+v", th)
	}
	var th2 wire.Thread
	e.ok("GET", base+"/threads/"+first.ThreadID+"?limit=1&page_token="+url.QueryEscape(th.NextPageToken), nil, &th2)
	if th2.Count != 1 || th2.Messages[0].MessageID != first.MessageID {
		t.Fatalf("thread page 2 = %+v", th2)
	}
	// A thread is not visible under another inbox or pod.
	e.wantError(e.do("GET", "/v0/inboxes/other%40pigeon.test/threads/"+first.ThreadID, e.key, nil), http.StatusNotFound, "NotFoundError")
	e.wantError(e.do("GET", "/v0/pods/default/threads/"+first.ThreadID, e.key, nil), http.StatusNotFound, "NotFoundError")

	// Scoped keys: the other pod's key and another inbox's key see nothing of it.
	otherPodKey := e.newKey("default", "", nil)
	otherInboxKey := e.newKey("default", other.InboxID, nil)
	for _, k := range []string{otherPodKey, otherInboxKey} {
		e.wantError(e.do("GET", base+"/messages", k, nil), http.StatusNotFound, "NotFoundError")
		e.wantError(e.do("GET", base+"/messages/%3Cabc%40host%3E", k, nil), http.StatusNotFound, "NotFoundError")
		e.wantError(e.do("GET", "/v0/threads/"+first.ThreadID, k, nil), http.StatusNotFound, "NotFoundError")
		var threads wire.ListThreadsResponse
		e.okAs(k, "GET", "/v0/threads", nil, &threads)
		if threads.Count != 1 || threads.Threads[0].InboxID != other.InboxID {
			t.Fatalf("scoped /v0/threads = %+v", threads)
		}
	}
	// A key without label_spam_read cannot see spam, even when asking.
	noSpam := e.newKey("", "", map[string]bool{"message_read": true})
	e.okAs(noSpam, "GET", base+"/messages?include_spam=true", nil, &list)
	if list.Count != 2 {
		t.Fatalf("no-spam key list = %+v", list)
	}
	e.wantError(e.do("GET", base+"/messages/%3Cspam%40host%3E", noSpam, nil), http.StatusNotFound, "NotFoundError")
}

// The substring filters of message and thread lists: case-insensitive, every value must match,
// `to` covers to, cc and bcc, and a page token is bound to its filters.
func TestSubstringFilters(t *testing.T) {
	e := newEnv(t)
	in := e.createInbox("/v0/inboxes", map[string]any{"username": "agent"})
	t0 := time.Date(2035, 1, 2, 3, 4, 5, 0, time.UTC)
	e.deliver(in.InboxID, "<a@host>", "", "Quarterly report", t0, nil)
	e.deliver(in.InboxID, "<b@host>", "", "Lunch", t0.Add(time.Minute), nil)
	e.deliver(in.InboxID, "<c@host>", "", "Report draft", t0.Add(2*time.Minute), nil)
	base := "/v0/inboxes/agent%40pigeon.test"

	ids := func(path string) []string {
		var list wire.ListMessagesResponse
		e.ok("GET", path, nil, &list)
		var out []string
		for _, m := range list.Messages {
			out = append(out, m.MessageID)
		}
		return out
	}
	if got := ids(base + "/messages?subject=REPORT"); !reflect.DeepEqual(got, []string{"<c@host>", "<a@host>"}) {
		t.Fatalf("subject=REPORT: %v", got)
	}
	if got := ids(base + `/messages?subject=["report","quarterly"]&from=sender%40example`); !reflect.DeepEqual(got, []string{"<a@host>"}) {
		t.Fatalf("two subject values and from: %v", got)
	}
	if got := ids(base + "/messages?to=agent%40pigeon.test&from=nobody"); len(got) != 0 {
		t.Fatalf("from=nobody: %v", got)
	}
	var threads wire.ListThreadsResponse
	e.ok("GET", base+"/threads?senders=SENDER&subject=lunch", nil, &threads)
	if threads.Count != 1 || threads.Threads[0].Subject != "Lunch" {
		t.Fatalf("thread filters: %+v", threads)
	}
	// A token issued for one filter is refused for another.
	var page wire.ListMessagesResponse
	e.ok("GET", base+"/messages?subject=report&limit=1", nil, &page)
	if page.NextPageToken == "" {
		t.Fatal("no next page token")
	}
	if resp := e.do("GET", base+"/messages?subject=lunch&limit=1&page_token="+url.QueryEscape(page.NextPageToken), e.key, nil); resp.status != 400 {
		t.Fatalf("token replayed on another filter: %d", resp.status)
	}
}
