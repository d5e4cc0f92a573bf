package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/delivery"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// sent records a message sent from the fixture's inbox to rcpts as the send path does: SES id
// sesID, the lifecycle after a synthetic Send, and its message.sent event.
func (f *fixture) sent(sesID string, rcpts ...string) wire.Message {
	f.t.Helper()
	f.n++
	msgID := fmt.Sprintf("<%s@email.amazonses.com>", sesID)
	st, _ := delivery.Apply(delivery.New(rcpts), delivery.Notification{Kind: delivery.KindSend, Timestamp: t0})
	msg, _, err := f.s.RecordOutbound(context.Background(), Outbound{
		Inbox: f.inbox,
		Message: wire.Message{
			MessageID: msgID, Labels: []string{wire.LabelSent}, Timestamp: t0, From: f.inbox.InboxID,
			To: rcpts, Subject: "hello", Text: "hi", Size: 10, UpdatedAt: t0, CreatedAt: t0,
		},
		Raw: []byte("From: x\r\n\r\nhi\r\n"), SESMessageID: sesID, Delivery: st, Recipients: rcpts,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return msg
}

func (f *fixture) apply(sesID string, n delivery.Notification) bool {
	f.t.Helper()
	changed, err := f.s.ApplyDeliveryNotification(context.Background(), sesID, n)
	if err != nil {
		f.t.Fatal(err)
	}
	return changed
}

func (f *fixture) eventsOf(messageID string) map[string][]wire.Event {
	f.t.Helper()
	out := map[string][]wire.Event{}
	for _, ev := range f.events(f.inbox.InboxID) {
		if ev.MessageID() == messageID {
			out[ev.EventType] = append(out[ev.EventType], ev)
		}
	}
	return out
}

func bounceNote(id string, subType string, rcpts ...string) delivery.Notification {
	n := delivery.Notification{ID: id, Kind: delivery.KindBounce, Timestamp: t0.Add(time.Second), Recipients: rcpts,
		Type: "Permanent", SubType: subType, Diagnostics: map[string]string{}}
	for _, r := range rcpts {
		n.Diagnostics[r] = "smtp; 550 5.1.1 user unknown"
	}
	return n
}

func TestApplyDeliveryNotification(t *testing.T) {
	f := newFixture(t, "agent@x.org")
	ctx := context.Background()
	msg := f.sent("ses-1", "ok@example.com", "gone@example.com")

	// The real Send after the send path's synthetic one changes nothing.
	if f.apply("ses-1", delivery.Notification{ID: "sns-send", Kind: delivery.KindSend, Timestamp: t0}) {
		t.Error("Send after the synthetic Send changed the message")
	}
	delivered := delivery.Notification{ID: "sns-d1", Kind: delivery.KindDelivery, Timestamp: t0.Add(time.Second), Recipients: []string{"ok@example.com"}}
	if !f.apply("ses-1", delivered) {
		t.Fatal("Delivery changed nothing")
	}
	if f.apply("ses-1", delivered) {
		t.Error("a duplicate Delivery changed the message")
	}
	got := must(f.s.GetMessage(ctx, f.inbox.InboxID, msg.MessageID))
	if got.Status != "sent" || !slices.Contains(got.Labels, "delivered") {
		t.Errorf("after one of two deliveries: status %q labels %v", got.Status, got.Labels)
	}
	if !f.apply("ses-1", bounceNote("feedback-1", "General", "gone@example.com")) {
		t.Fatal("Bounce changed nothing")
	}
	if f.apply("ses-1", bounceNote("feedback-1", "General", "gone@example.com")) {
		t.Error("a duplicate Bounce changed the message")
	}
	got = must(f.s.GetMessage(ctx, f.inbox.InboxID, msg.MessageID))
	if got.Status != "bounced" || !slices.Equal(got.Labels, []string{"sent", "delivered", "bounced"}) {
		t.Errorf("status %q labels %v", got.Status, got.Labels)
	}
	want := []wire.DeliveryRecipient{
		{Address: "ok@example.com", Status: "delivered", UpdatedAt: t0.Add(time.Second)},
		{Address: "gone@example.com", Status: "bounced", Detail: "Permanent/General: smtp; 550 5.1.1 user unknown", UpdatedAt: t0.Add(time.Second)},
	}
	if !slices.Equal(got.Message.Delivery, want) {
		t.Errorf("delivery\n got %+v\nwant %+v", got.Message.Delivery, want)
	}
	th := must(f.s.GetThread(ctx, got.ThreadID))
	if !slices.Contains(th.Labels, "bounced") || !slices.Contains(th.Labels, "delivered") {
		t.Errorf("thread labels %v", th.Labels)
	}

	evs := f.eventsOf(msg.MessageID)
	if len(evs["message.sent"]) != 1 || len(evs["message.delivered"]) != 1 || len(evs["message.bounced"]) != 1 || len(evs) != 3 {
		t.Fatalf("events %v", evs)
	}
	b := evs["message.bounced"][0].Bounce
	if b.Type != "Permanent" || b.SubType != "General" || len(b.Recipients) != 1 || b.Recipients[0] != (wire.BounceRecipient{Address: "gone@example.com", Status: "5.1.1"}) || b.ThreadID != got.ThreadID {
		t.Errorf("bounce payload %+v", b)
	}
	if d := evs["message.delivered"][0].Delivery; !slices.Equal(d.Recipients, []string{"ok@example.com"}) || !d.Timestamp.Equal(t0.Add(time.Second)) {
		t.Errorf("delivery payload %+v", d)
	}

	e, err := f.s.GetListEntry(ctx, Scope{OrgID: "org"}, "send", "block", "gone@example.com")
	if err != nil || e.Reason != "permanent bounce (Permanent/General) of message "+msg.MessageID {
		t.Errorf("block entry %+v %v", e, err)
	}
	if _, err := f.s.GetListEntry(ctx, Scope{OrgID: "org"}, "send", "block", "ok@example.com"); err == nil {
		t.Error("a delivered recipient was blocked")
	}

	// The filter by status.
	f.sent("ses-2", "other@example.com")
	list, _, err := f.s.ListMessagesWithStatus(ctx, f.inbox.InboxID, "bounced", Page{})
	if err != nil || len(list) != 1 || list[0].MessageID != msg.MessageID || list[0].Status != "bounced" || len(list[0].Delivery) != 2 {
		t.Errorf("bounced messages: %+v %v", list, err)
	}
	list, _, err = f.s.ListMessagesWithStatus(ctx, f.inbox.InboxID, "sent", Page{})
	if err != nil || len(list) != 1 || list[0].MessageID == msg.MessageID {
		t.Errorf("sent messages: %+v %v", list, err)
	}
}

// Each payload carries exactly its documented keys.
func TestLifecycleEventKeys(t *testing.T) {
	f := newFixture(t, "agent@x.org")
	msg := f.sent("ses-1", "a@example.com")
	f.apply("ses-1", delivery.Notification{ID: "d", Kind: delivery.KindDelivery, Timestamp: t0, Recipients: []string{"a@example.com"}})
	f.apply("ses-1", delivery.Notification{ID: "c", Kind: delivery.KindComplaint, Timestamp: t0, Recipients: []string{"a@example.com"}, Type: "abuse"})
	f.apply("ses-1", delivery.Notification{ID: "r", Kind: delivery.KindReject, Timestamp: t0, Reason: "Bad content"})
	f2 := f.sent("ses-2", "b@example.com")
	f.apply("ses-2", bounceNote("fb", "OnAccountSuppressionList", "b@example.com"))

	common := []string{"inbox_id", "message_id", "thread_id", "timestamp"}
	want := map[string][]string{
		"message.sent":       append([]string{"recipients"}, common...),
		"message.delivered":  append([]string{"recipients"}, common...),
		"message.complained": append([]string{"recipients", "sub_type", "type"}, common...),
		"message.rejected":   append([]string{"reason"}, common...),
		"message.bounced":    append([]string{"recipients", "sub_type", "type"}, common...),
	}
	payloadKey := map[string]string{"message.sent": "send", "message.delivered": "delivery", "message.complained": "complaint", "message.rejected": "reject", "message.bounced": "bounce"}
	recs, _, err := f.s.InboxEvents(context.Background(), f.inbox.InboxID, Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		var top map[string]json.RawMessage
		if err := json.Unmarshal(r.Payload, &top); err != nil {
			t.Fatal(err)
		}
		pk := payloadKey[r.EventType]
		envelope := []string{"event_id", "event_type", pk, "type"}
		sort.Strings(envelope)
		if keys := sortedKeys(top); !slices.Equal(keys, envelope) {
			t.Errorf("%s: envelope keys %v", r.EventType, keys)
		}
		var payload map[string]json.RawMessage
		if err := json.Unmarshal(top[pk], &payload); err != nil {
			t.Fatal(err)
		}
		w := slices.Clone(want[r.EventType])
		sort.Strings(w)
		if keys := sortedKeys(payload); !slices.Equal(keys, w) {
			t.Errorf("%s: payload keys %v, want %v", r.EventType, keys, w)
		}
		seen[r.EventType] = true
	}
	if len(seen) != len(want) {
		t.Errorf("event types seen: %v", seen)
	}
	got := must(f.s.GetMessage(context.Background(), f.inbox.InboxID, msg.MessageID))
	if got.Status != "rejected" || !slices.Equal(got.Labels, []string{"sent", "delivered", "complained", "rejected"}) {
		t.Errorf("status %q labels %v", got.Status, got.Labels)
	}
	ctx := context.Background()
	if e, err := f.s.GetListEntry(ctx, Scope{OrgID: "org"}, "send", "block", "a@example.com"); err != nil || e.Reason != "complaint (abuse) about message "+msg.MessageID {
		t.Errorf("complaint entry %+v %v", e, err)
	}
	if e, err := f.s.GetListEntry(ctx, Scope{OrgID: "org"}, "send", "block", "b@example.com"); err != nil || e.Reason != "permanent bounce (Permanent/OnAccountSuppressionList) of message "+f2.MessageID {
		t.Errorf("suppression-list entry %+v %v", e, err)
	}
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestDeliveryDelayAndTransientBounce(t *testing.T) {
	f := newFixture(t, "agent@x.org")
	ctx := context.Background()
	msg := f.sent("ses-1", "slow@example.com")
	f.apply("ses-1", delivery.Notification{ID: "dd", Kind: delivery.KindDeliveryDelay, Timestamp: t0, Recipients: []string{"slow@example.com"}, Type: "MailboxFull"})
	got := must(f.s.GetMessage(ctx, f.inbox.InboxID, msg.MessageID))
	if got.Status != "delayed" || !slices.Contains(got.Labels, "delayed") {
		t.Errorf("status %q labels %v", got.Status, got.Labels)
	}
	n := bounceNote("fb", "MailboxFull", "slow@example.com")
	n.Type = "Transient"
	f.apply("ses-1", n)
	got = must(f.s.GetMessage(ctx, f.inbox.InboxID, msg.MessageID))
	if got.Status != "bounced" || !slices.Equal(got.Labels, []string{"sent", "delayed", "bounced"}) {
		t.Errorf("status %q labels %v", got.Status, got.Labels)
	}
	if _, err := f.s.GetListEntry(ctx, Scope{OrgID: "org"}, "send", "block", "slow@example.com"); err == nil {
		t.Error("a transient bounce suppressed the address")
	}
	if evs := f.eventsOf(msg.MessageID); len(evs["message.bounced"]) != 1 || len(evs) != 2 {
		t.Errorf("events %v", evs)
	}
}

func TestApplyUnknownSESMessage(t *testing.T) {
	f := newFixture(t, "agent@x.org")
	_, err := f.s.ApplyDeliveryNotification(context.Background(), "not-ours", delivery.Notification{Kind: delivery.KindDelivery})
	wantErr(t, err, ErrNotFound)
}

// Notifications about one message arriving at once (SNS fans them out concurrently): every
// recipient ends delivered, and each gets exactly one message.delivered.
func TestConcurrentNotifications(t *testing.T) {
	f := newFixture(t, "agent@x.org")
	var rcpts []string
	for i := range 8 {
		rcpts = append(rcpts, fmt.Sprintf("r%d@example.com", i))
	}
	msg := f.sent("ses-1", rcpts...)
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(rcpts))
	for i, r := range rcpts {
		for range 2 { // each twice: SNS duplicates
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.s.ApplyDeliveryNotification(context.Background(), "ses-1", delivery.Notification{
					ID: fmt.Sprint("d", i), Kind: delivery.KindDelivery, Timestamp: t0, Recipients: []string{r},
				})
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := must(f.s.GetMessage(context.Background(), f.inbox.InboxID, msg.MessageID))
	if got.Status != "delivered" || !slices.Equal(got.Labels, []string{"sent", "delivered"}) {
		t.Errorf("status %q labels %v", got.Status, got.Labels)
	}
	var delivered []string
	for _, ev := range f.eventsOf(msg.MessageID)["message.delivered"] {
		delivered = append(delivered, ev.Delivery.Recipients...)
	}
	sort.Strings(delivered)
	if !slices.Equal(delivered, rcpts) {
		t.Errorf("delivered events for %v", delivered)
	}
}
