package local

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pigeon-mail/pigeon/shared/sesevents"
)

// The delivery lifecycle in the local stack. sesemu publishes, for every message it accepts,
// the SES event notifications of the configuration set's SNS topic; they reach the sesevents
// function's handler as SNS invokes a subscribed Lambda function: asynchronously, retried when
// the handler fails (as it does for a Pigeon message not recorded yet, sesevents.RecordGrace).
// Dry-run sends settle in the api function itself (sesevents.DryRun), as deployed.

// lambdaRetries are the waits before the retries of a failed asynchronous invocation. Lambda
// retries twice, about one and two minutes later; the local stack waits less, so that outcomes
// show within seconds.
var lambdaRetries = []time.Duration{500 * time.Millisecond, 2 * time.Second}

// sesEventsTopic is the configuration set's topic the local notifications name.
func (s *Stack) sesEventsTopic() sesevents.Topic {
	return sesevents.Topic{Region: s.Region, ARN: "arn:aws:sns:" + s.Region + ":000000000000:pigeon-ses-events"}
}

// invokeAsync is how SNS hands a notification to the sesevents function: the handler runs,
// and runs again after each wait of lambdaRetries while it fails; a notification that fails
// every attempt is logged (deployed, it would go to the dead-letter queue).
func invokeAsync(h *sesevents.Handler, log *slog.Logger) func(ctx context.Context, ev events.SNSEvent) {
	return func(ctx context.Context, ev events.SNSEvent) {
		err := h.HandleSNS(ctx, ev)
		for _, wait := range lambdaRetries {
			if err == nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			err = h.HandleSNS(ctx, ev)
		}
		if err != nil {
			log.ErrorContext(ctx, "sesevents: notification dropped after retries", "err", err)
		}
	}
}
