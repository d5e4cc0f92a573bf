package outbound

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/pigeon-mail/pigeon/infra/local/embedded"
	"github.com/pigeon-mail/pigeon/infra/local/sesemu"
	"github.com/pigeon-mail/pigeon/shared/blob"
	"github.com/pigeon-mail/pigeon/shared/ses"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// roundTrips counts the HTTP requests the AWS clients make (DynamoDB, S3 and SES alike).
type roundTrips struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *roundTrips) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// rig is a Service on embedded DynamoDB and S3 and a local SES, through the real SDK clients,
// with every AWS request counted.
type rig struct {
	svc   *Service
	emu   *sesemu.Server
	trips *roundTrips
	inbox store.InboxRecord
}

var tableSeq atomic.Int64

func newRig(tb testing.TB) *rig {
	tb.Helper()
	servers, err := embedded.Start()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(servers.Close)
	emu := &sesemu.Server{}
	sesSrv := httptest.NewServer(emu)
	tb.Cleanup(sesSrv.Close)

	trips := &roundTrips{next: http.DefaultTransport}
	hc := &http.Client{Transport: trips}
	cfg := servers.AWSConfig()
	cfg.HTTPClient = hc
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(servers.DynamoDBURL) })
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = aws.String(servers.S3URL), true })
	sesc := sesv2.NewFromConfig(cfg, func(o *sesv2.Options) { o.BaseEndpoint = aws.String(sesSrv.URL) })

	ctx := context.Background()
	name := fmt.Sprintf("out%d", tableSeq.Add(1))
	blobs := blob.New(s3c, "bucket-"+name, "")
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bucket-" + name)}); err != nil {
		tb.Fatal(err)
	}
	st := store.New(db, blobs, name, []byte("token-key"))
	if err := st.EnsureTable(ctx); err != nil {
		tb.Fatal(err)
	}
	in, _, err := st.CreateInbox(ctx, "org", wire.Inbox{InboxID: "agent@pigeon.local", DisplayName: "Agent"})
	if err != nil {
		tb.Fatal(err)
	}
	rec, err := st.GetInbox(ctx, in.InboxID)
	if err != nil {
		tb.Fatal(err)
	}
	return &rig{svc: &Service{Store: st, Sender: &ses.Sender{Client: sesc}}, emu: emu, trips: trips, inbox: rec}
}

func TestConcurrentDuplicatesSendOnce(t *testing.T) {
	r := newRig(t)
	req := Request{Kind: KindSend, To: []string{"x@example.com"}, Text: "once", IdempotencyKey: "k"}
	var wg sync.WaitGroup
	results := make([]Result, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = r.svc.Send(context.Background(), r.inbox, req) })
	}
	wg.Wait()
	sent := ""
	for i, err := range errs {
		switch {
		case errors.Is(err, store.ErrSendInProgress):
		case err != nil:
			t.Fatal(err)
		case sent == "":
			sent = results[i].MessageID
		case results[i].MessageID != sent:
			t.Errorf("two different messages for one key: %s, %s", sent, results[i].MessageID)
		}
	}
	if n := len(r.emu.Outbox()); n != 1 {
		t.Fatalf("SES sent %d messages for one Idempotency-Key", n)
	}
	again, err := r.svc.Send(context.Background(), r.inbox, req)
	if err != nil || !again.Replayed || again.MessageID != "<"+r.emu.Outbox()[0].SESMessageID+"@email.amazonses.com>" {
		t.Errorf("replay = %+v, %v", again, err)
	}
}

func TestURLAttachments(t *testing.T) {
	r := newRig(t)
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/a.txt":
			w.Write([]byte("hello"))
		case "/moved":
			http.Redirect(w, req, "/a.txt", http.StatusFound)
		default:
			http.NotFound(w, req)
		}
	}))
	defer files.Close()
	send := func(svc *Service, u string) error {
		_, err := svc.Send(context.Background(), r.inbox, Request{Kind: KindSend, To: []string{"x@example.com"}, Text: "t", Attachments: []Attachment{{URL: u}}})
		return err
	}
	if err := send(r.svc, files.URL+"/moved"); err != nil {
		t.Errorf("redirected download: %v", err)
	}
	var ie *InvalidError
	if err := send(r.svc, files.URL+"/missing"); !errors.As(err, &ie) || ie.Field != "attachments[0].url" {
		t.Errorf("404 download: %v", err)
	}
	deployed := &Service{Store: r.svc.Store, Sender: r.svc.Sender, Deployed: true}
	if err := send(deployed, files.URL+"/a.txt"); !errors.As(err, &ie) {
		t.Errorf("deployed mode fetched from loopback: %v", err)
	}
}

// BenchmarkSend measures one send: compose, store and local SES, through the real SDK clients
// and the embedded stores. roundtrips/op counts the AWS requests of a send (one recipient, no
// Idempotency-Key; with one, add the claim), all of them sequential.
func BenchmarkSend(b *testing.B) {
	r := newRig(b)
	ctx := context.Background()
	req := Request{Kind: KindSend, To: []string{"Carol <carol@example.com>"}, Subject: "Benchmark", Text: "Hello,\n\nthis is a test.", HTML: "<p>Hello,</p><p>this is a test.</p>"}
	if _, err := r.svc.Send(ctx, r.inbox, req); err != nil {
		b.Fatal(err)
	}
	r.trips.n.Store(0)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.svc.Send(ctx, r.inbox, req); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(r.trips.n.Load())/float64(b.N), "roundtrips/op")
}
