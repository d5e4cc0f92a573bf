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
	"scheduler": {512, 55, "sends due drafts and checks domains, every minute"},
}

// functionOptions are what differs between functions beyond sizing.
type functionOptions struct {
	env map[string]*string // added to the common environment
	// Asynchronous invocations (SNS, S3, EventBridge): retries and where events go when they run out.
	asyncRetries *float64
	dlq          awssqs.IQueue
}

// newFunction creates one Go function from <AssetDir>/<name> (the `bootstrap` that `make build`
// produced: provided.al2023, arm64, no Docker) with its own role and log group. The role starts
// empty: no AWSLambdaBasicExecutionRole, whose log permissions cover every log group.
func newFunction(s awscdk.Stack, cfg Config, name string, common map[string]*string, o functionOptions) awslambda.Function {
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
	for k, v := range common {
		env[k] = v
	}
	for k, v := range o.env {
		env[k] = v
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

// commonEnv is the environment every function reads through shared/config.
func commonEnv(cfg Config, tableName, secretARN *string) map[string]*string {
	env := map[string]*string{
		"PIGEON_MODE":                 jsii.String("deployed"),
		"PIGEON_TABLE":                tableName,
		"PIGEON_BUCKET":               bucketName(cfg),
		"PIGEON_DOMAIN":               jsii.String(strings.Join(cfg.Domains, ",")),
		"PIGEON_ORG_ID":               jsii.String(cfg.OrgID),
		"PIGEON_SECRET_ARN":           secretARN,
		"PIGEON_EVENT_RETENTION_DAYS": jsii.String(strconv.Itoa(cfg.EventRetentionDays)),
	}
	if !cfg.LocalStack {
		env["PIGEON_SES_CONFIGURATION_SET"] = jsii.String(cfg.ConfigurationSetName())
	} else {
		// LocalStack serves S3 on one host name; virtual-host addressing needs wildcard DNS.
		env["PIGEON_S3_PATH_STYLE"] = jsii.String("true")
	}
	return env
}

// exportName turns a function name into a construct id: "sesevents" → "Sesevents".
func exportName(name string) string { return strings.ToUpper(name[:1]) + name[1:] }
