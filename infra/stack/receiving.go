package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsses"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/jsii-runtime-go"
)

// ruleARN is the receipt rule's ARN, known before the rule exists because its names are fixed.
// SES presents it as aws:SourceArn when it writes to the bucket and publishes to the topic.
func ruleARN(cfg Config) *string {
	return sesARN("receipt-rule-set/" + cfg.RuleSetName() + ":receipt-rule/" + cfg.RuleName())
}

// sesSourceConditions restrict a grant to SES acting for Pigeon's rule in this account
// (the "confused deputy" conditions of SES's documentation).
func sesSourceConditions(cfg Config) *map[string]interface{} {
	return &map[string]interface{}{
		"StringEquals": map[string]interface{}{
			"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID(),
			"aws:SourceArn":     ruleARN(cfg),
		},
	}
}

// newReceiving wires SES receiving: a rule (TLS required, spam and virus scanning on) whose S3
// action writes raw/<SES message id> and publishes the receipt notification — envelope
// recipients and verdicts, the only place BCC recipients appear — to topic, which invokes inbound.
//
// By default the rule goes into Pigeon's own rule set, activated by a custom resource (CloudFormation
// cannot activate one) and deactivated when the stack is deleted. With existingRuleSet, the rule
// joins that set, which must already be active, and nothing is activated.
func newReceiving(s awscdk.Stack, cfg Config, bucket awss3.Bucket, topic awssns.Topic) {
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowSESPutsToRaw"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("ses.amazonaws.com"), nil)},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  &[]*string{bucketARN(cfg, prefixRaw)},
		Conditions: sesSourceConditions(cfg),
	}))
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowSESReceiptNotifications"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("ses.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{topic.TopicArn()},
		Conditions: sesSourceConditions(cfg),
	}))

	ruleSetName := jsii.String(cfg.RuleSetName())
	var ruleSet awsses.ReceiptRuleSet
	if cfg.ExistingRuleSet == "" {
		ruleSet = awsses.NewReceiptRuleSet(s, jsii.String("ReceiptRuleSet"), &awsses.ReceiptRuleSetProps{
			ReceiptRuleSetName: ruleSetName,
		})
		ruleSetName = ruleSet.ReceiptRuleSetName()
	}

	var recipients *[]*string
	if r := cfg.receiptRecipients(); len(r) > 0 {
		recipients = jsii.Strings(r...)
	}
	// The L1 resource, because awssesactions.S3 adds its own, broader bucket statement
	// (aws:SourceAccount only); the statement above names the rule as well.
	rule := awsses.NewCfnReceiptRule(s, jsii.String("ReceiptRule"), &awsses.CfnReceiptRuleProps{
		RuleSetName: ruleSetName,
		Rule: &awsses.CfnReceiptRule_RuleProperty{
			Name:        jsii.String(cfg.RuleName()),
			Enabled:     jsii.Bool(true),
			ScanEnabled: jsii.Bool(true), // default false: no spam/virus verdicts without it
			TlsPolicy:   jsii.String("Require"),
			Recipients:  recipients,
			Actions: &[]interface{}{&awsses.CfnReceiptRule_ActionProperty{
				S3Action: &awsses.CfnReceiptRule_S3ActionProperty{
					BucketName:      bucketName(cfg),
					ObjectKeyPrefix: jsii.String(prefixRaw),
					TopicArn:        topic.TopicArn(),
				},
			}},
		},
	})
	// SES checks at CreateReceiptRule that it may write to the bucket and publish to the topic.
	rule.Node().AddDependency(bucket.Policy(), topic)

	if cfg.ExistingRuleSet != "" {
		return
	}
	activate := customresources.NewAwsCustomResource(s, jsii.String("ActivateReceiptRuleSet"), &customresources.AwsCustomResourceProps{
		OnCreate: setActiveRuleSet(cfg.RuleSetName()),
		OnUpdate: setActiveRuleSet(cfg.RuleSetName()),
		// No name deactivates whichever set is active, so that the stack's own set can be deleted.
		OnDelete: &customresources.AwsSdkCall{
			Service: jsii.String("SES"),
			Action:  jsii.String("setActiveReceiptRuleSet"),
		},
		Policy: customresources.AwsCustomResourcePolicy_FromStatements(&[]awsiam.PolicyStatement{
			// WILDCARD: ses:SetActiveReceiptRuleSet has no resource-level permissions; "*" is the
			// only resource IAM accepts for it.
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("ses:SetActiveReceiptRuleSet"),
				Resources: jsii.Strings("*"),
			}),
		}),
		InstallLatestAwsSdk: jsii.Bool(false),
		LogGroup: awslogs.NewLogGroup(s, jsii.String("ActivateReceiptRuleSetLogs"), &awslogs.LogGroupProps{
			Retention:     awslogs.RetentionDays_ONE_MONTH,
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		}),
	})
	activate.Node().AddDependency(ruleSet, rule)
}

func setActiveRuleSet(name string) *customresources.AwsSdkCall {
	return &customresources.AwsSdkCall{
		Service:            jsii.String("SES"),
		Action:             jsii.String("setActiveReceiptRuleSet"),
		Parameters:         &map[string]interface{}{"RuleSetName": name},
		PhysicalResourceId: customresources.PhysicalResourceId_Of(jsii.String("active-receipt-rule-set-" + name)),
	}
}

// newImportTrigger invokes inbound for every object created under import/. The notification is
// set on the bucket itself (AWS::S3::Bucket NotificationConfiguration) rather than through CDK's
// bucket-notifications custom resource; see bucketName for why that is possible.
func newImportTrigger(s awscdk.Stack, cfg Config, bucket awss3.Bucket, inbound awslambda.Function) {
	permission := awslambda.NewCfnPermission(s, jsii.String("InboundImportPermission"), &awslambda.CfnPermissionProps{
		Action:        jsii.String("lambda:InvokeFunction"),
		FunctionName:  inbound.FunctionArn(),
		Principal:     jsii.String("s3.amazonaws.com"),
		SourceAccount: awscdk.Aws_ACCOUNT_ID(),
		SourceArn:     bucketARN(cfg, ""),
	})
	cfn := bucket.Node().DefaultChild().(awss3.CfnBucket)
	cfn.SetNotificationConfiguration(&awss3.CfnBucket_NotificationConfigurationProperty{
		LambdaConfigurations: &[]interface{}{&awss3.CfnBucket_LambdaConfigurationProperty{
			Event:    jsii.String("s3:ObjectCreated:*"),
			Function: inbound.FunctionArn(),
			Filter: &awss3.CfnBucket_NotificationFilterProperty{
				S3Key: &awss3.CfnBucket_S3KeyFilterProperty{
					Rules: &[]interface{}{&awss3.CfnBucket_FilterRuleProperty{Name: jsii.String("prefix"), Value: jsii.String(prefixImport)}},
				},
			},
		}},
	})
	// S3 tests the destination when the configuration is set.
	cfn.AddDependency(permission)
}
