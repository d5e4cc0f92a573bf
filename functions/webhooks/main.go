// Command webhooks is the Lambda on the webhook queue: it signs and POSTs each queued delivery,
// retrying on Svix's schedule and dead-lettering what cannot be delivered. See
// realtime.Webhooks. PIGEON_WEBHOOK_DLQ_URL, when set, is the dead-letter queue that
// deliveries which must not be retried (410 Gone, blocked address) are moved to at once.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pigeon-mail/pigeon/shared/config"
	"github.com/pigeon-mail/pigeon/shared/realtime"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/webhook"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := config.FromEnv()
	if err != nil {
		log.Error("config", "err", err)
		os.Exit(1)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("aws config", "err", err)
		os.Exit(1)
	}
	w := &realtime.Webhooks{
		Store:         store.New(dynamodb.NewFromConfig(awsCfg), nil, cfg.Table, []byte(cfg.TokenSecret)),
		Deliverer:     webhook.NewDeliverer(cfg.Mode == config.Deployed),
		Queue:         sqs.NewFromConfig(awsCfg),
		QueueURL:      cfg.WebhookQueueURL,
		DeadLetterURL: os.Getenv("PIGEON_WEBHOOK_DLQ_URL"),
		Log:           log,
	}
	lambda.Start(w.HandleQueue)
}
