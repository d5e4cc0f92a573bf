package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	apigwtypes "github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"golang.org/x/sync/errgroup"

	"github.com/pigeon-mail/pigeon/shared/events"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/webhook"
)

// Poster is the part of the API Gateway management API fanout uses (*apigatewaymanagementapi.Client).
type Poster interface {
	PostToConnection(context.Context, *apigatewaymanagementapi.PostToConnectionInput, ...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.PostToConnectionOutput, error)
	DeleteConnection(context.Context, *apigatewaymanagementapi.DeleteConnectionInput, ...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.DeleteConnectionOutput, error)
}

// Queue is the part of SQS fanout uses (*sqs.Client).
type Queue interface {
	SendMessageBatch(context.Context, *sqs.SendMessageBatchInput, ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// DefaultParallel is how many posts to connections one event has in flight at most.
const DefaultParallel = 32

// PosterHTTPClient is the HTTP client for the management API client: the SDK's, keeping
// DefaultParallel idle connections to the endpoint instead of 10, so that parallel posts reuse
// connections rather than open (and leave in TIME_WAIT) new ones on every event.
func PosterHTTPClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = DefaultParallel
	})
}

// sqsBatch is SQS's limit on entries per SendMessageBatch.
const sqsBatch = 10

// Fanout hands each new event item to its subscribers.
//
// Per event (records are taken in stream order, one at a time, so a connection sees an
// inbox's events in the order they happened):
//
//  1. the connections and webhooks indexed under the event's inbox, pod and organisation are
//     read (at most three queries, cached for the invocation) and events.Matches picks those
//     that want it; disabled webhooks are left out;
//  2. each connection's API key is checked (cached for the invocation): a deleted key's
//     connections are closed and forgotten, and a key that has lost the label permission an
//     event type needs gets no such events;
//  3. the frame (events.Reduce'd to API Gateway's 128 KB) is posted to the connections, up to
//     Parallel at a time. A connection that is gone (GoneException) is forgotten. A post that
//     fails otherwise is logged and not retried: WebSocket delivery is best effort, as the
//     client may vanish at any moment anyway, and retrying the record would hold up every
//     connection behind one slow client;
//  4. one webhook.Task per webhook is enqueued (SendMessageBatch, 10 at a time);
//  5. who was served is recorded on the event's fanout marker (store.RecordFanout), in the
//     background while the next records are served; the invocation ends once every marker
//     is written.
//
// Idempotency: the stream delivers at least once, and a batch is redelivered from its first
// failed record. Before posting, fanout reads the marker of step 5 and skips the connections
// and webhooks already served, so a redelivered batch posts each frame once per connection and
// enqueues one delivery per webhook. Webhook deliveries are recorded only once SQS accepted
// them: a crash between the two enqueues again, and the receiver sees the same svix-id twice
// (Standard Webhooks receivers dedupe on it). A post to a connection that failed (step 3) is
// tried again only if the record is redelivered for another reason.
//
// A record is reported as a batch item failure (its SequenceNumber, so Lambda retries from
// it) when the store cannot be read or a delivery cannot be enqueued; the records after it
// are reported too, so that nothing is delivered out of order. Records that are not event
// items, or are malformed, are logged and skipped: retrying cannot fix them.
type Fanout struct {
	Store    *store.Store
	Poster   Poster
	Queue    Queue
	QueueURL string
	Log      *slog.Logger
	Parallel int // DefaultParallel when 0
}

// HandleStream is the fanout function's handler (DynamoDB stream, ReportBatchItemFailures).
func (f *Fanout) HandleStream(ctx context.Context, ev awsevents.DynamoDBEvent) (awsevents.DynamoDBEventResponse, error) {
	run := &fanoutRun{Fanout: f, subscribers: map[store.Target][]store.Subscriber{}, keys: map[string]*store.APIKey{}}
	run.markers.SetLimit(markerWrites)
	defer run.markers.Wait()
	var resp awsevents.DynamoDBEventResponse
	evs := make([]*store.EventRecord, len(ev.Records))
	var ids []string
	for i, rec := range ev.Records {
		if evs[i] = run.decode(rec); evs[i] != nil {
			ids = append(ids, evs[i].EventID)
		}
	}
	// What earlier runs served, for the whole batch in one read before anything is served.
	progress, err := f.Store.FanoutProgressOf(ctx, ids)
	if err != nil {
		f.log().Error("fanout: progress unreadable; the stream retries the batch", "err", err)
		for _, rec := range ev.Records {
			resp.BatchItemFailures = append(resp.BatchItemFailures, awsevents.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
		}
		return resp, nil
	}
	run.progress = progress
	for i, rec := range ev.Records {
		if evs[i] == nil {
			continue
		}
		if err := run.serve(ctx, evs[i]); err != nil {
			f.log().Error("fanout: event not delivered; the stream retries it", "sequence_number", rec.Change.SequenceNumber, "err", err)
			for _, later := range ev.Records[i:] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, awsevents.DynamoDBBatchItemFailure{ItemIdentifier: later.Change.SequenceNumber})
			}
			break
		}
	}
	return resp, nil
}

// fanoutRun is one invocation, with its caches.
type fanoutRun struct {
	*Fanout
	subscribers map[store.Target][]store.Subscriber
	keys        map[string]*store.APIKey // nil: deleted
	markers     errgroup.Group           // RecordFanout writes in flight
	progress    map[string]store.FanoutDone
}

// markerWrites is how many fanout markers one invocation writes at once.
const markerWrites = 16

func (f *Fanout) log() *slog.Logger {
	if f.Log == nil {
		return slog.Default()
	}
	return f.Log
}

// IsEventInsert is the rule of the stream's event source filter (the CDK stack's
// eventItemFilter, the local stack's stream feed): fanout gets the INSERTs of event items only.
func IsEventInsert(rec awsevents.DynamoDBEventRecord) bool {
	pk, ok := rec.Change.Keys["pk"]
	return ok && pk.DataType() == awsevents.DataTypeString && WantsRecord(rec.EventName, []byte(pk.String()))
}

// WantsRecord is IsEventInsert on a record's event name and partition key alone.
func WantsRecord(eventName string, partitionKey []byte) bool {
	return eventName == string(awsevents.DynamoDBOperationTypeInsert) && strings.HasPrefix(string(partitionKey), store.EventKeyPrefix)
}

// decode is the event a record carries, or nil for a record fanout skips: not an event item,
// malformed (retrying cannot fix it), or a label event (listed by GET …/events, never pushed).
func (r *fanoutRun) decode(rec awsevents.DynamoDBEventRecord) *store.EventRecord {
	if !IsEventInsert(rec) {
		return nil
	}
	item, err := image(rec.Change.NewImage)
	if err != nil {
		r.log().Error("fanout: unreadable stream record; skipped", "sequence_number", rec.Change.SequenceNumber, "err", err)
		return nil
	}
	ev, err := store.DecodeEvent(item)
	if err != nil || !json.Valid(ev.Payload) {
		r.log().Error("fanout: malformed event item; skipped", "sequence_number", rec.Change.SequenceNumber, "err", err)
		return nil
	}
	if !events.IsType(ev.EventType) {
		return nil
	}
	return &ev
}

// serve hands one event to its connections and webhooks.
func (r *fanoutRun) serve(ctx context.Context, ev *store.EventRecord) error {
	env := events.Envelope{OrgID: ev.OrgID, PodID: ev.PodID, InboxID: ev.InboxID, EventType: ev.EventType}

	var conns []store.Subscriber
	var hooks []*store.Webhook
	seen := map[string]bool{}
	for _, t := range store.Targets(env) {
		subs, err := r.subscribersOf(ctx, t)
		if err != nil {
			return err
		}
		for _, s := range subs {
			if !events.Matches(s.Subscription, env) {
				continue
			}
			switch {
			case s.ConnectionID != "" && !seen["c"+s.ConnectionID]:
				seen["c"+s.ConnectionID] = true
				conns = append(conns, s)
			case s.Webhook != nil && s.Webhook.Enabled && !seen["w"+s.Webhook.WebhookID]:
				seen["w"+s.Webhook.WebhookID] = true
				hooks = append(hooks, s.Webhook)
			}
		}
	}
	if len(conns) == 0 && len(hooks) == 0 {
		return nil
	}
	done := r.progress[ev.EventID] // zero value: nothing served yet
	var targets []string
	for _, c := range conns {
		if done.Connections[c.ConnectionID] {
			continue
		}
		ok, err := r.keyAllows(ctx, c, env.EventType)
		if err != nil {
			return err
		}
		if ok {
			targets = append(targets, c.ConnectionID)
		}
	}
	hooks = slices.DeleteFunc(hooks, func(h *store.Webhook) bool { return done.Webhooks[h.WebhookID] })

	served := r.post(ctx, targets, events.Reduce(ev.Payload))
	enqueued, enqueueErr := r.enqueue(ctx, *ev, hooks)
	// The marker is written while the next records go out (HandleStream waits for every
	// marker before it returns): a write per event in line would bound an inbox's events to
	// one per write round trip.
	r.markers.Go(func() error {
		if err := r.Store.RecordFanout(ctx, ev.EventID, served, enqueued); err != nil {
			// The posts and enqueues happened; failing the record would only repeat them.
			r.log().Warn("fanout: could not record who was served; a redelivery would serve them again", "event_id", ev.EventID, "err", err)
		}
		return nil
	})
	return enqueueErr
}

func (r *fanoutRun) subscribersOf(ctx context.Context, t store.Target) ([]store.Subscriber, error) {
	if subs, ok := r.subscribers[t]; ok {
		return subs, nil
	}
	subs, err := r.Store.Subscribers(ctx, t)
	if err != nil {
		return nil, err
	}
	r.subscribers[t] = subs
	return subs, nil
}

// keyAllows reports whether connection c's API key still exists and may receive eventType.
// The connection of a deleted key is closed and forgotten.
func (r *fanoutRun) keyAllows(ctx context.Context, c store.Subscriber, eventType string) (bool, error) {
	k, cached := r.keys[c.APIKeyID]
	if !cached {
		key, err := r.Store.GetAPIKey(ctx, c.APIKeyID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return false, err
		default:
			k = &key
		}
		r.keys[c.APIKeyID] = k
	}
	if k == nil {
		r.drop(ctx, c.ConnectionID, "its API key was deleted")
		return false, nil
	}
	perm := events.Permission(eventType)
	return perm == "" || k.Permissions == nil || k.Permissions[perm], nil
}

// drop closes a connection (best effort) and forgets it.
func (r *fanoutRun) drop(ctx context.Context, connectionID, why string) {
	r.log().Info("fanout: closing connection", "connection_id", connectionID, "reason", why)
	var gone *apigwtypes.GoneException
	if _, err := r.Poster.DeleteConnection(ctx, &apigatewaymanagementapi.DeleteConnectionInput{ConnectionId: aws.String(connectionID)}); err != nil && !errors.As(err, &gone) {
		r.log().Warn("fanout: could not close connection", "connection_id", connectionID, "err", err)
	}
	r.forget(ctx, connectionID)
}

func (r *fanoutRun) forget(ctx context.Context, connectionID string) {
	if err := r.Store.DeleteConnection(ctx, connectionID); err != nil {
		r.log().Warn("fanout: could not delete connection; its items expire", "connection_id", connectionID, "err", err)
	}
}

// post sends frame to each connection, at most Parallel at a time, and returns those that
// got it.
func (r *fanoutRun) post(ctx context.Context, connections []string, frame []byte) []string {
	var mu sync.Mutex
	var served []string
	parallel := r.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	var g errgroup.Group
	g.SetLimit(parallel)
	for _, id := range connections {
		g.Go(func() error {
			_, err := r.Poster.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: frame})
			var gone *apigwtypes.GoneException
			switch {
			case err == nil:
				mu.Lock()
				served = append(served, id)
				mu.Unlock()
			case errors.As(err, &gone):
				r.forget(ctx, id)
			default:
				r.log().Warn("fanout: post to connection failed; not retried", "connection_id", id, "err", err)
			}
			return nil
		})
	}
	_ = g.Wait()
	return served
}

// enqueue queues one delivery per webhook and returns the webhooks whose delivery SQS
// accepted; err when some were not.
func (r *fanoutRun) enqueue(ctx context.Context, ev store.EventRecord, hooks []*store.Webhook) ([]string, error) {
	if len(hooks) == 0 {
		return nil, nil
	}
	body := events.ReduceTo(ev.Payload, webhook.MaxBodyBytes)
	var enqueued []string
	var errs []error
	for start := 0; start < len(hooks); start += sqsBatch {
		batch := hooks[start:min(start+sqsBatch, len(hooks))]
		in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(r.QueueURL)}
		for i, h := range batch {
			task, err := json.Marshal(webhook.Task{
				WebhookID: h.WebhookID, EventID: ev.EventID, Attempt: 1,
				URL: h.URL, Secret: h.Secret, Headers: h.Headers, Body: body,
			})
			if err != nil {
				return enqueued, fmt.Errorf("fanout: encode task: %w", err)
			}
			in.Entries = append(in.Entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(task))})
		}
		out, err := r.Queue.SendMessageBatch(ctx, in)
		if err != nil {
			errs = append(errs, fmt.Errorf("fanout: enqueue deliveries of %s: %w", ev.EventID, err))
			continue
		}
		for _, ok := range out.Successful {
			if i, err := strconv.Atoi(aws.ToString(ok.Id)); err == nil && i < len(batch) {
				enqueued = append(enqueued, batch[i].WebhookID)
			}
		}
		for _, failed := range out.Failed {
			errs = append(errs, fmt.Errorf("fanout: enqueue delivery of %s: %s %s", ev.EventID, aws.ToString(failed.Code), aws.ToString(failed.Message)))
		}
	}
	return enqueued, errors.Join(errs...)
}
