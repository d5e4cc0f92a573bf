package local

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/smtp"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// startStack runs a whole local stack on free ports with nothing from the environment.
func startStack(t *testing.T) *Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := Start(ctx, Settings{
		HTTPAddr: "127.0.0.1:0",
		SMTPAddr: "127.0.0.1:0",
		Domain:   "pigeon.local",
		Log:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// apiClient talks to the stack over real HTTP and remembers every status it saw.
type apiClient struct {
	t    *testing.T
	base string
	key  string

	mu       sync.Mutex
	statuses map[string]int // "METHOD path" → status
}

func (c *apiClient) do(method, path, key string, body any) (int, []byte, http.Header) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	c.mu.Lock()
	c.statuses[method+" "+path] = resp.StatusCode
	c.mu.Unlock()
	return resp.StatusCode, data, resp.Header
}

// get decodes a 200 JSON answer into v.
func (c *apiClient) get(path string, v any) {
	c.t.Helper()
	status, body, h := c.do("GET", path, c.key, nil)
	if status != 200 {
		c.t.Fatalf("GET %s: %d %s", path, status, body)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		c.t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	if err := json.Unmarshal(body, v); err != nil {
		c.t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

// wantError checks an error answer: status and the API's error name.
func (c *apiClient) wantError(method, path, key string, status int, name string) {
	c.t.Helper()
	got, body, h := c.do(method, path, key, nil)
	var e wire.Error
	if got != status || json.Unmarshal(body, &e) != nil || (name != "" && e.Name != name) ||
		!strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		c.t.Errorf("%s %s: %d %s (type %q), want %d %s", method, path, got, body, h.Get("Content-Type"), status, name)
	}
}

// download fetches a presigned URL with no credentials at all, as an SDK user's browser would.
func download(t *testing.T, u string) ([]byte, http.Header) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, data)
	}
	return data, resp.Header
}

// sendMail delivers msg over real SMTP.
func sendMail(t *testing.T, addr, from string, rcpts []string, msg []byte) {
	t.Helper()
	if err := smtp.SendMail(addr, nil, from, rcpts, msg); err != nil {
		t.Fatalf("SMTP to %v: %v", rcpts, err)
	}
}

// mailWithAttachment is a multipart/mixed message with a text part and a PDF attachment.
func mailWithAttachment(pdf []byte) []byte {
	b64 := base64.StdEncoding.EncodeToString(pdf)
	var lines []string
	for len(b64) > 76 {
		lines, b64 = append(lines, b64[:76]), b64[76:]
	}
	lines = append(lines, b64)
	return []byte("From: Alice Example <alice@example.com>\r\n" +
		"To: Agent One <agent1@pigeon.local>\r\n" +
		"Subject: Quarterly report\r\n" +
		"Date: Mon, 02 Feb 2026 10:00:00 +0000\r\n" +
		"Message-ID: <report.1@mail.example.com>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n" +
		"\r\n" +
		"--b1\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"Numbers attached.\r\n" +
		".A line that starts with a dot.\r\n" +
		"--b1\r\n" +
		"Content-Type: application/pdf; name=\"report.pdf\"\r\n" +
		"Content-Disposition: attachment; filename=\"report.pdf\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"\r\n" +
		strings.Join(lines, "\r\n") + "\r\n" +
		"--b1--\r\n")
}

// The whole inbound path over real SMTP and real HTTP: mail lands in the right inboxes and
// threads, reads back byte for byte, and bad requests get the API's 4xx errors.
func TestEndToEnd(t *testing.T) {
	st := startStack(t)
	c := &apiClient{t: t, base: st.RESTURL, key: st.APIKey, statuses: map[string]int{}}
	defer func() {
		for req, status := range c.statuses {
			if status >= 500 {
				t.Errorf("%s answered %d", req, status)
			}
		}
	}()

	// Inboxes over REST.
	inboxes := map[string]wire.Inbox{}
	for _, user := range []string{"agent1", "agent2", "agent3"} {
		status, body, _ := c.do("POST", "/v0/inboxes", st.APIKey, map[string]string{"username": user})
		var in wire.Inbox
		if status != 200 || json.Unmarshal(body, &in) != nil || in.InboxID != user+"@pigeon.local" {
			t.Fatalf("create inbox %s: %d %s", user, status, body)
		}
		inboxes[user] = in
	}
	inboxPath := func(user string) string { return "/v0/inboxes/" + url.PathEscape(inboxes[user].InboxID) }

	// Mail over SMTP: a message with an attachment, a reply to it, and one to two inboxes with
	// a third only in the envelope (BCC).
	pdf := make([]byte, 20000)
	_, _ = rand.Read(pdf)
	first := mailWithAttachment(pdf)
	sendMail(t, st.SMTPAddr, "alice@example.com", []string{"agent1@pigeon.local"}, first)
	reply := []byte("From: Bob <bob@example.com>\r\n" +
		"To: agent1@pigeon.local\r\n" +
		"Subject: Re: Quarterly report\r\n" +
		"Date: Mon, 02 Feb 2026 11:00:00 +0000\r\n" +
		"Message-ID: <reply.1@mail.example.com>\r\n" +
		"In-Reply-To: <report.1@mail.example.com>\r\n" +
		"References: <report.1@mail.example.com>\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"Looks good.\r\n\r\n> Numbers attached.\r\n")
	sendMail(t, st.SMTPAddr, "bob@example.com", []string{"agent1@pigeon.local"}, reply)
	shared := []byte("From: Carol <carol@example.com>\r\n" +
		"To: agent1@pigeon.local\r\n" +
		"Cc: Agent Two <agent2@pigeon.local>\r\n" +
		"Subject: Offsite\r\n" +
		"Date: Mon, 02 Feb 2026 12:00:00 +0000\r\n" +
		"Message-ID: <offsite@mail.example.com>\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"Friday?\r\n")
	sendMail(t, st.SMTPAddr, "carol@example.com", []string{"agent1@pigeon.local", "agent2@pigeon.local", "agent3@pigeon.local"}, shared)

	// Messages of each inbox.
	messageIDs := func(user string) []string {
		var list wire.ListMessagesResponse
		c.get(inboxPath(user)+"/messages", &list)
		if list.Count != len(list.Messages) {
			t.Errorf("%s: count %d with %d messages", user, list.Count, len(list.Messages))
		}
		var ids []string
		for _, m := range list.Messages {
			if m.InboxID != inboxes[user].InboxID {
				t.Errorf("%s lists a message of %s", user, m.InboxID)
			}
			ids = append(ids, m.MessageID)
		}
		sort.Strings(ids)
		return ids
	}
	want := map[string][]string{
		"agent1": {"<offsite@mail.example.com>", "<reply.1@mail.example.com>", "<report.1@mail.example.com>"},
		"agent2": {"<offsite@mail.example.com>"},
		"agent3": {"<offsite@mail.example.com>"}, // BCC only: in RCPT TO, in no header
	}
	for user, ids := range want {
		if got := messageIDs(user); fmt.Sprint(got) != fmt.Sprint(ids) {
			t.Errorf("%s messages %v, want %v", user, got, ids)
		}
	}

	// Threads: the reply joined the first message's thread.
	var threads wire.ListThreadsResponse
	c.get(inboxPath("agent1")+"/threads", &threads)
	counts := map[string]int{}
	for _, th := range threads.Threads {
		counts[th.Subject] = th.MessageCount
	}
	if len(threads.Threads) != 2 || threads.Count != 2 || counts["Offsite"] != 1 || max(counts["Quarterly report"], counts["Re: Quarterly report"]) != 2 {
		t.Errorf("agent1 threads: %+v", threads.Threads)
	}

	// One message by its percent-encoded Message-ID, and its attachment.
	msgPath := inboxPath("agent1") + "/messages/" + url.PathEscape("<report.1@mail.example.com>")
	var msg wire.Message
	c.get(msgPath, &msg)
	if msg.MessageID != "<report.1@mail.example.com>" || msg.Subject != "Quarterly report" || len(msg.Attachments) != 1 {
		t.Fatalf("message: %+v", msg)
	}
	var replyMsg wire.Message
	c.get(inboxPath("agent1")+"/messages/"+url.PathEscape("<reply.1@mail.example.com>"), &replyMsg)
	if replyMsg.ThreadID != msg.ThreadID {
		t.Errorf("reply in thread %s, original in %s", replyMsg.ThreadID, msg.ThreadID)
	}
	var thread wire.Thread
	c.get(inboxPath("agent1")+"/threads/"+url.PathEscape(msg.ThreadID), &thread)
	if thread.MessageCount != 2 || len(thread.Messages) != 2 {
		t.Errorf("thread %s: message_count %d, %d messages", msg.ThreadID, thread.MessageCount, len(thread.Messages))
	}

	att := msg.Attachments[0]
	var attResp wire.AttachmentResponse
	c.get(msgPath+"/attachments/"+url.PathEscape(att.AttachmentID), &attResp)
	data, h := download(t, attResp.DownloadURL)
	if sha256.Sum256(data) != sha256.Sum256(pdf) {
		t.Errorf("attachment: %d bytes, differs from the %d sent", len(data), len(pdf))
	}
	if att.ContentType != "application/pdf" || attResp.ContentType != "application/pdf" || att.Filename != "report.pdf" ||
		!strings.HasPrefix(h.Get("Content-Type"), "application/pdf") {
		t.Errorf("attachment type %q / %q / download %q, filename %q", att.ContentType, attResp.ContentType, h.Get("Content-Type"), att.Filename)
	}

	// The raw message is what was sent, after the header block SES prepends.
	var raw wire.RawMessageResponse
	c.get(msgPath+"/raw", &raw)
	data, _ = download(t, raw.DownloadURL)
	if rest, ok := stripSESHeaders(data); !ok || !bytes.Equal(rest, first) {
		t.Errorf("raw message (%d bytes) is not the SES header block followed by the %d bytes sent", len(data), len(first))
	}

	// Bad input.
	c.wantError("GET", "/v0/inboxes/"+url.PathEscape("nobody@pigeon.local")+"/messages", st.APIKey, 404, "NotFoundError")
	c.wantError("GET", inboxPath("agent1")+"/messages/"+url.PathEscape("<missing@x>"), st.APIKey, 404, "NotFoundError")
	for _, q := range []string{"limit=0", "limit=abc", "limit=-1", "page_token=garbage", "page_token=" + url.QueryEscape(base64.URLEncoding.EncodeToString([]byte(`{"pk":"x"}`)))} {
		c.wantError("GET", inboxPath("agent1")+"/messages?"+q, st.APIKey, 400, "ValidationError")
		c.wantError("GET", inboxPath("agent1")+"/threads?"+q, st.APIKey, 400, "ValidationError")
	}
	c.wantError("GET", "/v0/inboxes", "", 401, "")
	c.wantError("GET", "/v0/inboxes", "am_wrongwrongwrongwrongwrongwrongwrongwrongwro", 401, "")
}

// sesHeaderNames are the fields SES prepends to the stored object, in order.
// The local stack does not scan, so X-SES-Spam-Verdict and X-SES-Virus-Verdict are left out.
var sesHeaderNames = []string{"Return-Path", "Received", "Received-SPF", "Authentication-Results",
	"X-SES-RECEIPT", "X-SES-DKIM-SIGNATURE"}

// stripSESHeaders removes exactly the header fields SES prepends (each with its folded
// continuation lines) and reports whether they were all there, in order.
func stripSESHeaders(raw []byte) ([]byte, bool) {
	for _, name := range sesHeaderNames {
		if !bytes.HasPrefix(raw, []byte(name+": ")) {
			return raw, false
		}
		for {
			i := bytes.Index(raw, []byte("\r\n"))
			if i < 0 {
				return raw, false
			}
			raw = raw[i+2:]
			if len(raw) == 0 || (raw[0] != ' ' && raw[0] != '\t') {
				break
			}
		}
	}
	return raw, true
}
