package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/pigeon-mail/pigeon/infra/local/embedded"
	"github.com/pigeon-mail/pigeon/infra/local/sesemu"
	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/blob"
	"github.com/pigeon-mail/pigeon/shared/config"
	"github.com/pigeon-mail/pigeon/shared/outbound"
	"github.com/pigeon-mail/pigeon/shared/ses"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

var servers *embedded.Servers

func TestMain(m *testing.M) { os.Exit(embedded.Run(m, &servers)) }

const (
	testOrg    = "org_test"
	testSecret = "am_testBootstrapSecret000000000000000000000000"
)

// env is one API over its own table and bucket, with the bootstrap organisation key.
type env struct {
	t     *testing.T
	st    *store.Store
	blobs *blob.Store
	h     http.Handler
	key   string // the organisation key
	logs  *bytes.Buffer
	ses   *sesemu.Server // the local SES the API sends through (its Outbox holds every send)
	gate  *sesGate       // holds SES calls on request (idempotency_test.go)
}

var tableSeq atomic.Int64

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("table-%d", tableSeq.Add(1))
	blobs := blob.New(servers.S3(), "bucket-"+name, "")
	st := store.New(servers.DynamoDB(), blobs, name, auth.TokenKey(testSecret))
	if err := st.EnsureTable(ctx); err != nil {
		t.Fatal(err)
	}
	if err := auth.Bootstrap(ctx, st, testOrg, testSecret); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.FromLookup(func(k string) (string, bool) {
		if k == "PIGEON_DOMAIN" {
			return "pigeon.test,other.test", true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	emu := &sesemu.Server{}
	gate := &sesGate{next: emu}
	sesSrv := httptest.NewServer(gate)
	t.Cleanup(sesSrv.Close)
	out := &outbound.Service{Store: st, Sender: &ses.Sender{Client: sesv2.New(sesv2.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(sesSrv.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})}}
	h := New(Deps{Store: st, Blobs: blobs, Config: cfg, Outbound: out, Log: slog.New(slog.NewTextHandler(logs, nil))})
	return &env{t: t, st: st, blobs: blobs, h: h, key: testSecret, logs: logs, ses: emu, gate: gate}
}

// response is a recorded answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends a request with key (none when "") and returns the response. path is sent as is
// (percent-encoding kept), body is JSON-encoded unless it is a string.
func (e *env) do(method, path, key string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	r := httptest.NewRequest(method, path, rd)
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

// ok sends a request with the organisation key and decodes a 200 answer into v.
func (e *env) ok(method, path string, body, v any) {
	e.t.Helper()
	e.okAs(e.key, method, path, body, v)
}

func (e *env) okAs(key, method, path string, body, v any) {
	e.t.Helper()
	resp := e.do(method, path, key, body)
	if resp.status != http.StatusOK {
		e.t.Fatalf("%s %s = %d %s", method, path, resp.status, resp.body)
	}
	if ct := resp.header.Get("Content-Type"); ct != "application/json" {
		e.t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	if v != nil {
		resp.decode(e.t, v)
	}
}

// wantError checks status, error name and the JSON content type of an error answer.
func (e *env) wantError(resp response, status int, name string) wire.Error {
	e.t.Helper()
	if resp.status != status {
		e.t.Fatalf("status = %d, want %d; body %s", resp.status, status, resp.body)
	}
	if ct := resp.header.Get("Content-Type"); ct != "application/json" {
		e.t.Fatalf("Content-Type = %q", ct)
	}
	var we wire.Error
	resp.decode(e.t, &we)
	if we.Name != name || we.Message == "" {
		e.t.Fatalf("error = %+v, want name %s", we, name)
	}
	return we
}

// newKey stores a key of the given scope and returns its secret.
func (e *env) newKey(podID, inboxID string, perms map[string]bool) string {
	e.t.Helper()
	secret, prefix := auth.NewSecret()
	now := time.Now()
	k := store.APIKey{
		APIKeyID: "ak_" + strings.ToLower(prefix[3:]), Name: "test", Prefix: prefix, Hash: auth.Hash(secret),
		OrgID: testOrg, PodID: podID, InboxID: inboxID, Permissions: perms, CreatedAt: now, UpdatedAt: now,
	}
	if err := e.st.PutAPIKey(context.Background(), k); err != nil {
		e.t.Fatal(err)
	}
	return secret
}

func (e *env) createPod(name string) wire.Pod {
	e.t.Helper()
	var p wire.Pod
	e.ok("POST", "/v0/pods", map[string]any{"name": name}, &p)
	return p
}

func (e *env) createInbox(path string, body map[string]any) wire.Inbox {
	e.t.Helper()
	var in wire.Inbox
	e.ok("POST", path, body, &in)
	return in
}

// pathEscape percent-encodes one path segment as encodeURIComponent does (@ included).
func pathEscape(id string) string { return strings.ReplaceAll(url.PathEscape(id), "@", "%40") }
