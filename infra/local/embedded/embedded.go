// Package embedded runs DynamoDB- and S3-compatible servers on loopback, so the local stack
// and the tests talk to them through the real AWS SDK clients with an endpoint override.
// DynamoDB is github.com/truora/minidyn's server, S3 is github.com/johannesboyne/gofakes3
// with its in-memory backend.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	minidyn "github.com/truora/minidyn/server"
)

// Region is the region the embedded servers pretend to be in.
const Region = "us-east-1"

// Servers are the running embedded DynamoDB and S3 servers.
type Servers struct {
	DynamoDBURL string // http://127.0.0.1:port
	S3URL       string // http://127.0.0.1:port
	servers     []*http.Server
	stream      *Stream
}

// Start starts both servers on free loopback ports.
func Start() (*Servers, error) {
	s := &Servers{stream: newStream()}
	var err error
	if s.DynamoDBURL, err = s.serve(s.stream.wrap(minidyn.NewServer())); err != nil {
		return nil, err
	}
	fake := gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(true), gofakes3.WithoutVersioning())
	if s.S3URL, err = s.serve(fake.Server()); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Servers) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("embedded: listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// Stream starts recording the DynamoDB server's event items as stream records and returns
// the stream to read them from.
func (s *Servers) Stream() *Stream {
	s.stream.enabled.Store(true)
	return s.stream
}

// Close stops both servers.
func (s *Servers) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		_ = srv.Shutdown(ctx)
	}
}

// AWSConfig is an SDK configuration with static dummy credentials for the embedded servers.
func (s *Servers) AWSConfig() aws.Config {
	return aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider("pigeon", "pigeon-local-secret", ""),
	}
}

// DynamoDB is a real SDK client pointed at the embedded DynamoDB server.
func (s *Servers) DynamoDB() *dynamodb.Client {
	return dynamodb.NewFromConfig(s.AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(s.DynamoDBURL)
	})
}

// S3 is a real SDK client pointed at the embedded S3 server (path-style addressing).
func (s *Servers) S3() *s3.Client {
	return s3.NewFromConfig(s.AWSConfig(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(s.S3URL)
		o.UsePathStyle = true
	})
}

// Run starts the servers for a test binary, runs its tests and stops the servers; a package's
// tests share them through *servers. Call it from TestMain: os.Exit(embedded.Run(m, &servers)).
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
