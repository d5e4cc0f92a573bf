// Package deps builds the dependencies a function needs from its configuration: the AWS
// clients, the blob store, the store and the send path. Each functions/<name>/main.go loads
// them with Load; the local stack builds a Deps of its own around clients pointed at its
// servers, so both wire the same objects the same way.
package deps

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/blob"
	"github.com/pigeon-mail/pigeon/shared/config"
	"github.com/pigeon-mail/pigeon/shared/outbound"
	"github.com/pigeon-mail/pigeon/shared/ses"
	"github.com/pigeon-mail/pigeon/shared/sesevents"
	"github.com/pigeon-mail/pigeon/shared/store"
)

// Deps is a function's configuration, the AWS SDK's and its logger. The clients, when set,
// are used in place of ones built from AWS (the local stack points each at its own endpoint).
type Deps struct {
	Config config.Config
	AWS    aws.Config
	Log    *slog.Logger // Load: JSON lines on stdout, as Lambda collects them

	DynamoDB *dynamodb.Client
	S3       *s3.Client // used as it is: PIGEON_S3_PATH_STYLE applies only to a client built here
	SES      *sesv2.Client
}

// Load reads the configuration from the environment (config.FromEnv) and the SDK's default
// configuration, which honours AWS_REGION and AWS_ENDPOINT_URL*.
func Load(ctx context.Context) (Deps, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return Deps{}, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return Deps{}, fmt.Errorf("aws config: %w", err)
	}
	return Deps{Config: cfg, AWS: awsCfg, Log: newLog()}, nil
}

// MustLoad is Load for a function's main: when Load fails, it logs why and exits.
func MustLoad() Deps {
	d, err := Load(context.Background())
	if err != nil {
		newLog().Error("startup", "err", err)
		os.Exit(1)
	}
	return d
}

func newLog() *slog.Logger { return slog.New(slog.NewJSONHandler(os.Stdout, nil)) }

// BootstrapSecret is the bootstrap organisation key: read from Secrets Manager when
// PIGEON_SECRET_ARN is set (deployed; once per cold start), else PIGEON_API_KEY.
func (d Deps) BootstrapSecret(ctx context.Context) (string, error) {
	if d.Config.SecretARN == "" {
		return d.Config.APIKey, nil
	}
	out, err := secretsmanager.NewFromConfig(d.AWS).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(d.Config.SecretARN)})
	if err != nil {
		return "", fmt.Errorf("read bootstrap secret: %w", err)
	}
	return aws.ToString(out.SecretString), nil
}

// TokenKey is the key that signs page tokens: PIGEON_TOKEN_SECRET when set, else derived from
// the bootstrap secret (auth.TokenKey).
func (d Deps) TokenKey(secret string) []byte {
	if d.Config.TokenSecret != "" {
		return []byte(d.Config.TokenSecret)
	}
	return auth.TokenKey(secret)
}

// Blobs is the blob store on the mail bucket.
func (d Deps) Blobs() *blob.Store {
	client := d.S3
	if client == nil {
		client = s3.NewFromConfig(d.AWS, func(o *s3.Options) { o.UsePathStyle = d.Config.S3PathStyle })
	}
	return blob.New(client, d.Config.Bucket, d.Config.PublicS3Endpoint)
}

// Store is the store on the table, keeping events for the configured retention. blobs may be
// nil for functions that touch no object.
func (d Deps) Store(blobs *blob.Store, tokenKey []byte) *store.Store {
	client := d.DynamoDB
	if client == nil {
		client = dynamodb.NewFromConfig(d.AWS)
	}
	return store.New(client, blobs, d.Config.Table, tokenKey, store.WithEventRetention(d.Config.EventRetention()))
}

// Outbound is the send path of the api and scheduler functions: SES v2 with the configuration
// set, and dry-run sends settled in process by lifecycle (no SES publishes their
// notifications), named as coming from the SES events topic of the SDK's Region.
func (d Deps) Outbound(st *store.Store, lifecycle *sesevents.Handler) *outbound.Service {
	client := d.SES
	if client == nil {
		client = sesv2.NewFromConfig(d.AWS)
	}
	return &outbound.Service{
		Store:           st,
		Sender:          &ses.Sender{Client: client, ConfigurationSet: d.Config.ConfigurationSet},
		MessageIDDomain: d.Config.SESMessageIDDomain,
		Deployed:        d.Config.Mode == config.Deployed,
		DryRun: &sesevents.DryRun{
			Handler: lifecycle, Topic: sesevents.Topic{Region: d.AWS.Region},
			ConfigurationSet: d.Config.ConfigurationSet,
		},
	}
}
