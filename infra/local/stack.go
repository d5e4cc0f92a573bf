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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/emersion/go-smtp"

	"github.com/pigeon-mail/pigeon/infra/local/sesemu"
	"github.com/pigeon-mail/pigeon/shared/apigw"
	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/blob"
	"github.com/pigeon-mail/pigeon/shared/config"
	"github.com/pigeon-mail/pigeon/shared/deps"
	"github.com/pigeon-mail/pigeon/shared/httpapi"
	"github.com/pigeon-mail/pigeon/shared/inbound"
	"github.com/pigeon-mail/pigeon/shared/sesevents"
	"github.com/pigeon-mail/pigeon/shared/store"
)

// Stack is a running local Pigeon.
type Stack struct {
	Config           config.Config // what the functions run with
	APIKey           string        // the organisation key
	KeySource        KeySource     // where APIKey came from: generated, kept, or PIGEON_API_KEY
	DataDir          string        // the data directory in use (absolute; a temporary one when Ephemeral)
	Ephemeral        bool          // DataDir is removed at Close
	RESTURL          string        // the SDK's base URL (environment.http); routes are under /v0
	WebSocketURL     string        // ws://…/v0, where the SDK connects (environment.websockets is RESTURL with ws://)
	SMTPAddr         string        // host:port of the SMTP listener
	SESEndpoint      string        // the local SES v2 endpoint (sesemu) the api function sends through
	OutboxURL        string        // GET: mail sent to non-local recipients (sesemu's outbox)
	DynamoDBEndpoint string        // where the functions' DynamoDB client points
	S3Endpoint       string        // where the functions' S3 client points
	Region           string

	Store *store.Store
	Blobs *blob.Store
	S3    *s3.Client
	SES   *sesemu.Server // the local SES v2: FailNext, Outbox

	log       *slog.Logger
	storage   *storage
	httpSrv   *http.Server
	sesSrv    *http.Server
	smtpSrv   *smtp.Server
	realtime  *realtimeStack
	unlock    func() // releases DataDir's LOCK
	closeOnce sync.Once
	wg        sync.WaitGroup

	// stopScheduler ends the scheduler's ticker (scheduler.go), waiting for a run in progress.
	stopScheduler func()
}

// Start brings the stack up: the data directory (locked) and the organisation key kept there,
// storage, table and bucket, the bootstrap key, then the SMTP and HTTP listeners. ctx bounds
// the start only; the stack runs until Close.
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

	if err := s.openDataDir(set); err != nil {
		return nil, err
	}
	apiKey, source, err := s.apiKey(set)
	if err != nil {
		return nil, err
	}
	s.APIKey, s.KeySource = apiKey, source
	if s.storage, err = connect(ctx, set, s.DataDir, s.Ephemeral, log); err != nil {
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
	// The functions' wiring (shared/deps), around clients pointed at the local servers.
	d := deps.Deps{Config: cfg, AWS: aws.Config{Region: s.Region}, DynamoDB: s.storage.DynamoDB, S3: s.S3}
	s.Blobs = d.Blobs()
	s.Store = d.Store(s.Blobs, d.TokenKey(cfg.APIKey))
	if err := s.Store.EnsureTable(ctx); err != nil {
		return nil, fmt.Errorf("local: create table %s: %w", cfg.Table, err)
	}
	if err := auth.Bootstrap(ctx, s.Store, cfg.OrgID, cfg.APIKey); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}

	in := &inbound.Handler{Store: s.Store, Blobs: s.Blobs, Config: cfg, Now: time.Now, Log: log.With("function", "inbound")}
	receiving := &Receiving{
		S3: s.S3, Bucket: cfg.Bucket, Region: s.Region, TopicARN: TopicARN,
		Owns: cfg.OwnsDomain, MaxBytes: cfg.MaxInboundBytes, HasInbox: s.hasInbox,
		Inbound: in.HandleEvent, Log: log.With("component", "smtp"),
	}

	lifecycle := &sesevents.Handler{Store: s.Store, Now: time.Now, Log: log.With("function", "sesevents")}
	if d.SES, err = s.startSES(set, receiving, lifecycle); err != nil {
		return nil, err
	}
	out := d.Outbound(s.Store, lifecycle) // its dry runs name s.sesEventsTopic(): Topic{Region: s.Region}
	out.Log = log.With("function", "api")
	api := apigw.Handler(httpapi.New(httpapi.Deps{Store: s.Store, Blobs: s.Blobs, Config: cfg, Outbound: out, Now: time.Now, Log: log.With("function", "api")}))
	if err := s.startScheduler(set, out); err != nil {
		return nil, err
	}
	smtpHost := "inbound-smtp." + s.Region + ".amazonaws.com"
	s.smtpSrv = receiving.NewSMTPServer(smtpHost)
	smtpLn, err := net.Listen("tcp", set.SMTPAddr)
	if err != nil {
		return nil, fmt.Errorf("local: smtp listener: %w", err)
	}
	s.SMTPAddr = smtpLn.Addr().String()
	s.serve(func() error { return s.smtpSrv.Serve(LimitSessions(smtpLn, MaxSMTPSessions, smtpHost)) }, smtp.ErrServerClosed)

	s.httpSrv = &http.Server{
		Handler:           s.frontDoor(&Gateway{Invoke: api, Log: log.With("component", "http")}),
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
	if err := s.startRealtime(ctx, set, s.DataDir); err != nil {
		return nil, err
	}
	return s, nil
}

// hasInbox reports whether address is an inbox, for the SMTP listener's RCPT check.
func (s *Stack) hasInbox(ctx context.Context, address string) (bool, error) {
	_, err := s.Store.GetInbox(ctx, address)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// startSES runs the local SES v2 (sesemu) on its own loopback port and returns the client the
// api function sends with: the real sesv2 client with its endpoint pointed there. Mail for the
// stack's domains goes through receiving as if it had come in over SMTP (raw/<id> with SES's
// headers, then inbound with the receipt notification), so two local inboxes can converse;
// mail for anyone else is kept in the outbox (GET <SESEndpoint>/_local/outbox). Every accepted
// message's SES event notifications go to lifecycle (see lifecycle.go).
func (s *Stack) startSES(set Settings, receiving *Receiving, lifecycle *sesevents.Handler) (*sesv2.Client, error) {
	cfg := s.Config
	local := func(addr string) bool { return cfg.OwnsDomain(domainOf(addr)) }
	s.SES = &sesemu.Server{
		Region:  s.Region,
		IsLocal: local,
		Log:     s.log.With("component", "ses"),
		Topic:   s.sesEventsTopic(),
		Publish: invokeAsync(lifecycle, s.log.With("function", "sesevents")),
		Deliver: func(ctx context.Context, from string, rcpts []string, raw []byte, _ string) error {
			var mine []string
			for _, r := range rcpts {
				if local(r) {
					mine = append(mine, r)
				}
			}
			if len(mine) == 0 {
				return nil
			}
			return receiving.Deliver(ctx, Envelope{
				MessageID: NewSESMessageID(), From: from, Recipients: mine,
				Helo: "a8-1.smtp-out.amazonses.com", RemoteIP: "127.0.0.1", Received: time.Now(),
			}, raw)
		},
	}
	addr := set.SESAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("local: ses listener: %w", err)
	}
	s.SESEndpoint = "http://" + ln.Addr().String()
	s.OutboxURL = s.SESEndpoint + "/_local/outbox"
	s.sesSrv = &http.Server{Handler: s.SES, ReadHeaderTimeout: 10 * time.Second}
	s.serve(func() error { return s.sesSrv.Serve(ln) }, http.ErrServerClosed)
	return sesv2.New(sesv2.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.SESEndpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("pigeon", "pigeon-local-secret", ""),
		// SES's own retries, with short waits: a throttled send is retried twice before the
		// API answers 429.
		Retryer: retry.AddWithMaxBackoffDelay(retry.NewStandard(), 200*time.Millisecond),
	}), nil
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

// Close stops the listeners (letting requests in flight finish, for up to five seconds), then
// the embedded servers (flushing their data), and releases the data directory (removing it when
// ephemeral). It is safe to call more than once.
func (s *Stack) Close() {
	s.closeOnce.Do(func() {
		if s.stopScheduler != nil {
			s.stopScheduler() // before the servers its sends go through
		}
		// Closing WebSockets run $disconnect against the table (a thousand of them take a
		// few seconds on the embedded DynamoDB): drain them before the servers stop.
		drainCtx, cancelDrain := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancelDrain()
		s.stopRealtime(drainCtx)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if s.httpSrv != nil {
			if err := s.httpSrv.Shutdown(ctx); err != nil {
				_ = s.httpSrv.Close()
			}
		}
		if s.sesSrv != nil {
			if err := s.sesSrv.Shutdown(ctx); err != nil {
				_ = s.sesSrv.Close()
			}
		}
		if s.smtpSrv != nil {
			if err := s.smtpSrv.Shutdown(ctx); err != nil {
				_ = s.smtpSrv.Close()
			}
		}
		s.wg.Wait()
		if s.SES != nil {
			s.SES.Wait() // SES event notifications still on their way to sesevents
		}
		s.storage.close()
		s.closeDataDir()
	})
}
