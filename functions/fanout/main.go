// Command fanout is the Lambda on the table's stream (event items only): it posts each event
// to the WebSocket connections that subscribed to it and queues its webhook deliveries. See
// realtime.Fanout.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pigeon-mail/pigeon/shared/deps"
	"github.com/pigeon-mail/pigeon/shared/realtime"
)

func main() {
	d := deps.MustLoad()
	f := &realtime.Fanout{
		Store: d.Store(nil, []byte(d.Config.TokenSecret)),
		Poster: apigatewaymanagementapi.NewFromConfig(d.AWS, func(o *apigatewaymanagementapi.Options) {
			o.BaseEndpoint = aws.String(d.Config.ConnectionsEndpoint) // PIGEON_WS_ENDPOINT
			o.HTTPClient = realtime.PosterHTTPClient()
		}),
		Queue:    sqs.NewFromConfig(d.AWS),
		QueueURL: d.Config.WebhookQueueURL,
		Log:      d.Log,
	}
	lambda.Start(f.HandleStream)
}
