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

// access is what one function's role may do beyond writing its own logs. Queue, stream and
// WebSocket grants depend on resources and are made in New.
type access struct {
	tableWrite  bool     // tableWrite as well as tableRead (on the table and its indexes)
	read, write []string // bucket prefixes: s3:GetObject (also HEAD, ranges, presigned GETs) and s3:PutObject
	secret      bool     // secretsmanager:GetSecretValue on the bootstrap key (read at cold start)
	send        bool     // SES v2 SendEmail with Pigeon's configuration set
}

// accessOf is least privilege, function by function, as the code uses AWS (see the SDK calls in
// functions/<name>/main.go and the shared packages they call):
//   - api serves downloads of raw mail (raw/ received, import/ imported, sent/ sent; presigned
//     GETs), attachments (att/) and large bodies (body/); it stores sends (sent/, att/, body/)
//     and drafts (body/, att/) and forwards attachments (att/). Nothing deletes objects.
//   - inbound reads what SES and importers wrote, writes the parts it extracts, and reads a
//     stored body back when a delivery is repeated.
//   - scheduler sends due drafts through api's send path: draft bodies and attachments in,
//     the sent message out.
//   - sesevents, fanout, webhooks and ws never touch S3; webhooks only reads webhooks.
//   - Only api and scheduler read the bootstrap key: api hashes it into the table, and both
//     derive the page-token key from it.
var accessOf = map[string]access{
	"api": {tableWrite: true, secret: true, send: true,
		read:  []string{prefixRaw, prefixImport, prefixSent, prefixAtt, prefixBody},
		write: []string{prefixSent, prefixAtt, prefixBody}},
	"inbound": {tableWrite: true,
		read:  []string{prefixRaw, prefixImport, prefixBody},
		write: []string{prefixAtt, prefixBody}},
	"sesevents": {tableWrite: true},
	"fanout":    {tableWrite: true}, // fan-out markers; connections found gone are deleted
	"webhooks":  {},                 // reads the webhook again before each attempt
	"ws":        {tableWrite: true}, // connections and their subscriptions
	"scheduler": {tableWrite: true, secret: true, send: true,
		read:  []string{prefixAtt, prefixBody},
		write: []string{prefixSent, prefixAtt, prefixBody}},
}

// allow adds one statement to fn's role.
func allow(fn awslambda.Function, actions []string, resources ...*string) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(actions...),
		Resources: &resources,
	}))
}

// grantTable lets fn read (and, with write, write) items of the table and query its indexes.
func grantTable(fn awslambda.Function, t awsdynamodb.Table, write bool) {
	actions := append([]string{}, tableRead...)
	if write {
		actions = append(actions, tableWrite...)
	}
	indexes := awscdk.Fn_Join(jsii.String(""), &[]*string{t.TableArn(), jsii.String("/index/*")})
	allow(fn, actions, t.TableArn(), indexes)
}

// grantBucket gives fn the object actions of access, prefix by prefix.
func grantBucket(fn awslambda.Function, cfg Config, access access) {
	// Without s3:ListBucket, S3 answers GET/HEAD of a missing key with 403 instead of 404, and
	// shared/blob could not tell "not there yet" from "not allowed". It exposes key names, not
	// contents; S3 cannot limit it to prefixes for that purpose.
	if len(access.read) > 0 {
		allow(fn, []string{"s3:ListBucket"}, bucketARN(cfg, ""))
	}
	for _, g := range []struct {
		action   string
		prefixes []string
	}{{"s3:GetObject", access.read}, {"s3:PutObject", access.write}} {
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
// against the configuration set and identities: the From identity (a domain, or an address
// identity of it where one exists) and, while the account is in the SES sandbox, the verified
// recipients too. So the identity part is identity/* of this account and Region; SES has no
// narrower way to name those. With raw content (which Pigeon always sends) SES v2 also checks
// ses:SendRawEmail.
func grantSend(fn awslambda.Function, cfg Config) {
	allow(fn, []string{"ses:SendEmail", "ses:SendRawEmail"},
		sesARN("identity/*"), sesARN("configuration-set/"+cfg.ConfigurationSetName()))
}
