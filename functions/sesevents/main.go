// Command sesevents is the Lambda subscribed to the SNS topic of SES's configuration set: it
// moves sent messages through their delivery lifecycle (Send, Delivery, Bounce, Complaint,
// Reject, DeliveryDelay, Rendering Failure). See package sesevents.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/pigeon-mail/pigeon/shared/blob"
	"github.com/pigeon-mail/pigeon/shared/config"
	"github.com/pigeon-mail/pigeon/shared/sesevents"
	"github.com/pigeon-mail/pigeon/shared/store"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := config.FromEnv()
	if err != nil {
		log.Error("config", "err", err)
		os.Exit(1)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background()) // honours AWS_ENDPOINT_URL*
	if err != nil {
		log.Error("aws config", "err", err)
		os.Exit(1)
	}
	blobs := blob.New(s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = cfg.S3PathStyle }), cfg.Bucket, cfg.PublicS3Endpoint)
	st := store.New(dynamodb.NewFromConfig(awsCfg), blobs, cfg.Table, []byte(cfg.TokenSecret),
		store.WithEventRetention(cfg.EventRetention()))
	h := &sesevents.Handler{Store: st, Log: log}
	lambda.Start(h.HandleSNS)
}
