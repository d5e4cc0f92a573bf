package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/emersion/go-smtp"

	"github.com/pigeon-mail/pigeon/shared/apigw"
	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/blob"
	"github.com/pigeon-mail/pigeon/shared/config"
	"github.com/pigeon-mail/pigeon/shared/httpapi"
	"github.com/pigeon-mail/pigeon/shared/inbound"
	"github.com/pigeon-mail/pigeon/shared/store"
)

// Stack is a running local Pigeon.
type Stack struct {
	Config           config.Config // what the functions run with
	APIKey           string        // the organisation key
	RESTURL          string        // the SDK's base URL (environment.http); routes are under /v0
	SMTPAddr         string        // host:port of the SMTP listener
	DynamoDBEndpoint string        // where the functions' DynamoDB client points
	S3Endpoint       string        // where the functions' S3 client points
	Region           string

	Store *store.Store
	Blobs *blob.Store
	S3    *s3.Client

	log       *slog.Logger
	storage   *storage
	httpSrv   *http.Server
	smtpSrv   *smtp.Server
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// Start brings the stack up: storage, table and bucket, the bootstrap key, then the SMTP and
// HTTP listeners. ctx bounds the start only; the stack runs until Close.
func Start(ctx context.Context, set Settings) (_ *Stack, err error) {
	log := set.Log
	if log == nil {
		log = slog.Default()
	}
	s := &Stack{log: log}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()

	apiKey := set.APIKey
	if apiKey == "" {
		apiKey, _ = auth.NewSecret()
	}
	s.APIKey = apiKey
	if s.storage, err = connect(ctx, set); err != nil {
		return nil, err
	}
	s.S3, s.S3Endpoint, s.DynamoDBEndpoint, s.Region = s.storage.S3, s.storage.S3Endpoint, s.storage.DynamoDBEndpoint, s.storage.Region

	// The functions read their configuration through shared/config, exactly as deployed; the
	// local stack supplies the values CDK would set. The key and domain come from Settings;
	// the S3 addressing defaults suit the embedded server and LocalStack alike.
	forced := map[string]string{"PIGEON_API_KEY": apiKey, "PIGEON_DOMAIN": set.Domain}
	defaults := map[string]string{"PIGEON_S3_PATH_STYLE": "true", "PIGEON_S3_PUBLIC_ENDPOINT": s.S3Endpoint}
	if s.Config, err = config.FromLookup(func(name string) (string, bool) {
		if v := forced[name]; v != "" {
			return v, true
		}
		if v := set.lookup(name); v != "" {
			return v, true
		}
		v, ok := defaults[name]
		return v, ok
	}); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	cfg := s.Config

	if err := ensureBucket(ctx, s.S3, cfg.Bucket); err != nil {
		return nil, err
	}
	s.Blobs = blob.New(s.S3, cfg.Bucket, cfg.PublicS3Endpoint)
	tokenKey := []byte(cfg.TokenSecret)
	if len(tokenKey) == 0 {
		tokenKey = auth.TokenKey(cfg.APIKey)
	}
	s.Store = store.New(s.storage.DynamoDB, s.Blobs, cfg.Table, tokenKey)
	if err := s.Store.EnsureTable(ctx); err != nil {
		return nil, fmt.Errorf("local: create table %s: %w", cfg.Table, err)
	}
	if err := auth.Bootstrap(ctx, s.Store, cfg.OrgID, cfg.APIKey); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}

	in := &inbound.Handler{Store: s.Store, Blobs: s.Blobs, Config: cfg, Now: time.Now, Log: log.With("function", "inbound")}
	api := apigw.Handler(httpapi.New(httpapi.Deps{Store: s.Store, Blobs: s.Blobs, Config: cfg, Now: time.Now, Log: log.With("function", "api")}))

	receiving := &Receiving{
		S3: s.S3, Bucket: cfg.Bucket, Region: s.Region, TopicARN: TopicARN,
		Owns: cfg.OwnsDomain, MaxBytes: cfg.MaxInboundBytes, Verdicts: LocalVerdicts,
		Inbound: in.HandleEvent, Log: log.With("component", "smtp"),
	}
	s.smtpSrv = receiving.NewSMTPServer("inbound-smtp." + s.Region + ".amazonaws.com")
	smtpLn, err := net.Listen("tcp", set.SMTPAddr)
	if err != nil {
		return nil, fmt.Errorf("local: smtp listener: %w", err)
	}
	s.SMTPAddr = smtpLn.Addr().String()
	s.serve(func() error { return s.smtpSrv.Serve(smtpLn) }, smtp.ErrServerClosed)

	s.httpSrv = &http.Server{
		Handler:           &Gateway{Invoke: api, Log: log.With("component", "http")},
		ReadHeaderTimeout: 10 * time.Second,
		// API Gateway's integration timeout is 29 s; allow for slow clients around it.
		ReadTimeout:  time.Minute,
		WriteTimeout: time.Minute,
	}
	httpLn, err := net.Listen("tcp", set.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("local: http listener: %w", err)
	}
	s.RESTURL = "http://" + httpLn.Addr().String()
	s.serve(func() error { return s.httpSrv.Serve(httpLn) }, http.ErrServerClosed)
	return s, nil
}

// serve runs a listener's loop until it is closed.
func (s *Stack) serve(run func() error, closed error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := run(); err != nil && !errors.Is(err, closed) {
			s.log.Error("listener stopped", "err", err)
		}
	}()
}

// Close stops the listeners (letting requests in flight finish, for up to five seconds) and
// then the embedded servers. It is safe to call more than once.
func (s *Stack) Close() {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if s.httpSrv != nil {
			if err := s.httpSrv.Shutdown(ctx); err != nil {
				_ = s.httpSrv.Close()
			}
		}
		if s.smtpSrv != nil {
			if err := s.smtpSrv.Shutdown(ctx); err != nil {
				_ = s.smtpSrv.Close()
			}
		}
		s.wg.Wait()
		s.storage.close()
	})
}
