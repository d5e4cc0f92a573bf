// Command scheduler is the Lambda EventBridge runs every minute: it sends the drafts whose
// send_at has come (drafts.Sender.SendDue), through the same send path as the api function.
package main

import (
	"context"
	"log"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/blob"
	"github.com/pigeon-mail/pigeon/shared/config"
	"github.com/pigeon-mail/pigeon/shared/drafts"
	"github.com/pigeon-mail/pigeon/shared/outbound"
	"github.com/pigeon-mail/pigeon/shared/ses"
	"github.com/pigeon-mail/pigeon/shared/sesevents"
	"github.com/pigeon-mail/pigeon/shared/store"
)

func main() {
	ctx := context.Background()
	cfg, err := config.FromEnv()
	if err != nil {
		log.Fatal(err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	secret := cfg.APIKey
	if cfg.SecretARN != "" {
		out, err := secretsmanager.NewFromConfig(awsCfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(cfg.SecretARN)})
		if err != nil {
			log.Fatalf("read bootstrap secret: %v", err)
		}
		secret = aws.ToString(out.SecretString)
	}
	tokenKey := auth.TokenKey(secret)
	if cfg.TokenSecret != "" {
		tokenKey = []byte(cfg.TokenSecret)
	}
	blobs := blob.New(s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = cfg.S3PathStyle }), cfg.Bucket, cfg.PublicS3Endpoint)
	st := store.New(dynamodb.NewFromConfig(awsCfg), blobs, cfg.Table, tokenKey, store.WithEventRetention(cfg.EventRetention()))
	out := &outbound.Service{
		Store:           st,
		Sender:          &ses.Sender{Client: sesv2.NewFromConfig(awsCfg), ConfigurationSet: cfg.ConfigurationSet},
		MessageIDDomain: cfg.SESMessageIDDomain,
		Deployed:        cfg.Mode == config.Deployed,
		DryRun: &sesevents.DryRun{
			Handler: &sesevents.Handler{Store: st}, Topic: sesevents.Topic{Region: awsCfg.Region},
			ConfigurationSet: cfg.ConfigurationSet,
		},
	}
	sender := &drafts.Sender{Store: st, Outbound: out}
	lambda.Start(func(ctx context.Context, _ events.CloudWatchEvent) error {
		sent, err := sender.SendDue(ctx, time.Now())
		slog.InfoContext(ctx, "scheduler: due drafts", "sent", sent, "err", err)
		return err
	})
}
