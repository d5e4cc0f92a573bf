package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/pigeon-mail/pigeon/shared/webhook"
)

// webhookMaxReceives is how often a webhook delivery is tried before it moves to the DLQ: the
// webhooks function retries a task by letting the same message come back (see webhook.Backoff),
// so the redrive policy must allow exactly webhook.MaxAttempts receives.
const webhookMaxReceives = webhook.MaxAttempts

// newQueue is an encrypted (SSE-SQS), TLS-only queue.
func newQueue(s awscdk.Stack, id string, props *awssqs.QueueProps) awssqs.Queue {
	if props == nil {
		props = &awssqs.QueueProps{}
	}
	props.Encryption = awssqs.QueueEncryption_SQS_MANAGED
	props.EnforceSSL = jsii.Bool(true)
	if props.RetentionPeriod == nil {
		props.RetentionPeriod = awscdk.Duration_Days(jsii.Number(14))
	}
	return awssqs.NewQueue(s, jsii.String(id), props)
}

// newDeadLetterQueue keeps what a function could not process, for 14 days.
func newDeadLetterQueue(s awscdk.Stack, id string) awssqs.Queue { return newQueue(s, id, nil) }

// webhookQueue is the queue fanout fills and webhooks drains, with its dead-letter queue.
type webhookQueue struct {
	queue, dlq awssqs.Queue
}

// newWebhookQueue sizes the visibility timeout at six times the webhooks timeout, as Lambda's
// SQS guidance asks, so a message is not handed out again while a batch is still running.
func newWebhookQueue(s awscdk.Stack) webhookQueue {
	dlq := newDeadLetterQueue(s, "WebhookDeadLetterQueue")
	q := newQueue(s, "WebhookQueue", &awssqs.QueueProps{
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(float64(6 * sizing["webhooks"].timeout))),
		RetentionPeriod:   awscdk.Duration_Days(jsii.Number(4)),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(webhookMaxReceives)},
	})
	return webhookQueue{queue: q, dlq: dlq}
}

// eventItemFilter lets only new event items (pk "EVT#...") through to fanout; every other write
// to the table is dropped by Lambda without an invocation.
func eventItemFilter() *map[string]interface{} {
	return awslambda.FilterCriteria_Filter(&map[string]interface{}{
		"eventName": awslambda.FilterRule_IsEqual(jsii.String("INSERT")),
		"dynamodb": map[string]interface{}{
			"NewImage": map[string]interface{}{
				"pk": map[string]interface{}{"S": awslambda.FilterRule_BeginsWith(jsii.String("EVT#"))},
			},
		},
	})
}

// connectStream feeds fanout from the table stream. A failing batch is halved until the bad
// record is isolated, each record is retried a bounded number of times, and what still fails is
// recorded (shard and sequence range, not the record) in failures rather than blocking the shard.
func connectStream(fanout awslambda.Function, t awsdynamodb.Table, failures awssqs.IQueue) {
	fanout.AddEventSource(awslambdaeventsources.NewDynamoEventSource(t, &awslambdaeventsources.DynamoEventSourceProps{
		StartingPosition:        awslambda.StartingPosition_LATEST,
		BatchSize:               jsii.Number(100),
		BisectBatchOnError:      jsii.Bool(true),
		RetryAttempts:           jsii.Number(5),
		MaxRecordAge:            awscdk.Duration_Hours(jsii.Number(1)),
		ReportBatchItemFailures: jsii.Bool(true),
		OnFailure:               awslambdaeventsources.NewSqsDlq(failures),
		Filters:                 &[]*map[string]interface{}{eventItemFilter()},
	}))
}

// connectWebhookQueue lets webhooks drain the queue, reporting failed messages one by one.
func connectWebhookQueue(webhooks awslambda.Function, q webhookQueue) {
	webhooks.AddEventSource(awslambdaeventsources.NewSqsEventSource(q.queue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(10),
		ReportBatchItemFailures: jsii.Bool(true),
		MaxConcurrency:          jsii.Number(20),
	}))
}
