package drafts

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/pigeon-mail/pigeon/infra/local/embedded"
	"github.com/pigeon-mail/pigeon/infra/local/sesemu"
	"github.com/pigeon-mail/pigeon/shared/blob"
	"github.com/pigeon-mail/pigeon/shared/mail"
	"github.com/pigeon-mail/pigeon/shared/outbound"
	"github.com/pigeon-mail/pigeon/shared/ses"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

var servers *embedded.Servers

func TestMain(m *testing.M) { os.Exit(embedded.Run(m, &servers)) }

var tableSeq atomic.Int64

// rig is a Sender on the embedded DynamoDB and S3 and a local SES that keeps all mail.
type rig struct {
	s     *Sender
	st    *store.Store
	emu   *sesemu.Server
	inbox store.InboxRecord
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("drafts%d", tableSeq.Add(1))
	if _, err := servers.S3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	st := store.New(servers.DynamoDB(), blob.New(servers.S3(), name, ""), name, []byte("token key"))
	if err := st.EnsureTable(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.CreateInbox(ctx, "org", wire.Inbox{InboxID: "agent@pigeon.local"}); err != nil {
		t.Fatal(err)
	}
	in, err := st.GetInbox(ctx, "agent@pigeon.local")
	if err != nil {
		t.Fatal(err)
	}
	emu := &sesemu.Server{}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	client := sesv2.NewFromConfig(servers.AWSConfig(), func(o *sesv2.Options) {
		o.BaseEndpoint, o.Retryer = aws.String(srv.URL), aws.NopRetryer{}
	})
	out := &outbound.Service{Store: st, Sender: &ses.Sender{Client: client}}
	return &rig{s: &Sender{Store: st, Outbound: out}, st: st, emu: emu, inbox: in}
}

// draft stores a scheduled draft.
func (r *rig) draft(t *testing.T, d wire.Draft, at time.Time, atts ...mail.Attachment) store.DraftRecord {
	t.Helper()
	d.SendAt = &at
	rec, _, err := r.st.CreateDraft(context.Background(), r.inbox, d, atts)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func (r *rig) get(t *testing.T, id string) (store.DraftRecord, bool) {
	t.Helper()
	d, err := r.st.GetDraft(context.Background(), r.inbox.InboxID, id)
	if err != nil && err != store.ErrNotFound {
		t.Fatal(err)
	}
	return d, err == nil
}

func TestSendDue(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	now := time.Now().UTC()
	due := r.draft(t, wire.Draft{To: []string{"bob@example.com"}, Subject: "Due", Text: "now", Labels: []string{"mine"}}, now.Add(-time.Minute),
		mail.Attachment{Attachment: wire.Attachment{Filename: "a.txt", ContentType: "text/plain"}, Content: []byte("attached")})
	later := r.draft(t, wire.Draft{To: []string{"bob@example.com"}, Subject: "Later", Text: "later"}, now.Add(time.Hour))
	broken := r.draft(t, wire.Draft{Subject: "Nobody", Text: "x"}, now.Add(-time.Second)) // no recipient

	sent, err := r.s.SendDue(ctx, now)
	if err != nil || sent != 1 {
		t.Fatalf("SendDue = %d, %v", sent, err)
	}
	if _, ok := r.get(t, due.DraftID); ok {
		t.Fatal("sent draft still there")
	}
	box := r.emu.Outbox()
	if len(box) != 1 || box[0].Subject != "Due" || !strings.Contains(string(box[0].Raw), "attached") && !strings.Contains(string(box[0].Raw), "YXR0YWNoZWQ") {
		t.Fatalf("outbox = %+v", box)
	}
	if d, _ := r.get(t, later.DraftID); d.SendStatus != wire.DraftScheduled {
		t.Fatalf("later = %+v", d.Draft)
	}
	// A draft that cannot be sent as it stands fails at once, with the reason.
	if d, _ := r.get(t, broken.DraftID); d.SendStatus != wire.DraftFailed || !strings.Contains(d.SendError, "recipient") {
		t.Fatalf("broken = %+v", d.Draft)
	}
	// Nothing is due any more.
	if sent, err := r.s.SendDue(ctx, now); sent != 0 || err != nil {
		t.Fatalf("second run = %d, %v", sent, err)
	}
}

func TestSendDueRetries(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	now := time.Now().UTC()

	// Throttled: kept for the next run, then sent.
	d := r.draft(t, wire.Draft{To: []string{"bob@example.com"}, Subject: "Retry", Text: "x"}, now)
	r.emu.FailNext(1, "TooManyRequestsException", "slow down")
	if sent, err := r.s.SendDue(ctx, now); sent != 0 || err == nil {
		t.Fatalf("throttled run = %d, %v", sent, err)
	}
	if got, _ := r.get(t, d.DraftID); got.SendStatus != wire.DraftScheduled || got.SendAttempts != 1 {
		t.Fatalf("after throttling = %+v", got)
	}
	if sent, err := r.s.SendDue(ctx, now); sent != 1 || err != nil {
		t.Fatalf("retry run = %d, %v", sent, err)
	}

	// Rejected: failed at once.
	d = r.draft(t, wire.Draft{To: []string{"bob@example.com"}, Subject: "Rejected", Text: "x"}, now)
	r.emu.FailNext(1, "MessageRejected", "Email address is not verified.")
	if sent, err := r.s.SendDue(ctx, now); sent != 0 || err != nil {
		t.Fatalf("rejected run = %d, %v", sent, err)
	}
	if got, _ := r.get(t, d.DraftID); got.SendStatus != wire.DraftFailed || !strings.Contains(got.SendError, "not verified") {
		t.Fatalf("after rejection = %+v", got)
	}

	// Failing every time: failed after MaxSendAttempts runs.
	d = r.draft(t, wire.Draft{To: []string{"bob@example.com"}, Subject: "Never", Text: "x"}, now)
	r.emu.FailNext(MaxSendAttempts, "TooManyRequestsException", "slow down")
	for i := range MaxSendAttempts {
		if got, _ := r.get(t, d.DraftID); got.SendStatus != wire.DraftScheduled {
			t.Fatalf("before run %d: %+v", i+1, got)
		}
		_, _ = r.s.SendDue(ctx, now)
	}
	if got, _ := r.get(t, d.DraftID); got.SendStatus != wire.DraftFailed || got.SendAttempts != MaxSendAttempts {
		t.Fatalf("after %d throttled runs = %+v", MaxSendAttempts, got)
	}
}

func TestSendDueConcurrentRuns(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	now := time.Now().UTC()
	const n = 12
	for i := range n {
		r.draft(t, wire.Draft{To: []string{"bob@example.com"}, Subject: fmt.Sprint("Draft ", i), Text: "x"}, now.Add(-time.Duration(i)*time.Second))
	}
	var wg sync.WaitGroup
	var total atomic.Int64
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent, err := r.s.SendDue(ctx, now)
			if err != nil {
				t.Error(err)
			}
			total.Add(int64(sent))
		}()
	}
	wg.Wait()
	if total.Load() != n || len(r.emu.Outbox()) != n {
		t.Fatalf("sent %d, outbox %d, want %d each", total.Load(), len(r.emu.Outbox()), n)
	}
}

func TestSendDueDeletedInbox(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	now := time.Now().UTC()
	r.draft(t, wire.Draft{To: []string{"bob@example.com"}, Text: "x"}, now)
	if err := r.st.DeleteInbox(ctx, r.inbox.InboxID); err != nil {
		t.Fatal(err)
	}
	if sent, err := r.s.SendDue(ctx, now); sent != 0 || err != nil {
		t.Fatalf("run = %d, %v", sent, err)
	}
	if left, err := r.st.DueDrafts(ctx, now, 10); err != nil || len(left) != 0 {
		t.Fatalf("due items left: %v %v", left, err)
	}
}
