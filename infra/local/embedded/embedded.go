// Package embedded runs DynamoDB- and S3-compatible servers on loopback, so the local stack
// and the tests talk to them through the real AWS SDK clients with an endpoint override.
//
// Open keeps both in a directory: DynamoDB is package dynamo's durable engine in
// <dir>/dynamodb, S3 is github.com/johannesboyne/gofakes3 in front of package s3store's
// durable backend in <dir>/s3 (every acknowledged PutObject is on disk; see s3store for why
// not gofakes3's own backends). Start is the throw-away form the tests use: a temporary
// directory, fsyncs skipped, removed at Close.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"

	"github.com/pigeon-mail/pigeon/infra/local/dynamo"
	"github.com/pigeon-mail/pigeon/infra/local/embedded/s3store"
)

// Region is the region the embedded servers pretend to be in.
const Region = "us-east-1"

// Options say where the servers keep their data and listen.
type Options struct {
	// Dir holds the data: dynamodb/ and s3/ (created when missing). Empty: a temporary
	// directory, removed at Close.
	Dir string
	// Ephemeral skips the fsyncs, for data nobody will read after Close (implied when Dir
	// is empty).
	Ephemeral bool
	// The listen addresses; empty is 127.0.0.1:0 (a free port).
	DynamoDBAddr, S3Addr string
	Log                  *slog.Logger // nil: slog.Default()
	// StreamConsumers, when set, are the only readers of the DynamoDB streams: records all of
	// them have checkpointed past are deleted at once (dynamo.Options.TrimConsumed).
	StreamConsumers []string
}

// Servers are the running embedded DynamoDB and S3 servers.
type Servers struct {
	DynamoDBURL string // http://127.0.0.1:port
	S3URL       string // http://127.0.0.1:port
	Dir         string // where the data is
	// DB is the durable DynamoDB engine serving DynamoDBURL (its stream feeds fanout).
	DB *dynamo.DB

	s3        *s3store.Store
	s3Handler http.Handler
	temp      bool // Dir is removed at Close
	servers   []*http.Server
}

// Start starts both servers on free loopback ports, on a temporary directory removed at
// Close: what tests use.
func Start() (*Servers, error) { return Open(Options{}) }

// Open starts both servers on the data in o.Dir.
func Open(o Options) (_ *Servers, err error) {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	s := &Servers{Dir: o.Dir}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	// Listen first: a taken port fails the start before any data is opened.
	ddbLn, err := listen(o.DynamoDBAddr, "DynamoDB")
	if err != nil {
		return nil, err
	}
	s3Ln, err := listen(o.S3Addr, "S3")
	if err != nil {
		ddbLn.Close()
		return nil, err
	}
	lns := []net.Listener{ddbLn, s3Ln}
	defer func() {
		if err != nil {
			for _, ln := range lns {
				ln.Close()
			}
		}
	}()
	if s.Dir == "" {
		if s.Dir, err = os.MkdirTemp("", "pigeon-embedded-"); err != nil {
			return nil, fmt.Errorf("embedded: %w", err)
		}
		s.temp, o.Ephemeral = true, true
	}

	if s.DB, err = dynamo.Open(filepath.Join(s.Dir, "dynamodb"), dynamo.Options{Log: log, NoSync: o.Ephemeral, TrimConsumed: o.StreamConsumers}); err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	if s.s3, err = s3store.Open(filepath.Join(s.Dir, "s3"), s3store.Options{NoSync: o.Ephemeral, Log: log}); err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	fake := gofakes3.New(s.s3, gofakes3.WithAutoBucket(true), gofakes3.WithoutVersioning())
	s.s3Handler = fake.Server()

	lns = nil // served from here on, closed by Close
	s.DynamoDBURL = s.serve(ddbLn, s.DB.Handler())
	s.S3URL = s.serve(s3Ln, s.s3Handler)
	return s, nil
}

// listen opens addr (127.0.0.1:0 when empty).
func listen(addr, what string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("embedded: %s listener: %w", what, err)
	}
	return ln, nil
}

func (s *Servers) serve(ln net.Listener, h http.Handler) string {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
	return "http://" + ln.Addr().String()
}

// Close stops both servers, closes their data (flushed: what was acknowledged is on disk)
// and removes a temporary directory.
func (s *Servers) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		_ = srv.Shutdown(ctx)
	}
	if s.DB != nil {
		if err := s.DB.Close(); err != nil {
			slog.Error("embedded: close DynamoDB", "err", err)
		}
	}
	if s.s3 != nil {
		if err := s.s3.Close(); err != nil {
			slog.Error("embedded: close S3", "err", err)
		}
	}
	if s.temp && s.Dir != "" {
		_ = os.RemoveAll(s.Dir)
	}
}

// AWSConfig is an SDK configuration with static dummy credentials for the embedded servers.
func (s *Servers) AWSConfig() aws.Config {
	return aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider("pigeon", "pigeon-local-secret", ""),
	}
}

// DynamoDB is a real SDK client for the embedded DynamoDB server, its requests handed to the
// server's handler in this process (see InProcess).
func (s *Servers) DynamoDB() *dynamodb.Client {
	return dynamodb.NewFromConfig(s.AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(s.DynamoDBURL)
		o.HTTPClient = &http.Client{Transport: InProcess{Handler: s.DB.Handler()}}
	})
}

// S3 is a real SDK client for the embedded S3 server (path-style addressing), its requests
// handed to the server's handler in this process (see InProcess).
func (s *Servers) S3() *s3.Client {
	return s3.NewFromConfig(s.AWSConfig(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(s.S3URL)
		o.UsePathStyle = true
		o.HTTPClient = &http.Client{Transport: InProcess{Handler: s.s3Handler}}
	})
}

// InProcess is an http.RoundTripper that hands each request to Handler in this process: the
// SDK client builds, signs and parses exactly what it sends over TCP (same URL, headers and
// bodies), and the server answers as on its listener, without the loopback connection. The
// listeners stay for everyone else (presigned URLs, other tools). On this path a request's
// syscalls, copies and the two net/http state machines were a fifth of the local stack's CPU.
type InProcess struct{ Handler http.Handler }

// RoundTrip serves r and returns the buffered response.
func (t InProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	in := r.Clone(r.Context())
	in.RequestURI = r.URL.RequestURI()
	in.RemoteAddr = "127.0.0.1:0"
	if in.Body == nil {
		in.Body = http.NoBody
	}
	// What a server sees that the client's transport would have written on the wire.
	if in.Host == "" {
		in.Host = r.URL.Host
	}
	if r.ContentLength >= 0 && in.Header.Get("Content-Length") == "" {
		in.Header.Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
	}
	rec := httptest.NewRecorder()
	t.Handler.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// Run starts the servers for a test binary (on a temporary directory, removed after the run),
// runs its tests and stops the servers; a package's tests share them through *servers. Call
// it from TestMain: os.Exit(embedded.Run(m, &servers)).
func Run(m *testing.M, servers **Servers) int {
	s, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	*servers = s
	defer s.Close()
	return m.Run()
}
