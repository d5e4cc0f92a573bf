package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/mail"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// mailSpec describes a test message; raw renders it as RFC 5322.
type mailSpec struct {
	id, inReplyTo, refs, subject, body string
	from, to                           string
	date                               time.Time
	attachment                         string // content of one text/csv attachment, if any
}

func (m mailSpec) raw() []byte {
	var b strings.Builder
	from, to := m.from, m.to
	if from == "" {
		from = "Alice <alice@example.com>"
	}
	if to == "" {
		to = "agent@x.org"
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n", from, to, m.subject, m.date.Format(time.RFC1123Z))
	if m.id != "" {
		fmt.Fprintf(&b, "Message-ID: %s\r\n", m.id)
	}
	if m.inReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: %s\r\n", m.inReplyTo)
	}
	if m.refs != "" {
		fmt.Fprintf(&b, "References: %s\r\n", m.refs)
	}
	b.WriteString("MIME-Version: 1.0\r\n")
	if m.attachment == "" {
		fmt.Fprintf(&b, "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", m.body)
		return []byte(b.String())
	}
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", m.body)
	fmt.Fprintf(&b, "--XX\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=\"data.csv\"\r\n\r\n%s\r\n--XX--\r\n", m.attachment)
	return []byte(b.String())
}

type fixture struct {
	t     *testing.T
	s     *Store
	inbox InboxRecord
	n     int
}

func newFixture(t *testing.T, addr string) *fixture {
	s, _ := newStore(t)
	f := &fixture{t: t, s: s}
	f.inbox = f.addInbox(addr, "")
	return f
}

func (f *fixture) addInbox(addr, pod string) InboxRecord {
	f.t.Helper()
	ctx := context.Background()
	if pod != "" {
		if _, err := f.s.GetPod(ctx, "org", pod); err != nil {
			if _, _, err := f.s.CreatePod(ctx, "org", wire.Pod{PodID: pod, Name: pod}); err != nil {
				f.t.Fatal(err)
			}
		}
	}
	if _, _, err := f.s.CreateInbox(ctx, "org", wire.Inbox{Email: addr, PodID: pod}); err != nil {
		f.t.Fatal(err)
	}
	return must(f.s.GetInbox(ctx, addr))
}

// deliver delivers m to in from a fresh source key (or from key when given).
func (f *fixture) deliver(in InboxRecord, m mailSpec, key string) (wire.Message, wire.ThreadItem, bool) {
	f.t.Helper()
	if key == "" {
		f.n++
		key = fmt.Sprintf("raw/%d", f.n)
	}
	msg, th, created, err := f.s.DeliverInbound(context.Background(), Delivery{
		Inbox: in, SourceKey: key, Parsed: mail.Parse(m.raw(), m.date.Add(time.Second)), ReceivedAt: m.date.Add(time.Second),
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return msg, th, created
}

func (f *fixture) events(inbox string) []wire.Event {
	f.t.Helper()
	recs, _, err := f.s.InboxEvents(context.Background(), inbox, Page{Limit: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []wire.Event
	for _, r := range recs {
		var ev wire.Event
		if err := json.Unmarshal(r.Payload, &ev); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

var t0 = time.Date(2035, 1, 2, 10, 0, 0, 0, time.UTC)

func TestDeliverInbound(t *testing.T) {
	f := newFixture(t, "agent@x.org")
	ctx := context.Background()
	m1 := mailSpec{id: "<one@example.com>", subject: "Plans", body: "Shall we meet?", date: t0, attachment: "a,b\n1,2"}

	msg, th, created := f.deliver(f.inbox, m1, "raw/abc")
	if !created || msg.MessageID != "<one@example.com>" || !strings.HasPrefix(msg.ThreadID, "thr_") || th.ThreadID != msg.ThreadID {
		t.Fatalf("first delivery = %+v, %v", msg, created)
	}
	if !slices.Equal(msg.Labels, []string{"received", "unread"}) || th.MessageCount != 1 || th.Subject != "Plans" {
		t.Fatalf("labels %v, thread %+v", msg.Labels, th)
	}
	// The same object again: nothing new.
	for range 2 {
		again, th2, created := f.deliver(f.inbox, m1, "raw/abc")
		if created || again.MessageID != msg.MessageID || again.ThreadID != msg.ThreadID || th2.MessageCount != 1 {
			t.Fatalf("repeat = %+v %+v %v", again, th2, created)
		}
	}
	// The same mail from another object (a sender's retry): treated as delivered.
	if dup, _, created := f.deliver(f.inbox, m1, "raw/retried-copy"); created || dup.MessageID != msg.MessageID {
		t.Fatalf("duplicate Message-ID = %+v %v", dup, created)
	}
	evs := f.events("agent@x.org")
	if len(evs) != 1 || evs[0].EventType != wire.EventMessageReceived || evs[0].Type != "event" || !strings.HasPrefix(evs[0].EventID, "evt_") ||
		evs[0].Message.MessageID != msg.MessageID || evs[0].Thread.ThreadID != msg.ThreadID || evs[0].Message.Text == "" {
		t.Fatalf("events = %+v", evs)
	}

	rec := must(f.s.GetMessage(ctx, "agent@x.org", msg.MessageID))
	if rec.RawKey != "raw/abc" || rec.OrgID != "org" || rec.PodID != DefaultPodID || !strings.Contains(rec.Text, "Shall we meet?") || len(rec.Attachments) != 1 {
		t.Fatalf("stored message = %+v", rec)
	}
	att := rec.Attachments[0]
	data, err := f.s.Blobs().Get(ctx, rec.AttachmentKeys[att.AttachmentID])
	if err != nil || !strings.HasPrefix(string(data), "a,b") {
		t.Fatalf("attachment %+v = %q %v", att, data, err)
	}

	// A reply joins the thread, by In-Reply-To or by References alone.
	r1, th, _ := f.deliver(f.inbox, mailSpec{id: "<two@example.com>", inReplyTo: "<one@EXAMPLE.com>", subject: "Re: Plans", body: "Yes", date: t0.Add(time.Hour), from: "bob@example.com"}, "")
	r2, th, _ := f.deliver(f.inbox, mailSpec{id: "<three@example.com>", refs: "<one@example.com> <zzz@example.com>", subject: "Re: Plans", body: "Me too", date: t0.Add(2 * time.Hour)}, "")
	if r1.ThreadID != msg.ThreadID || r2.ThreadID != msg.ThreadID || th.MessageCount != 3 || th.LastMessageID != "<three@example.com>" ||
		!slices.Equal(th.Senders, []string{"Alice <alice@example.com>", "bob@example.com"}) || th.Subject != "Plans" {
		t.Fatalf("replies %s %s, thread %+v", r1.ThreadID, r2.ThreadID, th)
	}
	// An unrelated message starts its own thread.
	other, _, _ := f.deliver(f.inbox, mailSpec{id: "<four@example.com>", subject: "Plans", body: "x", date: t0.Add(3 * time.Hour)}, "")
	if other.ThreadID == msg.ThreadID {
		t.Fatal("unrelated message joined the thread by subject")
	}
	// The same mail in another inbox is a message and a thread of its own.
	second := f.addInbox("second@x.org", "")
	m2, th2, created := f.deliver(second, m1, "raw/abc")
	if !created || m2.InboxID != "second@x.org" || m2.ThreadID == msg.ThreadID || th2.MessageCount != 1 {
		t.Fatalf("second inbox = %+v %+v", m2, th2)
	}
}

func TestDeliverWithoutMessageID(t *testing.T) {
	f := newFixture(t, "agent@x.org")
	m := mailSpec{subject: "no id", body: "hi", date: t0}
	a, _, _ := f.deliver(f.inbox, m, "raw/noid")
	b, _, created := f.deliver(f.inbox, m, "raw/noid")
	if created || a.MessageID != b.MessageID || !strings.HasSuffix(a.MessageID, "@pigeon.invalid>") {
		t.Fatalf("synthetic ids %q %q", a.MessageID, b.MessageID)
	}
	// The id derives from the content: a copy in another object is the same message, another
	// mail is another one.
	if c, _, created := f.deliver(f.inbox, m, "raw/noid-2"); created || c.MessageID != a.MessageID {
		t.Fatalf("copy in another object = %q, created %v", c.MessageID, created)
	}
	m.body = "hi again"
	if c, _, created := f.deliver(f.inbox, m, "raw/noid-3"); !created || c.MessageID == a.MessageID {
		t.Fatalf("another mail without Message-ID = %q, created %v", c.MessageID, created)
	}
}

// A Message-ID names a mail only together with its content: a different mail that reuses one
// is a message of its own, so that nobody can make a mail vanish by sending another with its
// Message-ID first.
func TestDeliverReusedMessageID(t *testing.T) {
	f := newFixture(t, "agent@x.org")
	ctx := context.Background()
	first := mailSpec{id: "<ticket-42@example.com>", subject: "Ticket 42", body: "opened", date: t0, attachment: "first"}
	second := first
	second.body, second.attachment = "closed", "second"

	a, _, _ := f.deliver(f.inbox, first, "")
	b, _, created := f.deliver(f.inbox, second, "")
	if !created || b.MessageID == a.MessageID || !strings.HasSuffix(b.MessageID, "@pigeon.invalid>") {
		t.Fatalf("reused Message-ID: %q then %q, created %v", a.MessageID, b.MessageID, created)
	}
	rec := must(f.s.GetMessage(ctx, "agent@x.org", b.MessageID))
	if rec.Headers["Message-ID"] != "<ticket-42@example.com>" || !strings.Contains(rec.Text, "closed") {
		t.Fatalf("second message keeps its header and body: %v %q", rec.Headers, rec.Text)
	}
	// Each keeps its own attachment although both have the same attachment id.
	for id, want := range map[string]string{a.MessageID: "first", b.MessageID: "second"} {
		rec := must(f.s.GetMessage(ctx, "agent@x.org", id))
		data := must(f.s.Blobs().Get(ctx, rec.AttachmentKeys[rec.Attachments[0].AttachmentID]))
		if strings.TrimSpace(string(data)) != want {
			t.Fatalf("attachment of %s = %q, want %q", id, data, want)
		}
	}
	// Redeliveries of either, from new objects, change nothing.
	for _, m := range []mailSpec{first, second, second} {
		if again, _, created := f.deliver(f.inbox, m, ""); created || (again.MessageID != a.MessageID && again.MessageID != b.MessageID) {
			t.Fatalf("redelivery = %q, created %v", again.MessageID, created)
		}
	}
	// A reply to the Message-ID threads with the first holder of it; the second mail started a
	// thread of its own, as any unrelated mail does.
	reply, _, _ := f.deliver(f.inbox, mailSpec{id: "<re-42@example.com>", inReplyTo: "<ticket-42@example.com>", subject: "Re: Ticket 42", body: "ok", date: t0.Add(time.Hour)}, "")
	if reply.ThreadID != a.ThreadID || b.ThreadID == a.ThreadID {
		t.Fatalf("threads: first %s, second %s, reply %s", a.ThreadID, b.ThreadID, reply.ThreadID)
	}
	if evs := f.events("agent@x.org"); len(evs) != 3 {
		t.Fatalf("%d events, want 3 (first, second, reply)", len(evs))
	}
}

// Two different mails with one Message-ID arriving at once both become messages.
func TestDeliverReusedMessageIDConcurrently(t *testing.T) {
	f := newFixture(t, "agent@x.org")
	ids := make([]string, 4)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			m := mailSpec{id: "<same@example.com>", subject: "race", body: fmt.Sprint("body ", i), date: t0}
			msg, _, created, err := f.s.DeliverInbound(context.Background(), Delivery{
				Inbox: f.inbox, SourceKey: fmt.Sprint("raw/race-", i), Parsed: mail.Parse(m.raw(), t0),
			})
			if err != nil || !created {
				t.Errorf("delivery %d: created %v, %v", i, created, err)
			}
			ids[i] = msg.MessageID
		})
	}
	wg.Wait()
	slices.Sort(ids)
	if len(slices.Compact(ids)) != 4 || ids[3] != "<same@example.com>" {
		t.Fatalf("message ids %q", ids)
	}
}

func TestDeliverLargeBody(t *testing.T) {
	f := newFixture(t, "agent@x.org")
	ctx := context.Background()
	body := strings.Repeat("All work and no play makes Jack a dull boy. ", 2000) // ~88 KB
	msg, _, _ := f.deliver(f.inbox, mailSpec{id: "<big@example.com>", subject: "big", body: body, date: t0}, "")
	rec := must(f.s.GetMessage(ctx, "agent@x.org", msg.MessageID))
	if !strings.Contains(rec.Text, "dull boy") || len(rec.Text) < len(body) {
		t.Fatalf("text of %d bytes", len(rec.Text))
	}
	var it messageItem
	if err := f.s.getItem(ctx, inboxPK("agent@x.org"), messageSK(msg.MessageID), &it); err != nil || it.BodyKey == "" || it.Text != "" {
		t.Fatalf("item body key %q, inline text %d bytes, %v", it.BodyKey, len(it.Text), err)
	}
	ms, _, err := f.s.ThreadMessages(ctx, msg.ThreadID, Page{})
	if err != nil || len(ms) != 1 || len(ms[0].Text) < len(body) {
		t.Fatalf("thread messages = %d, %v", len(ms), err)
	}
	ev := f.events("agent@x.org")[0]
	if size := bodiesOf(ev.Message).size(); size > InlineBodyLimit || ev.Message.Preview == "" {
		t.Fatalf("event bodies %d bytes, preview %q", size, ev.Message.Preview)
	}
}

func TestDeliverConcurrentRepliesToOneThread(t *testing.T) {
	f := newFixture(t, "agent@x.org")
	root, _, _ := f.deliver(f.inbox, mailSpec{id: "<root@example.com>", subject: "root", body: "r", date: t0}, "")
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for i := range 5 {
		wg.Go(func() {
			m := mailSpec{id: fmt.Sprintf("<r%d@example.com>", i), inReplyTo: "<root@example.com>", subject: "re", body: "x", date: t0.Add(time.Duration(i+1) * time.Minute)}
			_, _, _, err := f.s.DeliverInbound(context.Background(), Delivery{
				Inbox: f.inbox, SourceKey: fmt.Sprintf("raw/c%d", i), Parsed: mail.Parse(m.raw(), m.date),
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	th := must(f.s.GetThread(context.Background(), root.ThreadID))
	if th.MessageCount != 6 || th.LastMessageID != "<r4@example.com>" {
		t.Fatalf("thread after concurrent replies = %+v", th.ThreadItem)
	}
}

func messageIDs(items []wire.MessageItem) []string {
	out := make([]string, len(items))
	for i, m := range items {
		out[i] = strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), "@example.com>")
	}
	return out
}

func TestListMessages(t *testing.T) {
	f := newFixture(t, "agent@x.org")
	ctx := context.Background()
	for i := range 5 {
		f.deliver(f.inbox, mailSpec{id: fmt.Sprintf("<m%d@example.com>", i), subject: "s", body: "b", date: t0.Add(time.Duration(i) * time.Hour)}, "")
	}
	// Label one as spam by delivering it so.
	spam := mailSpec{id: "<spam@example.com>", subject: "buy", body: "now", date: t0.Add(10 * time.Hour)}
	if _, _, _, err := f.s.DeliverInbound(ctx, Delivery{Inbox: f.inbox, SourceKey: "raw/spam", Parsed: mail.Parse(spam.raw(), spam.date), Labels: []string{"Spam"}, EventType: wire.EventMessageReceivedSpam}); err != nil {
		t.Fatal(err)
	}
	walk := func(pg Page) []string {
		var all []string
		for {
			items, next, err := f.s.ListMessages(ctx, "agent@x.org", pg)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, messageIDs(items)...)
			if next == "" {
				return all
			}
			pg.Token = next
		}
	}
	tests := []struct {
		name string
		pg   Page
		want []string
	}{
		{"newest first", Page{Limit: 2}, []string{"spam", "m4", "m3", "m2", "m1", "m0"}},
		{"ascending", Page{Limit: 4, Ascending: true}, []string{"m0", "m1", "m2", "m3", "m4", "spam"}},
		{"without spam", Page{Limit: 2, ExcludeLabels: []string{"spam"}}, []string{"m4", "m3", "m2", "m1", "m0"}},
		{"only spam", Page{Labels: []string{"spam", "unread"}}, []string{"spam"}},
		{"before", Page{Before: ptr(t0.Add(2 * time.Hour))}, []string{"m1", "m0"}},
		{"after", Page{After: ptr(t0.Add(2 * time.Hour)), Ascending: true}, []string{"m3", "m4", "spam"}},
		{"between", Page{After: ptr(t0), Before: ptr(t0.Add(3 * time.Hour)), Limit: 1}, []string{"m2", "m1"}},
		{"empty range", Page{After: ptr(t0.Add(3 * time.Hour)), Before: ptr(t0)}, nil},
	}
	for _, tt := range tests {
		if got := walk(tt.pg); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	// A token from another inbox's list is rejected.
	other := f.addInbox("other@x.org", "")
	f.deliver(other, mailSpec{id: "<o1@example.com>", date: t0}, "")
	f.deliver(other, mailSpec{id: "<o2@example.com>", date: t0.Add(time.Minute)}, "")
	_, tok, err := f.s.ListMessages(ctx, "other@x.org", Page{Limit: 1})
	if err != nil || tok == "" {
		t.Fatalf("other inbox page: %q %v", tok, err)
	}
	_, _, err = f.s.ListMessages(ctx, "agent@x.org", Page{Limit: 1, Token: tok})
	wantErr(t, err, ErrBadPageToken)
}

func ptr[T any](v T) *T { return &v }

func threadIDs(list []wire.ThreadItem) []string {
	out := make([]string, len(list))
	for i, th := range list {
		out[i] = th.Subject
	}
	return out
}

func TestThreadsByLastActivity(t *testing.T) {
	f := newFixture(t, "a@x.org")
	ctx := context.Background()
	b := f.addInbox("b@x.org", "pod-b")
	c := f.addInbox("c@x.org", "pod-b")
	f.deliver(f.inbox, mailSpec{id: "<a1@example.com>", subject: "A", date: t0}, "")
	f.deliver(b, mailSpec{id: "<b1@example.com>", subject: "B", date: t0.Add(time.Hour)}, "")
	f.deliver(c, mailSpec{id: "<c1@example.com>", subject: "C", date: t0.Add(2 * time.Hour)}, "")

	list := func(sc Scope) []string {
		items, _, err := f.s.ListThreads(ctx, sc, Page{})
		if err != nil {
			t.Fatal(err)
		}
		return threadIDs(items)
	}
	if got := list(Scope{OrgID: "org"}); !slices.Equal(got, []string{"C", "B", "A"}) {
		t.Fatalf("org threads %v", got)
	}
	// A reply moves A to the top everywhere it is listed.
	f.deliver(f.inbox, mailSpec{id: "<a2@example.com>", inReplyTo: "<a1@example.com>", subject: "Re: A", date: t0.Add(3 * time.Hour)}, "")
	if got := list(Scope{OrgID: "org"}); !slices.Equal(got, []string{"A", "C", "B"}) {
		t.Fatalf("org threads after reply %v", got)
	}
	if got := list(Scope{OrgID: "org", PodID: "pod-b"}); !slices.Equal(got, []string{"C", "B"}) {
		t.Fatalf("pod threads %v", got)
	}
	if got := list(Scope{OrgID: "org", PodID: "pod-b", InboxID: "B@x.org"}); !slices.Equal(got, []string{"B"}) {
		t.Fatalf("inbox threads %v", got)
	}
	items, _, err := f.s.ListThreads(ctx, Scope{OrgID: "org"}, Page{Limit: 2, Ascending: true, Before: ptr(t0.Add(150 * time.Minute))})
	if err != nil || !slices.Equal(threadIDs(items), []string{"B", "C"}) {
		t.Fatalf("ascending before = %v %v", threadIDs(items), err)
	}

	// Deleting an inbox removes its threads from every list.
	if err := f.s.DeleteInbox(ctx, "a@x.org"); err != nil {
		t.Fatal(err)
	}
	if got := list(Scope{OrgID: "org"}); !slices.Equal(got, []string{"C", "B"}) {
		t.Fatalf("org threads after delete %v", got)
	}
	if items, _, _ := f.s.ListMessages(ctx, "a@x.org", Page{}); len(items) != 0 {
		t.Fatalf("messages of a deleted inbox: %v", messageIDs(items))
	}
	_, _, _, err = f.s.DeliverInbound(ctx, Delivery{Inbox: f.inbox, SourceKey: "raw/late", Parsed: mail.Parse(mailSpec{id: "<late@example.com>", date: t0}.raw(), t0)})
	wantErr(t, err, ErrNotFound)
}

func TestThreadMessagesPaging(t *testing.T) {
	f := newFixture(t, "a@x.org")
	ctx := context.Background()
	var threadID string
	for i := range 5 {
		m := mailSpec{id: fmt.Sprintf("<t%d@example.com>", i), subject: "T", body: fmt.Sprint(i), date: t0.Add(time.Duration(i) * time.Minute)}
		if i > 0 {
			m.inReplyTo = fmt.Sprintf("<t%d@example.com>", i-1)
		}
		msg, _, _ := f.deliver(f.inbox, m, "")
		threadID = msg.ThreadID
	}
	var pages [][]string
	pg := Page{Limit: 2}
	for {
		ms, next, err := f.s.ThreadMessages(ctx, threadID, pg)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range ms {
			ids = append(ids, strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), "@example.com>"))
			if m.Text == "" {
				t.Errorf("%s: thread messages carry bodies", m.MessageID)
			}
		}
		pages = append(pages, ids)
		if next == "" {
			break
		}
		pg.Token = next
	}
	if fmt.Sprint(pages) != "[[t3 t4] [t1 t2] [t0]]" {
		t.Fatalf("pages = %v", pages)
	}
}
