package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pigeon-mail/pigeon/infra/local/dynamo"
	"github.com/pigeon-mail/pigeon/infra/local/embedded"
	"github.com/pigeon-mail/pigeon/infra/local/sqsemu"
	"github.com/pigeon-mail/pigeon/infra/local/wsgateway"
	"github.com/pigeon-mail/pigeon/shared/config"
	"github.com/pigeon-mail/pigeon/shared/realtime"
	"github.com/pigeon-mail/pigeon/shared/webhook"
)

// The real-time half of the local stack, wired as AWS wires it:
//
//   - WebSocket: upgrade requests on /v0 of the REST address go to wsgateway, which runs the ws
//     function (realtime.Sessions) for $connect, $default and $disconnect; the SDK's
//     environment.websockets is the REST base URL with ws:// (the stack prints it).
//   - The management API (POST/GET/DELETE /@connections/{id}) is served on the same address, and
//     fanout posts through the real apigatewaymanagementapi client pointed there.
//   - Stream: the embedded DynamoDB's durable table stream (package dynamo), read from fanout's
//     checkpoint, filtered as the deployed event source filter does (realtime.WantsRecord), and
//     handed to fanout up to 100 records per batch, as Lambda's event source mapping would: a batch with item failures is retried from the first
//     failed record (five attempts, then dropped with an error, as MaximumRetryAttempts with an
//     on-failure destination would). When DynamoDB is external (AWS_ENDPOINT_URL pointing at
//     LocalStack or AWS) the table's real stream feeds the fanout function deployed there
//     (`make localstack-deploy`), and this stack runs no fanout.
//   - Webhook queue: sqsemu on its own loopback port (the real SQS client, AWS JSON protocol),
//     with a dead-letter queue after webhook.MaxAttempts receives, and a poller that hands
//     received messages to the webhooks function (realtime.Webhooks) as Lambda's SQS poller does,
//     deleting the ones it did not report as failures. PIGEON_LOCAL_RETRY_SCALE (default 1)
//     multiplies the queue's visibility timeouts, so that tests can run Svix's retry schedule
//     (5 s, 5 min, …) in milliseconds while the functions set the real values. The queue is
//     durable, in <data dir>/sqs (sqsemu's log; not fsynced when the stack is ephemeral): a
//     delivery pending or waiting out its backoff when the stack stops or crashes comes back
//     after the restart, the same message (so the same task and svix-id) with its receive
//     count, and is dead-lettered after the last attempt as before.
//   - Restarts: no WebSocket survives one, so with the embedded DynamoDB the connection items
//     (and their subscription index entries) a previous run left are deleted before the first
//     upgrade is accepted; upgrades wait until then. With an external table (LocalStack or
//     AWS, perhaps shared with a deployed stack) they are left to the TTL and to fanout, which
//     forgets a connection the gateway answers 410 for.
type realtimeStack struct {
	gateway     *wsgateway.Gateway
	sessions    sync.WaitGroup // WebSocket connections being served, $disconnect included
	queue       *sqsemu.Server
	queueSrv    *http.Server
	queueURL    string
	deadLetters string
	cancel      context.CancelFunc
	wg          sync.WaitGroup

	ready     chan struct{} // closed once startRealtime is done (or the stack stops)
	readyOnce sync.Once
	up        bool // startRealtime succeeded; set before ready is closed
}

// open lets the waiting WebSocket upgrades through (served when up, refused otherwise).
func (rt *realtimeStack) open(up bool) {
	rt.readyOnce.Do(func() {
		rt.up = up
		close(rt.ready)
	})
}

// Queue names, visibility and redrive as the CDK stack sets them (6 × the webhooks timeout).
const (
	webhookQueueName  = "pigeon-webhooks"
	webhookDLQName    = "pigeon-webhooks-dlq"
	webhookVisibility = 6 * time.Minute
	streamBatchSize   = 100
	streamAttempts    = 5
	webhookBatchSize  = 10
	localAccessKeyID  = "pigeon"
	localSecretKey    = "pigeon-local-secret"
	defaultRetryScale = 1.0
)

// frontDoor is the stack's one HTTP address doing the work of three AWS endpoints: WebSocket
// upgrades on /v0 go to the WebSocket API, /@connections/… to its management API, the rest to
// the REST API.
func (s *Stack) frontDoor(rest http.Handler) http.Handler {
	sessions := &realtime.Sessions{Store: s.Store, Log: s.log.With("function", "ws")}
	s.realtime = &realtimeStack{gateway: &wsgateway.Gateway{Invoke: sessions.HandleWebSocket, Log: s.log.With("component", "ws")}, ready: make(chan struct{})}
	rt := s.realtime
	gw := rt.gateway
	connections := gw.Connections()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.EscapedPath(), "/@connections/"):
			connections.ServeHTTP(w, r)
		case wsgateway.IsUpgrade(r) && strings.TrimSuffix(r.URL.Path, "/") == "/v0":
			// Not before the connections of the previous run are cleared (startRealtime).
			select {
			case <-rt.ready:
			case <-r.Context().Done():
				return
			}
			if !rt.up {
				http.Error(w, "the stack is stopping", http.StatusServiceUnavailable)
				return
			}
			// The server's read and write timeouts are for REST requests; a WebSocket lives for
			// up to two hours (the gateway enforces that itself).
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Time{})
			_ = rc.SetWriteDeadline(time.Time{})
			s.realtime.sessions.Add(1)
			defer s.realtime.sessions.Done()
			gw.ServeHTTP(w, r)
		default:
			rest.ServeHTTP(w, r)
		}
	})
}

// startRealtime clears the connections of the previous run, starts the webhook queue (in
// dataDir/sqs), the webhooks poller and, with the embedded DynamoDB, the stream feeding
// fanout, and then lets WebSocket upgrades through. It runs once the REST address (the
// management endpoint) is known; ctx bounds the start only.
func (s *Stack) startRealtime(ctx context.Context, set Settings, dataDir string) (err error) {
	rt := s.realtime
	defer func() { rt.open(err == nil) }()
	if err := s.clearConnections(ctx); err != nil {
		return err
	}
	scale := defaultRetryScale
	if v := set.lookup("PIGEON_LOCAL_RETRY_SCALE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return errors.New("local: PIGEON_LOCAL_RETRY_SCALE must be a non-negative number")
		}
		scale = f
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("local: sqs listener: %w", err)
	}
	sqsURL := "http://" + ln.Addr().String()
	if rt.queue, err = sqsemu.Open(filepath.Join(dataDir, "sqs"), sqsURL, scale); err != nil {
		_ = ln.Close()
		return fmt.Errorf("local: webhook queue: %w", err)
	}
	rt.queue.NoSync = s.Ephemeral
	rt.deadLetters = rt.queue.CreateQueue(webhookDLQName, webhookVisibility, 0, "")
	rt.queueURL = rt.queue.CreateQueue(webhookQueueName, webhookVisibility, webhook.MaxAttempts, webhookDLQName)
	rt.queueSrv = &http.Server{Handler: rt.queue, ReadHeaderTimeout: 10 * time.Second}
	s.serve(func() error { return rt.queueSrv.Serve(ln) }, http.ErrServerClosed)
	s.Config.WebhookQueueURL, s.Config.ConnectionsEndpoint = rt.queueURL, s.RESTURL
	s.WebSocketURL = "ws" + strings.TrimPrefix(s.RESTURL, "http") + "/v0"

	creds := credentials.NewStaticCredentialsProvider(localAccessKeyID, localSecretKey, "")
	// The functions' clients reach the stand-ins in process (embedded.InProcess): the same
	// requests as over the listeners, which stay for everyone else.
	queue := sqs.New(sqs.Options{
		Region: s.Region, BaseEndpoint: aws.String(sqsURL), Credentials: creds,
		HTTPClient: &http.Client{Transport: embedded.InProcess{Handler: rt.queue}},
	})
	ctx, cancel := context.WithCancel(context.Background()) // the loops outlive the start
	rt.cancel = cancel

	worker := &realtime.Webhooks{
		Store: s.Store, Deliverer: webhook.NewDeliverer(s.Config.Mode == config.Deployed), Queue: queue,
		QueueURL: rt.queueURL, DeadLetterURL: rt.deadLetters, Log: s.log.With("function", "webhooks"),
	}
	rt.wg.Add(1)
	go func() {
		defer rt.wg.Done()
		rt.pollWebhooks(ctx, worker, s.log)
	}()

	if st := s.storage.embedded; st != nil && s.storage.DynamoDBEndpoint == st.DynamoDBURL {
		fanout := &realtime.Fanout{
			Store: s.Store,
			Poster: apigatewaymanagementapi.New(apigatewaymanagementapi.Options{
				Region: s.Region, BaseEndpoint: aws.String(s.RESTURL), Credentials: creds,
				HTTPClient: &http.Client{Transport: embedded.InProcess{Handler: s.httpSrv.Handler}},
			}),
			Queue: queue, QueueURL: rt.queueURL, Log: s.log.With("function", "fanout"),
		}
		rt.wg.Add(1)
		go func() {
			defer rt.wg.Done()
			feedStream(ctx, st.DB, s.Config.Table, fanout, s.log)
		}()
	}
	return nil
}

// embeddedTable reports whether the table is on the embedded DynamoDB (this stack's own).
func (s *Stack) embeddedTable() bool {
	st := s.storage
	return st != nil && st.embedded != nil && st.embedded.DB != nil && st.DynamoDBEndpoint == st.embedded.DynamoDBURL
}

// clearConnections deletes the WebSocket connections a previous run of the stack recorded in
// its own (embedded) table: their sockets went with that run.
func (s *Stack) clearConnections(ctx context.Context) error {
	if !s.embeddedTable() {
		return nil
	}
	n, err := s.Store.DeleteConnections(ctx, s.Config.OrgID)
	if err != nil {
		return fmt.Errorf("local: clear the connections of the previous run: %w", err)
	}
	if n > 0 {
		s.log.Info("cleared the WebSocket connections of the previous run", "connections", n)
	}
	return nil
}

// stopRealtime closes every WebSocket connection, waits (until ctx ends) for their $disconnect,
// and stops the loops and the queue; safe on a stack whose real-time half never started.
func (s *Stack) stopRealtime(ctx context.Context) {
	rt := s.realtime
	if rt == nil {
		return
	}
	rt.open(false) // upgrades still waiting are refused
	if rt.cancel != nil {
		rt.cancel()
	}
	rt.gateway.Close()
	// Let the closed connections run $disconnect while the table is still there.
	drained := make(chan struct{})
	go func() {
		rt.sessions.Wait()
		close(drained)
	}()
	select {
	case <-drained:
	case <-ctx.Done():
	}
	rt.wg.Wait()
	if rt.queueSrv != nil {
		if err := rt.queueSrv.Shutdown(ctx); err != nil {
			_ = rt.queueSrv.Close()
		}
	}
	if rt.queue != nil {
		if err := rt.queue.Close(); err != nil {
			s.log.Error("webhook queue: close", "err", err)
		}
	}
}

// streamConsumer names the local stack's fanout position on the table's stream.
const streamConsumer = "fanout"

// feedStream stands in for the event source mapping from the table's stream to fanout: it
// reads the durable stream from its checkpoint, lets through what the deployed filter lets
// through (INSERTs of event items), hands each batch to fanout with Lambda's retries, and then
// checkpoints, so after a crash fanout sees every record after the last finished batch again
// (at least once; its markers keep each event once per connection and webhook).
func feedStream(ctx context.Context, db *dynamo.DB, table string, fanout *realtime.Fanout, log *slog.Logger) {
	after, err := db.LoadCheckpoint(streamConsumer, table)
	if err != nil {
		log.Error("stream: checkpoint unreadable; starting from the oldest record", "err", err)
	}
	skipped := 0
	for {
		batch, err := db.ReadStream(ctx, table, after, streamBatchSize, realtime.WantsRecord)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("stream: read", "err", err)
			}
			return
		}
		kept := batch.Records
		for attempt := 1; len(kept) > 0; attempt++ {
			resp, err := fanout.HandleStream(ctx, awsevents.DynamoDBEvent{Records: kept})
			if err == nil && len(resp.BatchItemFailures) == 0 {
				break
			}
			if ctx.Err() != nil {
				return
			}
			if attempt == streamAttempts {
				log.Error("stream: batch dropped after retries", "records", len(kept), "err", err)
				break
			}
			kept = retryFrom(kept, resp.BatchItemFailures, err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(50<<attempt) * time.Millisecond):
			}
		}
		after = batch.Last
		// Batches that fanout saw are checkpointed at once, and so is the position once the
		// feed has caught up; runs of records the filter skipped only now and then
		// (re-reading them after a crash costs nothing).
		caughtUp := len(batch.Records) < streamBatchSize && batch.Scanned < dynamo.StreamScanLimit
		if skipped += 1; len(batch.Records) > 0 || caughtUp || skipped >= 100 {
			skipped = 0
			if err := db.Checkpoint(streamConsumer, table, after); err != nil && ctx.Err() == nil {
				log.Error("stream: checkpoint", "err", err)
			}
		}
	}
}

// retryFrom is what Lambda retries after a partial failure: the batch from its first failed
// record (the whole batch after a function error).
func retryFrom(recs []awsevents.DynamoDBEventRecord, failures []awsevents.DynamoDBBatchItemFailure, err error) []awsevents.DynamoDBEventRecord {
	if err != nil {
		return recs
	}
	for i, r := range recs {
		for _, f := range failures {
			if f.ItemIdentifier == r.Change.SequenceNumber {
				return recs[i:]
			}
		}
	}
	return recs
}

// pollWebhooks hands queued deliveries to the webhooks function, 10 at a time, until ctx ends.
func (rt *realtimeStack) pollWebhooks(ctx context.Context, worker *realtime.Webhooks, log *slog.Logger) {
	for {
		msgs, err := rt.queue.Poll(ctx, rt.queueURL, webhookBatchSize)
		if err != nil {
			return
		}
		resp, err := worker.HandleQueue(ctx, awsevents.SQSEvent{Records: msgs})
		if err != nil {
			log.Error("webhooks: batch failed; its messages come back after their visibility timeout", "err", err)
			continue
		}
		failed := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
		for _, m := range msgs {
			if !failed[m.MessageId] {
				_ = rt.queue.Delete(rt.queueURL, m.ReceiptHandle)
			}
		}
	}
}
