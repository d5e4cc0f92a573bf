// Command fanout is the Lambda on the table's stream (event items only): it posts each event
// to the WebSocket connections that subscribed to it and queues its webhook deliveries. See
// realtime.Fanout.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pigeon-mail/pigeon/shared/config"
	"github.com/pigeon-mail/pigeon/shared/realtime"
	"github.com/pigeon-mail/pigeon/shared/store"
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
	f := &realtime.Fanout{
		Store: store.New(dynamodb.NewFromConfig(awsCfg), nil, cfg.Table, []byte(cfg.TokenSecret)),
		Poster: apigatewaymanagementapi.NewFromConfig(awsCfg, func(o *apigatewaymanagementapi.Options) {
			o.BaseEndpoint = aws.String(cfg.ConnectionsEndpoint) // PIGEON_WS_ENDPOINT
			o.HTTPClient = realtime.PosterHTTPClient()
		}),
		Queue:    sqs.NewFromConfig(awsCfg),
		QueueURL: cfg.WebhookQueueURL,
		Log:      log,
	}
	lambda.Start(f.HandleStream)
}
