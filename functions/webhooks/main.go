// Command webhooks is the Lambda on the webhook queue: it signs and POSTs each queued delivery,
// retrying on Svix's schedule and dead-lettering what cannot be delivered. See
// realtime.Webhooks. PIGEON_WEBHOOK_DLQ_URL, when set, is the dead-letter queue that
// deliveries which must not be retried (410 Gone, blocked address) are moved to at once.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pigeon-mail/pigeon/shared/config"
	"github.com/pigeon-mail/pigeon/shared/deps"
	"github.com/pigeon-mail/pigeon/shared/realtime"
	"github.com/pigeon-mail/pigeon/shared/webhook"
)

func main() {
	d := deps.MustLoad()
	w := &realtime.Webhooks{
		Store:         d.Store(nil, []byte(d.Config.TokenSecret)),
		Deliverer:     webhook.NewDeliverer(d.Config.Mode == config.Deployed),
		Queue:         sqs.NewFromConfig(d.AWS),
		QueueURL:      d.Config.WebhookQueueURL,
		DeadLetterURL: os.Getenv("PIGEON_WEBHOOK_DLQ_URL"),
		Log:           d.Log,
	}
	lambda.Start(w.HandleQueue)
}
