package sesevents

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pigeon-mail/pigeon/infra/local/embedded"
	"github.com/pigeon-mail/pigeon/shared/blob"
	"github.com/pigeon-mail/pigeon/shared/delivery"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

var servers *embedded.Servers

func TestMain(m *testing.M) { os.Exit(embedded.Run(m, &servers)) }

var tableSeq atomic.Int64

// fixture is a fresh table with one inbox, and a Handler on it.
type fixture struct {
	t     *testing.T
	st    *store.Store
	inbox store.InboxRecord
	h     *Handler
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	table := fmt.Sprintf("sesevents-%d", tableSeq.Add(1))
	st := store.New(servers.DynamoDB(), blob.New(servers.S3(), table, ""), table, []byte("key"))
	if err := st.EnsureTable(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.CreateInbox(ctx, "org", wire.Inbox{Email: "agent@pigeon.example"}); err != nil {
		t.Fatal(err)
	}
	inbox, err := st.GetInbox(ctx, "agent@pigeon.example")
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, st: st, inbox: inbox, h: &Handler{Store: st, Log: slog.New(slog.DiscardHandler)}}
}

// sent records a message as the send path does after SES took it: the synthetic Send applied.
func (f *fixture) sent(sesID string, at time.Time, rcpts ...string) wire.Message {
	f.t.Helper()
	st, _ := delivery.Apply(delivery.New(rcpts), delivery.Notification{Kind: delivery.KindSend, Timestamp: at})
	msg, _, err := f.st.RecordOutbound(context.Background(), store.Outbound{
		Inbox: f.inbox,
		Message: wire.Message{
			MessageID: "<" + sesID + "@email.amazonses.com>", Labels: []string{wire.LabelSent}, Timestamp: at,
			From: f.inbox.InboxID, To: rcpts, Subject: "Hello", Text: "hi", Size: 2, UpdatedAt: at, CreatedAt: at,
		},
		Raw: []byte("From: agent@pigeon.example\r\n\r\nhi\r\n"), SESMessageID: sesID, Delivery: st, Recipients: rcpts,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return msg
}

func (f *fixture) message(id string) store.MessageRecord {
	f.t.Helper()
	m, err := f.st.GetMessage(context.Background(), f.inbox.InboxID, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

// eventTypes counts the inbox's event items by type.
func (f *fixture) eventTypes() map[string]int {
	f.t.Helper()
	recs, _, err := f.st.InboxEvents(context.Background(), f.inbox.InboxID, store.Page{Limit: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range recs {
		out[r.EventType]++
	}
	return out
}

func readSample(t *testing.T, path string) events.SNSEvent {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SNSEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return ev
}

// Every sample SNS notification of events/ through the handler, twice each, against a message
// sent with the samples' SES id to the samples' recipients.
func TestHandleSamples(t *testing.T) {
	f := newFixture(t)
	const sesID = "010001927b4f1d2a-6c1e2f3a-8b9c-4d5e-a6f7-0123456789ab-000000"
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	msg := f.sent(sesID, at, "success@simulator.amazonses.com", "bounce@simulator.amazonses.com",
		"complaint@simulator.amazonses.com", "ooto@simulator.amazonses.com")

	paths, err := filepath.Glob("../../events/sns-ses-*.json")
	if err != nil || len(paths) < 8 {
		t.Fatalf("samples: %v %v", paths, err)
	}
	// Lifecycle order first (Send, Delivery, DeliveryDelay, Bounce, Complaint), then the
	// receipt notification (another topic's; skipped) and the two that end the message.
	order := []string{"send", "delivery", "deliverydelay", "bounce", "complaint", "receipt", "reject", "renderingfailure"}
	sort.Slice(paths, func(i, j int) bool {
		return slices.Index(order, sampleName(paths[i])) < slices.Index(order, sampleName(paths[j]))
	})
	for _, p := range paths {
		ev := readSample(t, p)
		for range 2 {
			if err := f.h.HandleSNS(context.Background(), ev); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
		}
	}

	m := f.message(msg.MessageID)
	if m.Status != "rejected" {
		t.Errorf("status %q", m.Status)
	}
	wantLabels := []string{"sent", "delivered", "delayed", "bounced", "complained", "rejected"}
	if !slices.Equal(m.Labels, wantLabels) {
		t.Errorf("labels %v, want %v", m.Labels, wantLabels)
	}
	byAddr := map[string]string{}
	for _, r := range m.Message.Delivery {
		byAddr[r.Address] = r.Status
	}
	want := map[string]string{
		"success@simulator.amazonses.com": "delivered", "bounce@simulator.amazonses.com": "bounced",
		"complaint@simulator.amazonses.com": "complained", "ooto@simulator.amazonses.com": "delayed",
	}
	if fmt.Sprint(byAddr) != fmt.Sprint(want) {
		t.Errorf("recipients %v", byAddr)
	}
	if got, want := f.eventTypes(), map[string]int{"message.sent": 1, "message.delivered": 1, "message.bounced": 1, "message.complained": 1, "message.rejected": 1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events %v, want %v", got, want)
	}
	blocked, _, err := f.st.ListListEntries(context.Background(), store.Scope{OrgID: "org"}, "send", "block", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	for _, e := range blocked {
		entries = append(entries, e.Entry+": "+e.Reason)
	}
	wantEntries := []string{
		"bounce@simulator.amazonses.com: permanent bounce (Permanent/General) of message " + msg.MessageID,
		"complaint@simulator.amazonses.com: complaint (abuse) about message " + msg.MessageID,
	}
	if !slices.Equal(entries, wantEntries) {
		t.Errorf("block list %q", entries)
	}
}

func sampleName(path string) string {
	base := filepath.Base(path)
	return base[len("sns-ses-") : len(base)-len(".json")]
}

func TestHandleUnknownMessage(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.h.Now = func() time.Time { return now }
	ev := Simulate(Mail{SESMessageID: "unrecorded", Source: "agent@pigeon.example", Destination: []string{"a@example.com"},
		Raw: []byte("From: agent@pigeon.example\r\n\r\n"), Timestamp: now}, Topic{})
	// Foreign mail (no Pigeon tag) is skipped.
	if err := f.h.HandleSNS(context.Background(), ev[1]); err != nil {
		t.Errorf("foreign mail: %v", err)
	}
	// A recent Pigeon message not recorded yet fails, so Lambda retries.
	ev = Simulate(Mail{SESMessageID: "unrecorded", Source: "agent@pigeon.example", Destination: []string{"a@example.com"},
		Tags: map[string]string{InboxTag: "agent_pigeon_example"}, Raw: []byte("From: agent@pigeon.example\r\n\r\n"), Timestamp: now}, Topic{})
	if err := f.h.HandleSNS(context.Background(), ev[1]); err == nil {
		t.Error("a recent unrecorded Pigeon message was skipped")
	}
	// …until RecordGrace has passed.
	f.h.Now = func() time.Time { return now.Add(RecordGrace + time.Minute) }
	if err := f.h.HandleSNS(context.Background(), ev[1]); err != nil {
		t.Errorf("old unrecorded message: %v", err)
	}
	// Not a lifecycle event, and not JSON: skipped.
	for _, body := range []string{`{"eventType":"Open","mail":{"messageId":"x"},"open":{}}`, `not json`} {
		if err := f.h.HandleSNS(context.Background(), events.SNSEvent{Records: []events.SNSEventRecord{{SNS: events.SNSEntity{Message: body}}}}); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
}
