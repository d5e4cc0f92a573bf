package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

// Table actions. Transactions are authorised item by item through these (there is no
// TransactWriteItems IAM action); nobody may Scan.
var (
	tableRead  = []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"}
	tableWrite = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
)

// bucketAccess says which bucket prefixes a function reads and writes.
type bucketAccess struct {
	read, write, delete []string
}

// bucketAccessOf is the S3 side of least privilege: inbound reads what SES and importers wrote and
// writes the parts it extracts; api and scheduler compose and store outgoing mail; fanout and
// webhooks only read large bodies to complete event payloads; sesevents and ws never touch S3.
var bucketAccessOf = map[string]bucketAccess{
	"api":       {read: []string{prefixRaw, prefixImport, prefixSent, prefixAtt, prefixBody}, write: []string{prefixSent, prefixAtt, prefixBody}, delete: []string{prefixAtt, prefixBody}},
	"inbound":   {read: []string{prefixRaw, prefixImport}, write: []string{prefixAtt, prefixBody}},
	"scheduler": {read: []string{prefixAtt, prefixBody}, write: []string{prefixSent, prefixBody}},
	"fanout":    {read: []string{prefixBody}},
	"webhooks":  {read: []string{prefixBody}},
}

// allow adds one statement to fn's role.
func allow(fn awslambda.Function, actions []string, resources ...*string) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(actions...),
		Resources: &resources,
	}))
}

// grantTable lets fn read and write items of the table and query its indexes.
func grantTable(fn awslambda.Function, t awsdynamodb.Table) {
	indexes := awscdk.Fn_Join(jsii.String(""), &[]*string{t.TableArn(), jsii.String("/index/*")})
	allow(fn, append(append([]string{}, tableRead...), tableWrite...), t.TableArn(), indexes)
}

// grantBucket gives fn the object actions of bucketAccessOf[name], prefix by prefix.
func grantBucket(fn awslambda.Function, cfg Config, name string) {
	access, ok := bucketAccessOf[name]
	if !ok {
		return
	}
	// Without s3:ListBucket, S3 answers GET/HEAD of a missing key with 403 instead of 404, and
	// shared/blob could not tell "not there yet" from "not allowed". It exposes key names, not
	// contents; S3 cannot limit it to prefixes for that purpose.
	if len(access.read) > 0 {
		allow(fn, []string{"s3:ListBucket"}, bucketARN(cfg, ""))
	}
	for _, g := range []struct {
		action   string
		prefixes []string
	}{{"s3:GetObject", access.read}, {"s3:PutObject", access.write}, {"s3:DeleteObject", access.delete}} {
		if len(g.prefixes) == 0 {
			continue
		}
		var arns []*string
		for _, p := range g.prefixes {
			arns = append(arns, bucketARN(cfg, p))
		}
		allow(fn, []string{g.action}, arns...)
	}
}

// sesARN is an SES ARN of this account and Region, e.g. "identity/*".
func sesARN(resource string) *string {
	return awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:"+resource), nil)
}

// grantSend lets fn send through SES v2 with Pigeon's configuration set. SendEmail is authorised
// against the sending identity and the configuration set. Identities are created at run time
// (customer domains), so the identity part is identity/* of this account and Region — SES has no
// narrower way to name "the identities Pigeon manages". Raw content is also checked against
// ses:SendRawEmail.
func grantSend(fn awslambda.Function, cfg Config) {
	allow(fn, []string{"ses:SendEmail", "ses:SendRawEmail"},
		sesARN("identity/*"), sesARN("configuration-set/"+cfg.ConfigurationSetName()))
}

// grantDomains lets fn manage the SES identities behind /v0/domains (api) or check them (scheduler).
func grantDomains(fn awslambda.Function, cfg Config, manage bool) {
	if !manage {
		allow(fn, []string{"ses:GetEmailIdentity"}, sesARN("identity/*"))
		return
	}
	// New identities are attached to Pigeon's configuration set, so that resource is named too.
	allow(fn, []string{"ses:GetEmailIdentity", "ses:CreateEmailIdentity", "ses:DeleteEmailIdentity",
		"ses:PutEmailIdentityMailFromAttributes", "ses:PutEmailIdentityConfigurationSetAttributes", "ses:TagResource"},
		sesARN("identity/*"), sesARN("configuration-set/"+cfg.ConfigurationSetName()))
}
