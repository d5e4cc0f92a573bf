package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/thread"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// A hostile message (thousands of recipients, headers and attachments, huge ids) still makes
// message and event items well below DynamoDB's 400 KB.
func TestItemsStayBelowTheItemLimit(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	m := wire.Message{
		InboxID: "a@x.org", ThreadID: "thr_1", MessageID: "<id@x>", Labels: []string{"received", "unread"},
		Timestamp: time.Now(), From: long(100_000), Subject: long(100_000), Preview: long(10_000),
		Text: long(InlineBodyLimit / 2), HTML: long(InlineBodyLimit / 2), InReplyTo: long(10_000),
		Headers: map[string]string{},
	}
	for i := range 5000 {
		addr := fmt.Sprintf("recipient-%d-%s@example.com", i, long(40))
		m.To, m.Cc, m.Bcc, m.ReplyTo = append(m.To, addr), append(m.Cc, addr), append(m.Bcc, addr), append(m.ReplyTo, addr)
		m.References = append(m.References, "<"+addr+">")
		m.Headers[fmt.Sprintf("X-Header-%d", i)] = long(5000)
	}
	for i := range 1000 {
		m.Attachments = append(m.Attachments, wire.Attachment{AttachmentID: fmt.Sprintf("att_%d", i), Filename: long(1000), ContentType: "application/pdf", ContentID: long(200)})
	}
	capMessage(&m)
	var th *wire.ThreadItem
	for range 200 {
		next := thread.Apply(th, m, time.Now())
		th = &next
	}
	item, _ := json.Marshal(messageItem{keys: messageKeys(&m), MessageRecord: MessageRecord{Message: m}})
	event, _ := json.Marshal(wire.Event{Type: "event", EventType: wire.EventMessageReceived, EventID: "evt_x", Message: &m, Thread: th})
	threadItem, _ := json.Marshal(th)
	for name, size := range map[string]int{"message": len(item), "event": len(event), "thread": len(threadItem)} {
		if size > 350_000 {
			t.Errorf("%s item of %d bytes", name, size)
		}
		t.Logf("%s item: %d bytes", name, size)
	}
}
