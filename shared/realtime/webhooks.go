package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"strconv"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"golang.org/x/sync/errgroup"

	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/webhook"
)

// WorkerQueue is the part of SQS the webhooks function uses (*sqs.Client).
type WorkerQueue interface {
	ChangeMessageVisibility(context.Context, *sqs.ChangeMessageVisibilityInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Webhooks delivers queued webhook.Tasks, up to 10 at a time per batch.
//
// For each message:
//
//   - the webhook is read again: a deleted or disabled webhook drops the task (deletes and
//     edits take effect on pending retries), and its current URL, secret and headers are used;
//   - the attempt number is Task.Attempt + ApproximateReceiveCount - 1, as webhook.Backoff
//     documents: every retry is the same SQS message coming back;
//   - Delivered: done (the message is deleted);
//   - Retry with attempts left: the message's visibility timeout is set to Backoff(attempt)
//     and the message is reported as a batch item failure, so SQS hands it back after the
//     wait (5 s, 5 min, 30 min, … — Svix's schedule);
//   - Failed (410 Gone, a blocked address), or Retry after the last attempt: the task is
//     dead-lettered. With DeadLetterURL set it is sent there explicitly and deleted from the
//     queue at once, which keeps a 410 from being POSTed again. Without one, an exhausted task
//     is reported as a failure so the queue's redrive policy (maxReceiveCount = MaxAttempts)
//     moves it, and a Failed one is logged and dropped.
//
// A message whose webhook cannot be read (store failure) is reported as a failure with its
// visibility unchanged: it comes back after the queue's visibility timeout.
type Webhooks struct {
	Store         *store.Store
	Deliverer     *webhook.Deliverer
	Queue         WorkerQueue
	QueueURL      string
	DeadLetterURL string // optional; see above
	Log           *slog.Logger
}

// HandleQueue is the webhooks function's handler (SQS, ReportBatchItemFailures).
func (w *Webhooks) HandleQueue(ctx context.Context, ev awsevents.SQSEvent) (awsevents.SQSEventResponse, error) {
	failed := make([]bool, len(ev.Records))
	var g errgroup.Group
	g.SetLimit(10)
	for i, msg := range ev.Records {
		g.Go(func() error {
			failed[i] = !w.handle(ctx, msg)
			return nil
		})
	}
	_ = g.Wait()
	var resp awsevents.SQSEventResponse
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, awsevents.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return resp, nil
}

// handle processes one message and reports whether it is done with (deleted from the queue).
func (w *Webhooks) handle(ctx context.Context, msg awsevents.SQSMessage) bool {
	var t webhook.Task
	if err := json.Unmarshal([]byte(msg.Body), &t); err != nil || t.WebhookID == "" {
		return w.deadLetter(ctx, msg, t, "malformed task", true)
	}
	log := w.log().With("webhook_id", t.WebhookID, "event_id", t.EventID)
	hook, err := w.Store.GetWebhook(ctx, t.WebhookID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		log.Info("webhook deleted; delivery dropped")
		return true
	case err != nil:
		log.Error("webhook unreadable; retried later", "err", err)
		return false
	case !hook.Enabled:
		log.Info("webhook disabled; delivery dropped")
		return true
	}
	t.URL, t.Secret, t.Headers = hook.URL, hook.Secret, hook.Headers
	attempt := max(t.Attempt, 1)
	if n, err := strconv.Atoi(msg.Attributes["ApproximateReceiveCount"]); err == nil && n > 1 {
		attempt += n - 1
	}
	if attempt > webhook.MaxAttempts {
		return w.deadLetter(ctx, msg, t, "attempts exhausted", false)
	}
	res := w.Deliverer.Deliver(ctx, t)
	log = log.With("attempt", attempt, "status", res.Status, "duration_ms", res.Duration.Milliseconds())
	switch res.Outcome {
	case webhook.Delivered:
		log.Info("webhook delivered")
		return true
	case webhook.Failed:
		log.Warn("webhook delivery failed for good", "err", res.Err)
		return w.deadLetter(ctx, msg, t, res.Err.Error(), true)
	}
	wait, ok := webhook.Backoff(attempt)
	if !ok {
		log.Warn("webhook delivery failed; no attempts left", "err", res.Err)
		return w.deadLetter(ctx, msg, t, "attempts exhausted: "+res.Err.Error(), false)
	}
	log.Info("webhook delivery failed; retrying", "err", res.Err, "retry_in", wait)
	_, err = w.Queue.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(w.QueueURL), ReceiptHandle: aws.String(msg.ReceiptHandle),
		VisibilityTimeout: int32(math.Ceil(wait.Seconds())),
	})
	if err != nil {
		log.Warn("could not set the retry delay; the queue's visibility timeout applies", "err", err)
	}
	return false
}

// deadLetter moves a task to the dead-letter queue (see Webhooks). final tells a task that
// must not be attempted again (Failed, malformed) from one whose attempts are exhausted.
func (w *Webhooks) deadLetter(ctx context.Context, msg awsevents.SQSMessage, t webhook.Task, reason string, final bool) bool {
	log := w.log().With("webhook_id", t.WebhookID, "event_id", t.EventID, "reason", reason)
	if w.DeadLetterURL == "" {
		if final {
			log.Error("webhook delivery dropped (no dead-letter queue configured)")
			return true
		}
		return false // the redrive policy moves it once maxReceiveCount is reached
	}
	_, err := w.Queue.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(w.DeadLetterURL), MessageBody: aws.String(msg.Body)})
	if err != nil {
		log.Error("could not dead-letter webhook delivery; retried later", "err", err)
		return false
	}
	log.Warn("webhook delivery dead-lettered")
	return true
}

func (w *Webhooks) log() *slog.Logger {
	if w.Log == nil {
		return slog.Default()
	}
	return w.Log
}
