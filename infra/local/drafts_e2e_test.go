package local

import (
	"context"
	"log/slog"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// TestScheduledDrafts: drafts scheduled over REST are sent by the local stack's scheduler
// ticker through the send path, and disappear once sent; a scheduled reply draft joins the
// conversation's thread on both sides.
func TestScheduledDrafts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := Start(ctx, Settings{
		HTTPAddr: "127.0.0.1:0", SMTPAddr: "127.0.0.1:0", Domain: "pigeon.local",
		Lookup: func(name string) (string, bool) {
			if name == "PIGEON_SCHEDULER_INTERVAL" {
				return "250ms", true
			}
			return "", false
		},
		Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	c := sender{t, st}
	a, b := c.inbox("alice", "Agent Alice"), c.inbox("bob", "Agent Bob")
	drafts := func(inbox string) string { return "/v0/inboxes/" + url.PathEscape(inbox) + "/drafts" }

	// A draft due in two seconds waits, then goes out.
	sendAt := time.Now().Add(2 * time.Second).UTC()
	var d wire.Draft
	c.ok("POST", drafts(a), map[string]any{
		"to": []string{b}, "subject": "Later", "text": "Sent by the scheduler.", "labels": []string{"scheduled-test"},
		"send_at": sendAt.Format(time.RFC3339Nano),
	}, &d)
	if d.SendStatus != wire.DraftScheduled || d.SendAt == nil {
		t.Fatalf("draft %+v", d)
	}
	var still wire.Draft
	c.ok("GET", drafts(a)+"/"+d.DraftID, nil, &still)
	if still.SendStatus != wire.DraftScheduled {
		t.Fatalf("before send_at: %+v", still)
	}
	awaitGone(t, c, drafts(a)+"/"+d.DraftID)
	if time.Now().Before(sendAt) {
		t.Fatalf("sent before its send_at %s", sendAt)
	}
	got := c.received(b)
	if got.Subject != "Later" {
		t.Fatalf("bob received %+v", got)
	}
	mine := c.message(a, got.MessageID)
	if !slices.Contains(mine.Labels, wire.LabelSent) || !slices.Contains(mine.Labels, "scheduled-test") {
		t.Fatalf("alice's sent copy %+v", mine)
	}
	if th := c.thread(a, mine.ThreadID); th.MessageCount != 1 || th.Messages[0].MessageID != mine.MessageID {
		t.Fatalf("alice's thread %+v", th)
	}
	var list wire.ListDraftsResponse
	c.ok("GET", drafts(a), nil, &list)
	if list.Count != 0 {
		t.Fatalf("drafts left: %+v", list)
	}

	// Bob schedules a reply for now: it is derived from the message, sent at the next tick,
	// and joins the thread on both sides.
	var reply wire.Draft
	c.ok("POST", drafts(b), map[string]any{
		"in_reply_to": got.MessageID, "text": "Received, thanks.", "send_at": time.Now().UTC().Format(time.RFC3339Nano),
	}, &reply)
	if reply.Subject != "Re: Later" || len(reply.To) != 1 || reply.SendStatus != wire.DraftScheduled {
		t.Fatalf("reply draft %+v", reply)
	}
	awaitGone(t, c, drafts(b)+"/"+reply.DraftID)
	back := c.received(a)
	if back.ThreadID != mine.ThreadID || back.Subject != "Re: Later" || back.InReplyTo != mine.MessageID {
		t.Fatalf("alice got %+v, want it in thread %s", back, mine.ThreadID)
	}
	if th := c.thread(b, got.ThreadID); th.MessageCount != 2 || !slices.Contains(th.Messages[1].Labels, wire.LabelSent) {
		t.Fatalf("bob's thread %+v", th)
	}
}

// awaitGone waits until the draft at path is gone (sent and deleted).
func awaitGone(t *testing.T, c sender, path string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, body, _ := c.call("GET", path, nil, nil)
		switch {
		case status == 404:
			return
		case status != 200:
			t.Fatalf("GET %s: %d %s", path, status, body)
		case time.Now().After(deadline):
			t.Fatalf("draft still there: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
