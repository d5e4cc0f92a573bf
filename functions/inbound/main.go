// Command inbound is the Lambda that delivers received mail: SES receipt notifications (via
// SNS) and .eml files created under import/ in the mail bucket. See package inbound.
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
	"github.com/pigeon-mail/pigeon/shared/inbound"
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
	h := &inbound.Handler{Store: st, Blobs: blobs, Config: cfg, Log: log}
	lambda.Start(h.HandleEvent)
}
