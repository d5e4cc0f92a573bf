package stack

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// sizing is how much memory and time each function gets. Timeouts drive the SQS visibility
// timeout (webhooks) and stay below the trigger's own limits: 29 s for API Gateway, one minute for
// the scheduler so that runs do not overlap.
var sizing = map[string]struct {
	memoryMB int
	timeout  int // seconds
	purpose  string
}{
	"api":       {1024, 29, "REST API (API Gateway Lambda proxy)"},
	"inbound":   {1024, 120, "parses received mail (SES receipt via SNS, S3 import/)"},
	"sesevents": {256, 30, "SES sending events (configuration set via SNS)"},
	"fanout":    {512, 60, "event items from the table stream to WebSocket connections and the webhook queue"},
	"webhooks":  {256, 60, "delivers webhooks from the SQS queue"},
	"ws":        {256, 15, "WebSocket $connect, $disconnect and $default"},
	"scheduler": {512, 55, "sends due drafts (send_at reached), every minute"},
}

// functionOptions are what differs between functions beyond sizing and environment.
type functionOptions struct {
	// Asynchronous invocations (SNS, S3, EventBridge): retries and where events go when they run out.
	asyncRetries *float64
	dlq          awssqs.IQueue
}

// newFunction creates one Go function from <AssetDir>/<name> (the `bootstrap` that `make build`
// produced: provided.al2023, arm64, no Docker) with its own role and log group. The role starts
// empty: no AWSLambdaBasicExecutionRole, whose log permissions cover every log group.
func newFunction(s awscdk.Stack, cfg Config, name string, values map[string]*string, o functionOptions) awslambda.Function {
	size := sizing[name]
	id := exportName(name)
	logs := awslogs.NewLogGroup(s, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(s, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Pigeon " + name + " function"),
	})
	logs.GrantWrite(role)

	env := map[string]*string{}
	for _, k := range envOf[name] {
		if v := values[k]; v != nil {
			env[k] = v
		}
	}
	fn := awslambda.NewFunction(s, jsii.String(id+"Function"), &awslambda.FunctionProps{
		Description:     jsii.String("Pigeon " + name + ": " + size.purpose),
		Runtime:         awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:    awslambda.Architecture_ARM_64(),
		Handler:         jsii.String("bootstrap"),
		Code:            awslambda.Code_FromAsset(jsii.String(filepath.Join(cfg.AssetDir, name)), nil),
		MemorySize:      jsii.Number(float64(size.memoryMB)),
		Timeout:         awscdk.Duration_Seconds(jsii.Number(float64(size.timeout))),
		Environment:     &env,
		Role:            role,
		LogGroup:        logs,
		RetryAttempts:   o.asyncRetries,
		DeadLetterQueue: o.dlq,
	})
	return fn
}

// The environment variables the stack sets. shared/config reads all but the last, which
// functions/webhooks reads itself. The local stack's own variables (PIGEON_API_KEY,
// PIGEON_TOKEN_SECRET, PIGEON_S3_PUBLIC_ENDPOINT, PIGEON_LOCAL_*) are never set here: deployed,
// the key comes from Secrets Manager and the page-token key is derived from it.
const (
	envMode             = "PIGEON_MODE"
	envTable            = "PIGEON_TABLE"
	envBucket           = "PIGEON_BUCKET"
	envDomain           = "PIGEON_DOMAIN"
	envOrgID            = "PIGEON_ORG_ID"
	envSecretARN        = "PIGEON_SECRET_ARN"
	envEventRetention   = "PIGEON_EVENT_RETENTION_DAYS"
	envConfigurationSet = "PIGEON_SES_CONFIGURATION_SET" // not on LocalStack (no SES v2)
	envS3PathStyle      = "PIGEON_S3_PATH_STYLE"         // LocalStack only
	envWebhookQueue     = "PIGEON_WEBHOOK_QUEUE_URL"
	envWSEndpoint       = "PIGEON_WS_ENDPOINT" // not on LocalStack (no WebSocket API)
	envWebhookDLQ       = "PIGEON_WEBHOOK_DLQ_URL"
)

// envOf is what each function reads, from its main.go and the shared packages it calls. A
// variable with no value in a deployment (see envValues) is left out. Every function gets
// PIGEON_MODE=deployed, which turns on the checks that only make sense on a real network
// (webhook URLs that resolve to private addresses, in api and webhooks).
var envOf = map[string][]string{
	// Domains: new inboxes and their check; org: the bootstrap key's organisation; secret: the
	// bootstrap key (read at cold start); configuration set: every send.
	"api": {envMode, envTable, envBucket, envS3PathStyle, envDomain, envOrgID, envSecretARN, envEventRetention, envConfigurationSet},
	// Domains: which recipients are Pigeon's; event retention: message.received events.
	"inbound": {envMode, envTable, envBucket, envS3PathStyle, envDomain, envEventRetention},
	// Event retention: message.delivered/bounced/... events. It touches no object.
	"sesevents": {envMode, envTable, envEventRetention},
	"fanout":    {envMode, envTable, envWebhookQueue, envWSEndpoint},
	// The queue URL for ChangeMessageVisibility (the retry delays), the DLQ for tasks that must
	// not be retried (410 Gone, blocked addresses).
	"webhooks": {envMode, envTable, envWebhookQueue, envWebhookDLQ},
	"ws":       {envMode, envTable},
	// The send path of api, for due drafts.
	"scheduler": {envMode, envTable, envBucket, envS3PathStyle, envSecretARN, envEventRetention, envConfigurationSet},
}

// envValues are the values of the variables that do not depend on resources created later
// (the queue URLs and the WebSocket endpoint are added by New).
func envValues(cfg Config, tableName, secretARN *string) map[string]*string {
	env := map[string]*string{
		envMode:           jsii.String("deployed"),
		envTable:          tableName,
		envBucket:         bucketName(cfg),
		envDomain:         jsii.String(strings.Join(cfg.Domains, ",")),
		envOrgID:          jsii.String(cfg.OrgID),
		envSecretARN:      secretARN,
		envEventRetention: jsii.String(strconv.Itoa(cfg.EventRetentionDays)),
	}
	if !cfg.LocalStack {
		env[envConfigurationSet] = jsii.String(cfg.ConfigurationSetName())
	} else {
		// LocalStack serves S3 on one host name; virtual-host addressing needs wildcard DNS.
		env[envS3PathStyle] = jsii.String("true")
	}
	return env
}

// exportName turns a function name into a construct id: "sesevents" → "Sesevents".
func exportName(name string) string { return strings.ToUpper(name[:1]) + name[1:] }
