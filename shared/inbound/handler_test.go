package inbound

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pigeon-mail/pigeon/infra/local/embedded"
	"github.com/pigeon-mail/pigeon/shared/blob"
	"github.com/pigeon-mail/pigeon/shared/config"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

const sampleKey = "raw/o3vl8n1ptcso1kh7l2c9sbl9q2vmgbp4e7ce1qo1"

type env struct {
	t     testing.TB
	h     *Handler
	store *store.Store
	blobs *blob.Store
	logs  *bytes.Buffer
}

// newEnv starts embedded DynamoDB and S3, creates the table and the inboxes, and returns a
// handler configured as the local stack would (bucket "pigeon", domain pigeon.local).
func newEnv(t testing.TB, inboxes ...string) *env {
	t.Helper()
	srv, err := embedded.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cfg, err := config.FromLookup(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	blobs := blob.New(srv.S3(), cfg.Bucket, "")
	st := store.New(srv.DynamoDB(), blobs, cfg.Table, []byte("k"))
	ctx := context.Background()
	if err := st.EnsureTable(ctx); err != nil {
		t.Fatal(err)
	}
	for _, addr := range inboxes {
		if _, _, err := st.CreateInbox(ctx, cfg.OrgID, wire.Inbox{Email: addr}); err != nil {
			t.Fatal(err)
		}
	}
	logs := &bytes.Buffer{}
	h := &Handler{Store: st, Blobs: blobs, Config: cfg, Log: slog.New(slog.NewTextHandler(logs, nil))}
	return &env{t: t, h: h, store: st, blobs: blobs, logs: logs}
}

func (e *env) putFile(key, name string) {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.blobs.Put(context.Background(), key, "message/rfc822", data); err != nil {
		e.t.Fatal(err)
	}
}

func readEvent(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// sesEvent is the sample SNS event, with its SES notification changed by edit.
func sesEvent(t testing.TB, edit func(n map[string]any)) []byte {
	t.Helper()
	var ev events.SNSEvent
	if err := json.Unmarshal(readEvent(t, "sns-ses-receipt.json"), &ev); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		var n map[string]any
		if err := json.Unmarshal([]byte(ev.Records[0].SNS.Message), &n); err != nil {
			t.Fatal(err)
		}
		edit(n)
		msg, _ := json.Marshal(n)
		ev.Records[0].SNS.Message = string(msg)
	}
	out, _ := json.Marshal(ev)
	return out
}

func receipt(n map[string]any) map[string]any { return n["receipt"].(map[string]any) }

func withObject(key string, recipients ...string) func(map[string]any) {
	return func(n map[string]any) {
		r := receipt(n)
		r["action"].(map[string]any)["objectKey"] = key
		if len(recipients) > 0 {
			r["recipients"] = recipients
		}
	}
}

func (e *env) handle(event []byte) {
	e.t.Helper()
	if err := e.h.HandleEvent(context.Background(), event); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) messages(inbox string) []wire.MessageItem {
	e.t.Helper()
	items, _, err := e.store.ListMessages(context.Background(), inbox, store.Page{Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return items
}

func (e *env) threads(inbox string) []wire.ThreadItem {
	e.t.Helper()
	items, _, err := e.store.ListThreads(context.Background(), store.Scope{InboxID: inbox}, store.Page{Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return items
}

func (e *env) events(inbox string) []store.EventRecord {
	e.t.Helper()
	items, _, err := e.store.InboxEvents(context.Background(), inbox, store.Page{Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return items
}

// The sample notification, three times: one message, one thread and one event in each
// Pigeon inbox among the envelope recipients — To, Cc and the BCC recipient that only the
// envelope names — and no error for the unknown one.
func TestSESNotificationIsIdempotent(t *testing.T) {
	e := newEnv(t, "agent@pigeon.local", "ops@pigeon.local", "audit@pigeon.local")
	e.putFile(sampleKey, "quarterly.eml")
	event := readEvent(t, "sns-ses-receipt.json")
	for range 3 {
		e.handle(event)
	}
	var ids []string
	for _, inbox := range []string{"agent@pigeon.local", "ops@pigeon.local", "audit@pigeon.local"} {
		msgs, threads, evs := e.messages(inbox), e.threads(inbox), e.events(inbox)
		if len(msgs) != 1 || len(threads) != 1 || len(evs) != 1 {
			t.Fatalf("%s: %d messages, %d threads, %d events; want 1 each", inbox, len(msgs), len(threads), len(evs))
		}
		m := msgs[0]
		if m.MessageID != "<CAF=q1w2e3r4t5y6@mail.example.com>" || m.Subject != "Quarterly numbers" || len(m.Attachments) != 1 ||
			!slices.Equal(m.Labels, []string{"received", "unread"}) || threads[0].MessageCount != 1 {
			t.Fatalf("%s: message %+v thread %+v", inbox, m, threads[0])
		}
		ev := evs[0]
		if ev.EventType != wire.EventMessageReceived || ev.OrgID != "org_pigeon" || ev.PodID != store.DefaultPodID || ev.InboxID != inbox {
			t.Fatalf("%s: event %+v", inbox, ev)
		}
		var payload wire.Event
		if err := json.Unmarshal(ev.Payload, &payload); err != nil || payload.Message == nil || payload.Thread == nil ||
			!strings.Contains(payload.Message.Text, "Revenue is up 12%") || payload.Thread.ThreadID != m.ThreadID {
			t.Fatalf("%s: payload %s (%v)", inbox, ev.Payload, err)
		}
		rec, err := e.store.GetMessage(context.Background(), inbox, m.MessageID)
		if err != nil || rec.RawKey != sampleKey || rec.Verdicts.Spam != "PASS" || rec.Verdicts.DMARC != "PASS" {
			t.Fatalf("%s: record %+v %v", inbox, rec, err)
		}
		ids = append(ids, m.ThreadID)
	}
	if ids[0] == ids[1] || ids[1] == ids[2] {
		t.Fatalf("each inbox has a thread of its own: %v", ids)
	}
	if !strings.Contains(e.logs.String(), "recipient=nobody@pigeon.local") || !strings.Contains(e.logs.String(), "unknown_recipients=1") {
		t.Errorf("unknown recipient not logged:\n%s", e.logs)
	}
}

func TestReplyJoinsThread(t *testing.T) {
	e := newEnv(t, "agent@pigeon.local")
	e.putFile(sampleKey, "quarterly.eml")
	e.putFile("raw/reply-1", "reply.eml")
	e.handle(sesEvent(t, withObject(sampleKey, "agent@pigeon.local")))
	e.handle(sesEvent(t, withObject("raw/reply-1", "agent@pigeon.local")))
	msgs, threads := e.messages("agent@pigeon.local"), e.threads("agent@pigeon.local")
	if len(msgs) != 2 || len(threads) != 1 || msgs[0].ThreadID != msgs[1].ThreadID {
		t.Fatalf("messages %+v threads %+v", msgs, threads)
	}
	th := threads[0]
	if th.MessageCount != 2 || th.LastMessageID != "<reply-1@mail.example.com>" || th.Subject != "Quarterly numbers" ||
		!slices.Equal(th.Senders, []string{"Alice Example <alice@example.com>", "Bob <bob@example.com>"}) {
		t.Fatalf("thread %+v", th)
	}
}

func TestS3Import(t *testing.T) {
	e := newEnv(t, "agent@pigeon.local", "ops@pigeon.local")
	e.putFile("import/2025-01-02/weekly report(1).eml", "import.eml")
	event := readEvent(t, "s3-objectcreated-import.json")
	e.handle(event)
	e.handle(event)
	for _, inbox := range []string{"agent@pigeon.local", "ops@pigeon.local"} {
		msgs := e.messages(inbox)
		if len(msgs) != 1 || msgs[0].Subject != "Weekly report" || len(e.events(inbox)) != 1 {
			t.Fatalf("%s: %+v", inbox, msgs)
		}
		rec, err := e.store.GetMessage(context.Background(), inbox, msgs[0].MessageID)
		if err != nil || rec.RawKey != "import/2025-01-02/weekly report(1).eml" || rec.Verdicts != (store.Verdicts{}) {
			t.Fatalf("%s: %+v %v", inbox, rec, err)
		}
	}
}

func s3Event(t testing.TB, key string) []byte {
	t.Helper()
	var ev events.S3Event
	if err := json.Unmarshal(readEvent(t, "s3-objectcreated-import.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev.Records[0].S3.Object.Key = key
	out, _ := json.Marshal(ev)
	return out
}

func TestSkippedAndFailingObjects(t *testing.T) {
	e := newEnv(t, "agent@pigeon.local")
	ctx := context.Background()
	for name, event := range map[string][]byte{
		"setup notification (S3)":  s3Event(t, "raw/AMAZON_SES_SETUP_NOTIFICATION"),
		"setup notification (SES)": sesEvent(t, withObject("raw/AMAZON_SES_SETUP_NOTIFICATION")),
		"object outside import/":   s3Event(t, "elsewhere/x.eml"),
		"not a receipt":            sesEvent(t, func(n map[string]any) { n["notificationType"] = "Bounce" }),
		"no records":               []byte(`{"Records":[]}`),
	} {
		if err := e.h.HandleEvent(ctx, event); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := e.h.HandleEvent(ctx, sesEvent(t, withObject("raw/missing"))); err == nil {
		t.Error("an unreadable object must be an error, so the platform retries")
	}
	if err := e.h.HandleEvent(ctx, []byte(`[1,2]`)); err == nil {
		t.Error("a malformed event must be an error")
	}
	// Unknown recipients only: not an error, nothing stored.
	e.putFile("raw/stranger", "quarterly.eml")
	if err := e.h.HandleEvent(ctx, sesEvent(t, withObject("raw/stranger", "nobody@pigeon.local"))); err != nil {
		t.Fatal(err)
	}
	if len(e.messages("agent@pigeon.local")) != 0 {
		t.Fatal("delivered to an inbox not among the recipients")
	}
}

func TestVerdicts(t *testing.T) {
	e := newEnv(t, "agent@pigeon.local")
	e.putFile("raw/spam", "quarterly.eml")
	e.handle(sesEvent(t, func(n map[string]any) {
		withObject("raw/spam", "agent@pigeon.local")(n)
		receipt(n)["spamVerdict"] = map[string]any{"status": "FAIL"}
		receipt(n)["dmarcVerdict"] = map[string]any{"status": "FAIL"}
	}))
	msgs, evs := e.messages("agent@pigeon.local"), e.events("agent@pigeon.local")
	if len(msgs) != 1 || !slices.Equal(msgs[0].Labels, []string{"received", "unread", "unauthenticated", "spam"}) ||
		len(evs) != 1 || evs[0].EventType != wire.EventMessageReceivedSpam {
		t.Fatalf("labels %v, events %+v", msgs[0].Labels, evs)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		v      store.Verdicts
		labels []string
		event  string
	}{
		{store.Verdicts{}, nil, wire.EventMessageReceived},
		{store.Verdicts{Spam: "PASS", Virus: "PASS", SPF: "PASS", DKIM: "PASS", DMARC: "PASS"}, nil, wire.EventMessageReceived},
		{store.Verdicts{Spam: "GRAY", SPF: "PROCESSING_FAILED", DMARC: "DISABLED"}, nil, wire.EventMessageReceived},
		{store.Verdicts{Spam: "FAIL"}, []string{"spam"}, wire.EventMessageReceivedSpam},
		{store.Verdicts{Virus: "FAIL"}, []string{"spam"}, wire.EventMessageReceivedSpam},
		{store.Verdicts{SPF: "FAIL"}, nil, wire.EventMessageReceived},
		{store.Verdicts{SPF: "FAIL", DKIM: "FAIL"}, []string{"unauthenticated"}, wire.EventMessageReceivedUnauthenticated},
		{store.Verdicts{DMARC: "FAIL"}, []string{"unauthenticated"}, wire.EventMessageReceivedUnauthenticated},
	}
	for _, tt := range tests {
		labels, event := classify(tt.v)
		if !slices.Equal(labels, tt.labels) || event != tt.event {
			t.Errorf("classify(%+v) = %v %s, want %v %s", tt.v, labels, event, tt.labels, tt.event)
		}
	}
}

func TestOversizedMailIsHeaderOnly(t *testing.T) {
	e := newEnv(t, "agent@pigeon.local")
	e.h.Config.MaxInboundBytes = 1000
	e.putFile(sampleKey, "quarterly.eml")
	e.handle(sesEvent(t, withObject(sampleKey, "agent@pigeon.local")))
	msgs := e.messages("agent@pigeon.local")
	if len(msgs) != 1 || msgs[0].Subject != "Quarterly numbers" || msgs[0].Size != 1813 || len(msgs[0].Attachments) != 0 {
		t.Fatalf("%+v", msgs)
	}
	rec, err := e.store.GetMessage(context.Background(), "agent@pigeon.local", msgs[0].MessageID)
	if err != nil || rec.Text != "" || rec.RawKey != sampleKey {
		t.Fatalf("%+v %v", rec, err)
	}
}

// Mails read header only are told apart by their size too: another body under the same header
// is another message, the same mail again is not.
func TestOversizedMailsWithOneHeader(t *testing.T) {
	e := newEnv(t, "agent@pigeon.local")
	e.h.Config.MaxInboundBytes = 1000
	ctx := context.Background()
	data, err := os.ReadFile(filepath.Join("testdata", "quarterly.eml"))
	if err != nil {
		t.Fatal(err)
	}
	for i, raw := range [][]byte{data, data, append(slices.Clip(data), "\r\nP.S. one more line\r\n"...)} {
		key := fmt.Sprintf("raw/big-%d", i)
		if err := e.blobs.Put(ctx, key, "message/rfc822", raw); err != nil {
			t.Fatal(err)
		}
		e.handle(sesEvent(t, withObject(key, "agent@pigeon.local")))
	}
	if msgs := e.messages("agent@pigeon.local"); len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
}

func TestAddrSpec(t *testing.T) {
	for in, want := range map[string]string{
		"Agent <Agent@Pigeon.Local>": "agent@pigeon.local",
		"<a@b.c>":                    "a@b.c",
		" a@b.c ":                    "a@b.c",
		"undisclosed-recipients:;":   "",
		"@b.c":                       "",
		"":                           "",
	} {
		if got := addrSpec(in); got != want {
			t.Errorf("addrSpec(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkDeliverInbound is the inbound handler end to end against the embedded stores: a
// typical message (text + HTML + a small attachment) to one inbox, a new object each time.
// The embedded DynamoDB copies its whole table on every transaction, so the stores are
// renewed every 50 messages (timer stopped) to keep the figure independent of b.N. The
// servers run in this process: ns/op and allocs include their side of each request.
func BenchmarkDeliverInbound(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "quarterly.eml"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var e *env
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		if i%50 == 0 {
			e = newEnv(b, "agent@pigeon.local")
			e.h.Log = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
		}
		key := fmt.Sprintf("raw/bench-%d", i)
		// A distinct Message-ID per message, so each is a new delivery.
		data := bytes.Replace(raw, []byte("<CAF=q1w2e3r4t5y6@"), []byte(fmt.Sprintf("<bench-%d@", i)), 1)
		if err := e.blobs.Put(ctx, key, "message/rfc822", data); err != nil {
			b.Fatal(err)
		}
		event := sesEvent(b, withObject(key, "agent@pigeon.local"))
		b.StartTimer()
		if err := e.h.HandleEvent(ctx, event); err != nil {
			b.Fatal(err)
		}
	}
}

// A sender on the inbox's receive block list: the mail is kept (labelled blocked, hidden from
// default lists) and emits only message.received.blocked; another inbox without the entry
// receives it normally.
func TestReceiveBlockList(t *testing.T) {
	e := newEnv(t, "agent@pigeon.local", "other@pigeon.local")
	in, err := e.store.GetInbox(context.Background(), "agent@pigeon.local")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.store.CreateListEntry(context.Background(), store.Scope{OrgID: in.OrgID, InboxID: in.InboxID},
		wire.ListEntry{Entry: "example.com", Direction: "receive", ListType: "block", Reason: "no vendors"})
	if err != nil {
		t.Fatal(err)
	}
	e.putFile("raw/blocked", "quarterly.eml") // From: alice@example.com
	e.handle(sesEvent(t, withObject("raw/blocked", "agent@pigeon.local", "other@pigeon.local")))

	msgs, evs := e.messages("agent@pigeon.local"), e.events("agent@pigeon.local")
	if len(msgs) != 1 || !slices.Contains(msgs[0].Labels, wire.LabelBlocked) ||
		len(evs) != 1 || evs[0].EventType != wire.EventMessageReceivedBlocked {
		t.Fatalf("blocked inbox: messages %+v, events %+v", msgs, evs)
	}
	msgs, evs = e.messages("other@pigeon.local"), e.events("other@pigeon.local")
	if len(msgs) != 1 || slices.Contains(msgs[0].Labels, wire.LabelBlocked) ||
		len(evs) != 1 || evs[0].EventType != wire.EventMessageReceived {
		t.Fatalf("other inbox: messages %+v, events %+v", msgs, evs)
	}
}

func TestArrivalTime(t *testing.T) {
	received := time.Date(2026, 11, 23, 12, 0, 9, 160e6, time.UTC)
	cases := []struct {
		date, want time.Time
	}{
		{received.Truncate(time.Second), received},                       // same second: the precise receipt
		{received.Add(-1500 * time.Millisecond), received},               // SES hop within the bound
		{received.Add(-5 * time.Second), received.Add(-5 * time.Second)}, // older Date: the sender's clock
		{received.Add(3 * time.Second), received.Add(3 * time.Second)},   // Date after receipt: kept
	}
	for _, c := range cases {
		if got := arrivalTime(c.date, received); !got.Equal(c.want) {
			t.Errorf("arrivalTime(%v) = %v, want %v", c.date, got, c.want)
		}
	}
}
