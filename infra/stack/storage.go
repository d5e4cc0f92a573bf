package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
)

// Bucket prefixes. SES writes raw/; anyone with access may drop .eml files into import/.
const (
	prefixRaw    = "raw/"
	prefixImport = "import/"
	prefixSent   = "sent/"
	prefixAtt    = "att/"
	prefixBody   = "body/"
)

// newTable is the single table of shared/store: pk/sk, three GSIs projecting everything, TTL on
// `ttl`, and a NEW_IMAGE stream that fanout reads (filtered to event items).
//
// It is an AWS::DynamoDB::Table rather than TableV2's AWS::DynamoDB::GlobalTable because
// LocalStack's CloudFormation handles the former reliably.
func newTable(s awscdk.Stack, cfg Config) awsdynamodb.Table {
	str := func(name string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
	}
	t := awsdynamodb.NewTable(s, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey:                     str("pk"),
		SortKey:                          str("sk"),
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		TimeToLiveAttribute:              jsii.String("ttl"),
		Stream:                           awsdynamodb.StreamViewType_NEW_IMAGE,
		Encryption:                       awsdynamodb.TableEncryption_AWS_MANAGED,
		RemovalPolicy:                    dataRemovalPolicy(cfg),
	})
	for _, gsi := range []string{"gsi1", "gsi2", "gsi3"} {
		t.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(gsi),
			PartitionKey:   str(gsi + "pk"),
			SortKey:        str(gsi + "sk"),
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	return t
}

// bucketName is fixed (stack prefix, account, Region) rather than generated. The import/
// notification makes the bucket depend on the inbound function, and the function's environment
// and role name the bucket: with a generated name that is a dependency cycle, which CDK breaks
// with a custom resource whose role may call s3:PutBucketNotification on every bucket ("*").
// A name built from pseudo parameters needs neither.
func bucketName(cfg Config) *string {
	return awscdk.Fn_Join(jsii.String("-"), &[]*string{jsii.String(cfg.prefix()), awscdk.Aws_ACCOUNT_ID(), awscdk.Aws_REGION()})
}

// bucketARN is the ARN of the bucket, or of keys under prefix when one is given ("raw/" → raw/*).
func bucketARN(cfg Config, prefix string) *string {
	if prefix == "" {
		return awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":s3:::"), bucketName(cfg)})
	}
	return awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":s3:::"), bucketName(cfg), jsii.String("/" + prefix + "*")})
}

// newBucket holds raw mail (raw/, import/, sent/), attachments (att/) and large bodies (body/):
// SSE-S3 (SES's S3 action cannot use a KMS key the functions can read with the Go SDK), no public
// access, TLS only, and raw/ expiring after the configured retention.
func newBucket(s awscdk.Stack, cfg Config) awss3.Bucket {
	rules := []*awss3.LifecycleRule{{
		Id:                                  jsii.String("abort-incomplete-uploads"),
		AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
	}}
	if cfg.RawRetentionDays > 0 {
		rules = append(rules, &awss3.LifecycleRule{
			Id:         jsii.String("raw-retention"),
			Prefix:     jsii.String(prefixRaw),
			Expiration: awscdk.Duration_Days(jsii.Number(float64(cfg.RawRetentionDays))),
		})
	}
	return awss3.NewBucket(s, jsii.String("Bucket"), &awss3.BucketProps{
		BucketName:        bucketName(cfg),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		EnforceSSL:        jsii.Bool(true),
		LifecycleRules:    &rules,
		RemovalPolicy:     dataRemovalPolicy(cfg),
	})
}

// dataRemovalPolicy keeps mail when the stack is deleted, except on LocalStack, where stacks are
// destroyed and redeployed rather than updated.
func dataRemovalPolicy(cfg Config) awscdk.RemovalPolicy {
	if cfg.LocalStack {
		return awscdk.RemovalPolicy_DESTROY
	}
	return awscdk.RemovalPolicy_RETAIN
}
