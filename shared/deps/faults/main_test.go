package faults_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/pigeon-mail/pigeon/infra/local/embedded"
	"github.com/pigeon-mail/pigeon/shared/blob"
	"github.com/pigeon-mail/pigeon/shared/config"
	"github.com/pigeon-mail/pigeon/shared/deps/faults"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

var servers *embedded.Servers

func TestMain(m *testing.M) { os.Exit(embedded.Run(m, &servers)) }

var seq atomic.Int64

// world is a fresh table and bucket on the shared embedded servers, with a store whose
// DynamoDB and S3 clients go through the injector.
type world struct {
	t     *testing.T
	name  string // of the table and the bucket
	cfg   config.Config
	db    *dynamodb.Client
	s3    *s3.Client
	blobs *blob.Store
	st    *store.Store
}

func newWorld(t *testing.T, inj *faults.Injector) *world {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("faults-%d", seq.Add(1))
	cfg, err := config.FromLookup(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Bucket, cfg.Table = name, name
	w := &world{t: t, name: name, cfg: cfg, db: inj.DynamoDB(servers.DynamoDB()), s3: inj.S3(servers.S3())}
	if _, err := w.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	w.blobs = blob.New(w.s3, name, "")
	w.st = store.New(w.db, w.blobs, name, []byte("token-key"))
	if err := w.st.EnsureTable(ctx); err != nil {
		t.Fatal(err)
	}
	return w
}

// inbox creates an inbox of the configured organisation and returns its record.
func (w *world) inbox(addr string) store.InboxRecord {
	w.t.Helper()
	ctx := context.Background()
	if _, _, err := w.st.CreateInbox(ctx, w.cfg.OrgID, wire.Inbox{Email: addr}); err != nil {
		w.t.Fatal(err)
	}
	rec, err := w.st.GetInbox(ctx, addr)
	if err != nil {
		w.t.Fatal(err)
	}
	return rec
}

// state is the table's items and the bucket's objects.
func (w *world) state(ctx context.Context) faults.State {
	w.t.Helper()
	items, err := faults.Table(ctx, servers.DynamoDB(), w.name)
	if err != nil {
		w.t.Fatal(err)
	}
	objects, err := faults.Objects(ctx, servers.S3(), w.name)
	if err != nil {
		w.t.Fatal(err)
	}
	s := faults.State{}
	s.Add("table", items...)
	s.Add("s3", objects...)
	return s
}
