package local

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// corpusDir is the real-mail corpus beside the repository; tests that use it skip without it.
const corpusDir = "../../../shared/corpus/real-mail"

// traceOnlyCopies are corpus files that are another corpus file with trace fields in front:
// the same mail, which Pigeon stores once.
var traceOnlyCopies = map[string]string{
	"rubymail/097-example09.eml": "rubymail/089-example01.eml", // two Received fields (RFC 5322 A.4)
}

// newInbox creates an inbox over REST and returns its id.
func newInbox(t *testing.T, c *apiClient, username string) string {
	t.Helper()
	var in wire.Inbox
	status, body, _ := c.do("POST", "/v0/inboxes", c.key, map[string]string{"username": username})
	if status != 200 || json.Unmarshal(body, &in) != nil {
		t.Fatalf("create inbox %s: %d %s", username, status, body)
	}
	return in.InboxID
}

// listedMessages lists every message of an inbox over REST, following page tokens, spam,
// blocked and unauthenticated mail included.
func listedMessages(t *testing.T, c *apiClient, inbox string) []wire.MessageItem {
	t.Helper()
	var all []wire.MessageItem
	token := ""
	for range 100 {
		q := url.Values{"limit": {"100"}, "include_spam": {"true"}, "include_blocked": {"true"}, "include_unauthenticated": {"true"}}
		if token != "" {
			q.Set("page_token", token)
		}
		var page wire.ListMessagesResponse
		c.get("/v0/inboxes/"+url.PathEscape(inbox)+"/messages?"+q.Encode(), &page)
		all = append(all, page.Messages...)
		if token = page.NextPageToken; token == "" {
			return all
		}
	}
	t.Fatal("more than 100 pages")
	return nil
}

// Every mail of the corpus, sent in one SMTP session, is one listed message: nothing refused
// for its line length, nothing taken for a redelivery because it reuses a Message-ID.
func TestSMTPCorpusOneSession(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("corpus not present: %v", err)
	}
	var files []string
	err := filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".eml") {
			files = append(files, path)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("corpus: %d files, %v", len(files), err)
	}
	st := startStack(t)
	c := &apiClient{t: t, base: st.RESTURL, key: st.APIKey, statuses: map[string]int{}}
	inbox := newInbox(t, c, "corpus")

	// The mails as they travel: SMTP clients send CRLF line ends, so files that differ only in
	// line ends are one mail on the wire; trace-only copies are one mail too.
	distinct := map[string]string{} // wire form → first file
	raws := map[string][]byte{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(corpusDir, f)
		raws[filepath.ToSlash(rel)] = raw
		onWire := string(bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n")))
		if _, ok := distinct[onWire]; !ok {
			distinct[onWire] = rel
		}
	}
	for cp, orig := range traceOnlyCopies {
		head, ok := bytes.CutSuffix(raws[cp], raws[orig])
		if !ok || !bytes.HasPrefix(head, []byte("Received: ")) || bytes.Contains(head, []byte("\n\n")) {
			t.Fatalf("%s is not %s with trace fields in front", cp, orig)
		}
	}
	want := len(distinct) - len(traceOnlyCopies)

	s := dialSMTP(t, st.SMTPAddr)
	for _, f := range files {
		rel, _ := filepath.Rel(corpusDir, f)
		if reply := s.send("corpus@sender.example", []string{inbox}, raws[filepath.ToSlash(rel)]); reply != "" {
			t.Errorf("%s refused: %s", rel, reply)
		}
	}
	msgs := listedMessages(t, c, inbox)
	if len(msgs) != want {
		t.Errorf("%d mails (%d distinct) sent in one session, %d messages listed, want %d", len(files), len(distinct), len(msgs), want)
	}
	ids := map[string]bool{}
	for _, m := range msgs {
		ids[m.MessageID] = true
	}
	if len(ids) != len(msgs) {
		t.Errorf("%d message ids among %d messages", len(ids), len(msgs))
	}
}

// Over SMTP, a duplicate is the same mail, not the same Message-ID.
func TestSMTPDuplicates(t *testing.T) {
	st := startStack(t)
	c := &apiClient{t: t, base: st.RESTURL, key: st.APIKey, statuses: map[string]int{}}
	inbox := newInbox(t, c, "dups")
	mail := func(id, body string) []byte {
		h := "From: Alice <alice@example.com>\r\nTo: " + inbox + "\r\nSubject: Order 42\r\nDate: Mon, 02 Feb 2026 10:00:00 +0000\r\n"
		if id != "" {
			h += "Message-ID: " + id + "\r\n"
		}
		return []byte(h + "Content-Type: text/plain\r\n\r\n" + body + "\r\n")
	}
	count := func() int { return len(listedMessages(t, c, inbox)) }
	send := func(msg []byte) {
		t.Helper()
		if reply := dialSMTP(t, st.SMTPAddr).send("alice@example.com", []string{inbox}, msg); reply != "" {
			t.Fatalf("refused: %s", reply)
		}
	}
	steps := []struct {
		name string
		msg  []byte
		want int
	}{
		{"a mail", mail("<order-42@example.com>", "Where is my order?"), 1},
		{"the same bytes again, in a new session", mail("<order-42@example.com>", "Where is my order?"), 1},
		{"the same Message-ID with another body", mail("<order-42@example.com>", "Never mind, it came."), 2},
		{"that second mail again", mail("<order-42@example.com>", "Never mind, it came."), 2},
		{"a mail without Message-ID", mail("", "No id here."), 3},
		{"the same mail without Message-ID again", mail("", "No id here."), 3},
	}
	for _, s := range steps {
		send(s.msg)
		if got := count(); got != s.want {
			t.Fatalf("after %s: %d messages, want %d", s.name, got, s.want)
		}
	}
	msgs := listedMessages(t, c, inbox)
	var ids []string
	for _, m := range msgs {
		ids = append(ids, m.MessageID)
	}
	if !slices.Contains(ids, "<order-42@example.com>") {
		t.Errorf("message ids %q lack the Message-ID of the first mail", ids)
	}
	// The second mail keeps its Message-ID in its headers.
	for _, id := range ids {
		if id == "<order-42@example.com>" || !strings.HasSuffix(id, "@pigeon.invalid>") {
			continue
		}
		var m wire.Message
		c.get("/v0/inboxes/"+url.PathEscape(inbox)+"/messages/"+url.PathEscape(id), &m)
		if strings.Contains(m.Text, "Never mind") && m.Headers["Message-ID"] != "<order-42@example.com>" {
			t.Errorf("second mail's headers %v", m.Headers)
		}
	}

	// The stack refuses a recipient of its domain that is no inbox at RCPT, and the session goes on.
	s := dialSMTP(t, st.SMTPAddr)
	if reply := s.send("alice@example.com", []string{"nobody@pigeon.local"}, mail("<x@example.com>", "x")); !strings.HasPrefix(reply, "550 5.1.1 ") {
		t.Errorf("unknown recipient: %q, want 550 5.1.1", reply)
	}
	if reply := s.send("alice@example.com", []string{inbox}, mail("<y@example.com>", "y")); reply != "" {
		t.Errorf("after the refusal: %q", reply)
	}
}
