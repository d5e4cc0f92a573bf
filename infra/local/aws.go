package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/pigeon-mail/pigeon/infra/local/embedded"
)

// storage is where the functions' DynamoDB and S3 clients point.
type storage struct {
	DynamoDB         *dynamodb.Client
	S3               *s3.Client
	DynamoDBEndpoint string
	S3Endpoint       string
	Region           string
	embedded         *embedded.Servers // nil when both services are external
}

// connect finds DynamoDB and S3: each at its AWS_ENDPOINT_URL_<SERVICE> or AWS_ENDPOINT_URL
// (LocalStack, or AWS itself) when one is set, otherwise on embedded servers on loopback,
// listening on set.DynamoDBAddr and set.S3Addr, with their data in dataDir (dynamodb/, s3/;
// fsyncs skipped when ephemeral). The S3 client uses path-style addressing, which the embedded
// server and LocalStack need and AWS accepts.
func connect(ctx context.Context, set Settings, dataDir string, ephemeral bool, log *slog.Logger) (*storage, error) {
	ddbURL := firstOf(set.lookup("AWS_ENDPOINT_URL_DYNAMODB"), set.lookup("AWS_ENDPOINT_URL"))
	s3URL := firstOf(set.lookup("AWS_ENDPOINT_URL_S3"), set.lookup("AWS_ENDPOINT_URL"))
	st := &storage{Region: firstOf(set.lookup("AWS_REGION"), set.lookup("AWS_DEFAULT_REGION"), embedded.Region)}

	var external aws.Config
	if ddbURL != "" || s3URL != "" {
		var err error
		if external, err = awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(st.Region)); err != nil {
			return nil, fmt.Errorf("local: AWS configuration: %w", err)
		}
	}
	if ddbURL == "" || s3URL == "" {
		var err error
		opts := embedded.Options{Dir: dataDir, Ephemeral: ephemeral, DynamoDBAddr: set.DynamoDBAddr, S3Addr: set.S3Addr, Log: log,
			StreamConsumers: []string{streamConsumer}}
		st.embedded, err = embedded.Open(opts)
		if err != nil && set.S3Addr == DefaultS3Addr && errors.Is(err, syscall.EADDRINUSE) {
			// The default port is a convenience (presigned URLs that outlive a restart), not
			// worth refusing to start for.
			log.Warn("local: the embedded S3's default port is taken; using a free one (presigned URLs will not survive a restart)", "addr", DefaultS3Addr)
			opts.S3Addr = ""
			st.embedded, err = embedded.Open(opts)
		}
		if err != nil {
			return nil, fmt.Errorf("local: %w", err)
		}
	}
	if ddbURL != "" {
		st.DynamoDB = dynamodb.NewFromConfig(external, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ddbURL) })
		st.DynamoDBEndpoint = ddbURL
	} else {
		st.DynamoDB = st.embedded.DynamoDB()
		st.DynamoDBEndpoint = st.embedded.DynamoDBURL
	}
	if s3URL != "" {
		st.S3 = s3.NewFromConfig(external, func(o *s3.Options) {
			o.BaseEndpoint = aws.String(s3URL)
			o.UsePathStyle = true
		})
		st.S3Endpoint = s3URL
	} else {
		st.S3 = st.embedded.S3()
		st.S3Endpoint = st.embedded.S3URL
	}
	return st, nil
}

// close stops the embedded servers, if any.
func (st *storage) close() {
	if st != nil && st.embedded != nil {
		st.embedded.Close()
	}
}

// ensureBucket creates the bucket unless it is already there.
func ensureBucket(ctx context.Context, c *s3.Client, bucket string) error {
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		if _, headErr := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); headErr != nil {
			return fmt.Errorf("local: create bucket %s: %w", bucket, err)
		}
	}
	return nil
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
