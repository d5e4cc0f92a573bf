package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// New adds Pigeon's stack to scope. The stack is environment-agnostic: account and Region come
// from the credentials `cdk deploy` uses, and synth needs neither credentials nor network.
func New(scope constructs.Construct, cfg Config) awscdk.Stack {
	s := awscdk.NewStack(scope, jsii.String(cfg.StackName), &awscdk.StackProps{
		Description: jsii.String("Pigeon: self-hosted, AgentMail-compatible email API for AI agents"),
	})
	awscdk.Tags_Of(s).Add(jsii.String("app"), jsii.String("pigeon"), nil)

	table := newTable(s, cfg)
	bucket := newBucket(s, cfg)
	apiKey := awssecretsmanager.NewSecret(s, jsii.String("ApiKey"), &awssecretsmanager.SecretProps{
		Description: jsii.String("Pigeon bootstrap organisation API key (api hashes it into the table at cold start)"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength:     jsii.Number(48),
			ExcludePunctuation: jsii.Bool(true),
			IncludeSpace:       jsii.Bool(false),
		},
	})
	env := envValues(cfg, table.TableName(), apiKey.SecretArn())

	// Topics SES publishes to. Neither is KMS-encrypted: SES could not use the AWS-managed SNS key.
	receipts := awssns.NewTopic(s, jsii.String("ReceiptTopic"), &awssns.TopicProps{DisplayName: jsii.String("Pigeon received mail")})
	sendingEvents := awssns.NewTopic(s, jsii.String("SendingEventsTopic"), &awssns.TopicProps{DisplayName: jsii.String("Pigeon SES sending events")})

	inboundDLQ := newDeadLetterQueue(s, "InboundDeadLetterQueue")
	seseventsDLQ := newDeadLetterQueue(s, "SeseventsDeadLetterQueue")
	fanoutFailures := newDeadLetterQueue(s, "FanoutFailureQueue")
	webhookQ := newWebhookQueue(s)

	env[envWebhookQueue] = webhookQ.queue.QueueUrl()
	env[envWebhookDLQ] = webhookQ.dlq.QueueUrl()

	fns := map[string]awslambda.Function{}
	add := func(name string, o functionOptions) awslambda.Function {
		fns[name] = newFunction(s, cfg, name, env, o)
		return fns[name]
	}
	api := add("api", functionOptions{})
	inbound := add("inbound", functionOptions{asyncRetries: jsii.Number(2), dlq: inboundDLQ})
	sesevents := add("sesevents", functionOptions{asyncRetries: jsii.Number(2), dlq: seseventsDLQ})
	ws := add("ws", functionOptions{})
	webhooks := add("webhooks", functionOptions{})
	// A failed run is not retried: the next one starts a minute later.
	scheduler := add("scheduler", functionOptions{asyncRetries: jsii.Number(0)})

	// fanout posts to the WebSocket API, which routes to ws: it comes last.
	var socket *webSocket
	if !cfg.LocalStack {
		w := newWebSocketAPI(s, cfg, ws)
		socket = &w
		env[envWSEndpoint] = w.callback
	}
	fanout := add("fanout", functionOptions{})

	for _, name := range Functions {
		fn, a := fns[name], accessOf[name]
		grantTable(fn, table, a.tableWrite)
		grantBucket(fn, cfg, a)
		if a.secret {
			allow(fn, []string{"secretsmanager:GetSecretValue"}, apiKey.SecretArn())
		}
		if a.send && !cfg.LocalStack {
			grantSend(fn, cfg)
		}
	}
	if socket != nil {
		socket.grantPostAndDelete(fanout)
	}
	// SendMessageBatch is authorised as sqs:SendMessage. The functions are given queue URLs, so
	// they need neither GetQueueUrl nor GetQueueAttributes.
	allow(fanout, []string{"sqs:SendMessage"}, webhookQ.queue.QueueArn())
	// Deliveries that must not be retried go to the DLQ at once. ChangeMessageVisibility on the
	// queue (the retry delays) comes with the event source, among the rights its poller needs.
	allow(webhooks, []string{"sqs:SendMessage"}, webhookQ.dlq.QueueArn())

	// Triggers.
	restURL := newRestAPI(s, cfg, api)
	receipts.AddSubscription(awssnssubscriptions.NewLambdaSubscription(inbound, nil))
	newImportTrigger(s, cfg, bucket, inbound)
	sendingEvents.AddSubscription(awssnssubscriptions.NewLambdaSubscription(sesevents, nil))
	connectStream(fanout, table, fanoutFailures)
	connectWebhookQueue(webhooks, webhookQ)
	awsevents.NewRule(s, jsii.String("SchedulerEveryMinute"), &awsevents.RuleProps{
		Description: jsii.String("Pigeon scheduler: sends due drafts"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(1))),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(scheduler, &awseventstargets.LambdaFunctionProps{RetryAttempts: jsii.Number(0)})},
	})

	// SES receiving and sending: not in LocalStack's free edition.
	if !cfg.LocalStack {
		newReceiving(s, cfg, bucket, receipts)
		newSending(s, cfg, sendingEvents)
	}

	a := newAlarms(s, cfg)
	for _, q := range []struct {
		id   string
		q    awssqs.IQueue
		what string
	}{
		{"InboundDeadLetters", inboundDLQ, "inbound's dead-letter queue (received mail that could not be stored)"},
		{"SeseventsDeadLetters", seseventsDLQ, "sesevents' dead-letter queue (delivery events that could not be applied)"},
		{"FanoutFailures", fanoutFailures, "fanout's failure queue (stream batches given up on)"},
		{"WebhookDeadLetters", webhookQ.dlq, "the webhook dead-letter queue (deliveries given up on)"},
	} {
		a.onDeadLetters(q.id, q.q, q.what)
	}
	for _, name := range Functions {
		a.onErrors(name, fns[name])
	}

	output(s, "RestUrl", restURL, "REST API base URL: the AgentMail SDK's environment.http (it appends /v0)")
	if socket != nil {
		output(s, "WebSocketUrl", socket.url, "WebSocket base URL: the AgentMail SDK's environment.websockets (it appends /v0, the stage)")
	}
	output(s, "ApiKeySecretName", apiKey.SecretName(), "Secrets Manager secret holding the bootstrap organisation API key")
	output(s, "ApiKeySecretArn", apiKey.SecretArn(), "ARN of the API key secret")
	output(s, "BucketName", bucketName(cfg), "Mail bucket; drop .eml files under import/ to ingest them")
	output(s, "TableName", table.TableName(), "DynamoDB table")
	if !cfg.LocalStack {
		output(s, "ReceiptRuleSetName", jsii.String(cfg.RuleSetName()), "SES receipt rule set holding Pigeon's rule "+cfg.RuleName())
		output(s, "ConfigurationSetName", jsii.String(cfg.ConfigurationSetName()), "SES configuration set used for every send")
		output(s, "MxRecord", awscdk.Fn_Sub(jsii.String("10 inbound-smtp.${AWS::Region}.amazonaws.com"), nil), "MX record value for each mail domain")
	}
	return s
}

func output(s awscdk.Stack, id string, value *string, description string) {
	awscdk.NewCfnOutput(s, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(description)})
}
