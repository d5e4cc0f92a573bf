package local

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
// (LocalStack, or AWS itself) when one is set, otherwise on embedded servers on loopback. The
// S3 client uses path-style addressing, which the embedded server and LocalStack need and AWS
// accepts.
func connect(ctx context.Context, set Settings) (*storage, error) {
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
		if st.embedded, err = embedded.Start(); err != nil {
			return nil, err
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
