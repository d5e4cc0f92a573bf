package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/pigeon-mail/pigeon/shared/webhook"
)

// The stack is synthesized once per variant and shared by every test: starting jsii and
// synthesizing take seconds, the checks milliseconds.
var variants = map[string]map[string]string{
	"default":    {},
	"localstack": {"localstack": "true"},
	"custom": {
		"existingRuleSet":   "shared-rules",
		"domains":           "a.example.org, B.example.org",
		"apiDomain":         "mail-api.example.org",
		"apiCertificateArn": "arn:aws:acm:us-east-1:111122223333:certificate/0000",
		"alarmEmail":        "ops@example.org",
		"rawRetentionDays":  "0",
		"stage":             "live",
		"stackName":         "PigeonTest",
	},
}

var (
	assetDir string
	synthMu  sync.Mutex
	synthed  = map[string]*template{}
)

// template is one synthesized variant: the assertions handle and the decoded JSON.
type template struct {
	cfg       Config
	assert    assertions.Template
	resources map[string]resource
	outputs   map[string]map[string]any
}

type resource struct {
	Type           string         `json:"Type"`
	Properties     map[string]any `json:"Properties"`
	DependsOn      any            `json:"DependsOn"`
	DeletionPolicy string         `json:"DeletionPolicy"`
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pigeon-infra-assets-")
	if err != nil {
		panic(err)
	}
	// Placeholder binaries, different per function so each gets its own asset. The real ones
	// (make build) are not needed to check the template.
	for _, name := range Functions {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			panic(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "bootstrap"), []byte("placeholder "+name), 0o755); err != nil {
			panic(err)
		}
	}
	assetDir = dir
	code := m.Run()
	jsii.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// synth returns the template of a variant, synthesizing it on first use.
func synth(t *testing.T, variant string) *template {
	t.Helper()
	synthMu.Lock()
	defer synthMu.Unlock()
	if tpl, ok := synthed[variant]; ok {
		return tpl
	}
	settings := variants[variant]
	cfg, err := FromLookup(func(key, _ string) (string, bool) {
		if key == "assetDir" {
			return assetDir, true
		}
		v, ok := settings[key]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckAssets(); err != nil {
		t.Fatal(err)
	}
	out, err := os.MkdirTemp("", "pigeon-cdk-out-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(out)
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out)})
	// Template_FromStack also fails on dependency cycles.
	a := assertions.Template_FromStack(New(app, cfg), nil)
	raw, err := json.Marshal(a.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]resource
		Outputs   map[string]map[string]any
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	tpl := &template{cfg: cfg, assert: a, resources: doc.Resources, outputs: doc.Outputs}
	synthed[variant] = tpl
	return tpl
}

// must runs an assertions call, turning its panic (a failed match) into a test error.
func must(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

// ofType lists the logical ids of resources of a type, sorted.
func (tpl *template) ofType(typ string) []string {
	var ids []string
	for id, r := range tpl.resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// one finds the single resource of typ whose logical id starts with prefix.
func (tpl *template) one(t *testing.T, typ, prefix string) (string, resource) {
	t.Helper()
	var found []string
	for _, id := range tpl.ofType(typ) {
		if strings.HasPrefix(id, prefix) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %s named %s*, found %v", typ, prefix, found)
	}
	return found[0], tpl.resources[found[0]]
}

// function returns the logical id and properties of one of Pigeon's functions.
func (tpl *template) function(t *testing.T, name string) (string, map[string]any) {
	t.Helper()
	id, r := tpl.one(t, "AWS::Lambda::Function", exportName(name)+"Function")
	return id, r.Properties
}

// functionRoles maps each function's role logical id to the function's name.
func (tpl *template) functionRoles() map[string]string {
	roles := map[string]string{}
	for _, name := range Functions {
		for _, id := range tpl.ofType("AWS::Lambda::Function") {
			if !strings.HasPrefix(id, exportName(name)+"Function") {
				continue
			}
			if att, ok := path(tpl.resources[id].Properties, "Role", "Fn::GetAtt").([]any); ok {
				roles[att[0].(string)] = name
			}
		}
	}
	return roles
}

// js renders a value as compact JSON, for matching intrinsic functions by content.
func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func getAtt(id, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, attr}}
}

func ref(id string) map[string]any { return map[string]any{"Ref": id} }

func path(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func equalJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	if js(got) != js(want) {
		t.Errorf("%s:\n got %s\nwant %s", what, js(got), js(want))
	}
}

func TestConfigDefaultsAndErrors(t *testing.T) {
	cfg, err := FromLookup(func(string, string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.StackName != "Pigeon" || cfg.Stage != "prod" || cfg.EventRetentionDays != 30 || cfg.RawRetentionDays != 365 ||
		!cfg.CreateIdentities || cfg.LocalStack || cfg.AssetDir != "build" || js(cfg.Domains) != `["example.com"]` {
		t.Errorf("defaults: %+v", cfg)
	}
	if cfg.RuleSetName() != "pigeon-receiving" || cfg.RuleName() != "pigeon-inbound" || cfg.ConfigurationSetName() != "pigeon" {
		t.Errorf("names: %s %s %s", cfg.RuleSetName(), cfg.RuleName(), cfg.ConfigurationSetName())
	}
	if len(cfg.receiptRecipients()) != 0 {
		t.Errorf("own rule set should catch all verified domains, got %v", cfg.receiptRecipients())
	}
	for _, bad := range []map[string]string{
		{"domains": " , "},
		{"domains": "not a domain"},
		{"stage": "v0/x"},
		{"stackName": "1pigeon"},
		{"eventRetentionDays": "0"},
		{"rawRetentionDays": "-1"},
		{"localstack": "maybe"},
		{"apiDomain": "api.example.com"},
		{"alarmEmail": "nobody"},
		{"existingRuleSet": "bad name"},
	} {
		if _, err := FromLookup(func(k, _ string) (string, bool) { v, ok := bad[k]; return v, ok }); err == nil {
			t.Errorf("%v: want an error", bad)
		}
	}
	cfg.AssetDir = t.TempDir()
	if err := cfg.CheckAssets(); err == nil || !strings.Contains(err.Error(), "make build") {
		t.Errorf("CheckAssets on an empty dir: %v", err)
	}
}

func TestEveryFunctionIsGoOnGraviton(t *testing.T) {
	for _, variant := range []string{"default", "localstack"} {
		tpl := synth(t, variant)
		keys := map[string]string{}
		for _, name := range Functions {
			id, p := tpl.function(t, name)
			want := sizing[name]
			if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" || js(p["Architectures"]) != `["arm64"]` {
				t.Errorf("%s %s: runtime %v handler %v arch %v", variant, name, p["Runtime"], p["Handler"], p["Architectures"])
			}
			if p["MemorySize"] != float64(want.memoryMB) || p["Timeout"] != float64(want.timeout) {
				t.Errorf("%s %s: memory %v timeout %v, want %d/%d", variant, name, p["MemorySize"], p["Timeout"], want.memoryMB, want.timeout)
			}
			key := js(path(p, "Code", "S3Key"))
			if other, dup := keys[key]; dup {
				t.Errorf("%s and %s share the code asset %s", name, other, key)
			}
			keys[key] = name
			logGroup := path(p, "LoggingConfig", "LogGroup")
			lgID, _ := path(logGroup, "Ref").(string)
			if lg, ok := tpl.resources[lgID]; !ok || lg.Type != "AWS::Logs::LogGroup" || lg.Properties["RetentionInDays"] != float64(30) {
				t.Errorf("%s %s: log group %s without 30-day retention", variant, id, js(logGroup))
			}
			if len(tpl.roleManagedPolicies(t, p)) != 0 {
				t.Errorf("%s %s: role has managed policies %v", variant, name, tpl.roleManagedPolicies(t, p))
			}
		}
		bootstraps := 0
		for _, id := range tpl.ofType("AWS::Lambda::Function") {
			if tpl.resources[id].Properties["Handler"] == "bootstrap" {
				bootstraps++
			}
		}
		if bootstraps != len(Functions) {
			t.Errorf("%s: %d Go functions, want %d", variant, bootstraps, len(Functions))
		}
	}
}

func (tpl *template) roleManagedPolicies(t *testing.T, fn map[string]any) []any {
	roleID, _ := path(fn, "Role", "Fn::GetAtt").([]any)
	if len(roleID) == 0 {
		t.Fatalf("function role is not a GetAtt: %s", js(fn["Role"]))
	}
	mp, _ := tpl.resources[roleID[0].(string)].Properties["ManagedPolicyArns"].([]any)
	return mp
}

func TestEnvironment(t *testing.T) {
	tpl := synth(t, "default")
	tableID, _ := tpl.one(t, "AWS::DynamoDB::Table", "Table")
	secretID, _ := tpl.one(t, "AWS::SecretsManager::Secret", "ApiKey")
	queueID, _ := tpl.one(t, "AWS::SQS::Queue", "WebhookQueue")
	dlqID, _ := tpl.one(t, "AWS::SQS::Queue", "WebhookDeadLetterQueue")
	wsAPI, _ := tpl.one(t, "AWS::ApiGatewayV2::Api", "WebSocket")
	want := map[string]any{
		envMode:             "deployed",
		envTable:            ref(tableID),
		envDomain:           "example.com",
		envOrgID:            "org_pigeon",
		envSecretARN:        ref(secretID),
		envConfigurationSet: "pigeon",
		envEventRetention:   "30",
		envWebhookQueue:     ref(queueID),
		envWebhookDLQ:       ref(dlqID),
		envWSEndpoint: map[string]any{"Fn::Join": []any{"", []any{
			"https://", ref(wsAPI), ".execute-api.", ref("AWS::Region"), ".", ref("AWS::URLSuffix"), "/v0",
		}}},
	}
	// Exactly what each function reads (functions/<name>/main.go and shared/config), nothing of
	// the local stack's.
	wantKeys := map[string][]string{
		"api":       {envMode, envTable, envBucket, envDomain, envOrgID, envSecretARN, envEventRetention, envConfigurationSet},
		"inbound":   {envMode, envTable, envBucket, envDomain, envEventRetention},
		"sesevents": {envMode, envTable, envEventRetention},
		"fanout":    {envMode, envTable, envWebhookQueue, envWSEndpoint},
		"webhooks":  {envMode, envTable, envWebhookQueue, envWebhookDLQ},
		"ws":        {envMode, envTable},
		"scheduler": {envMode, envTable, envBucket, envSecretARN, envEventRetention, envConfigurationSet},
	}
	for _, name := range Functions {
		_, p := tpl.function(t, name)
		env, _ := path(p, "Environment", "Variables").(map[string]any)
		var keys []string
		for k, v := range env {
			keys = append(keys, k)
			if strings.HasPrefix(k, "PIGEON_LOCAL_") || k == "PIGEON_API_KEY" || k == "PIGEON_TOKEN_SECRET" || k == "PIGEON_S3_PUBLIC_ENDPOINT" {
				t.Errorf("%s: %s is the local stack's and must not be set", name, k)
			}
			if w, ok := want[k]; ok && js(v) != js(w) {
				t.Errorf("%s: %s = %s, want %s", name, k, js(v), js(w))
			}
		}
		if w, ok := wantKeys[name]; !ok {
			t.Errorf("%s: no expected environment in this test", name)
		} else if !sameSet(keys, w) {
			t.Errorf("%s: environment %v, want %v", name, keys, w)
		}
		if b, ok := env[envBucket]; ok && !strings.Contains(js(b), `"pigeon",{"Ref":"AWS::AccountId"},{"Ref":"AWS::Region"}`) {
			t.Errorf("%s: PIGEON_BUCKET = %s", name, js(b))
		}
	}
	// The variables the stack may set are the ones shared/config and the functions read.
	sources := readSources(t, "../../shared/config/config.go", "../../functions")
	for _, keys := range envOf {
		for _, k := range keys {
			if !strings.Contains(sources, `"`+k+`"`) {
				t.Errorf("%s is set by the stack but read by neither shared/config nor a function", k)
			}
		}
	}
}

// readSources concatenates the Go files (not tests) of the given files and directory trees.
func readSources(t *testing.T, roots ...string) string {
	t.Helper()
	var b strings.Builder
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			data, err := os.ReadFile(p)
			b.Write(data)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// Every folder under functions/ is a function `make build` builds; each must be deployed, and
// have its trigger checked below, and the stack deploys nothing else.
func TestEveryFunctionFolderIsDeployed(t *testing.T) {
	entries, err := os.ReadDir("../../functions")
	if err != nil {
		t.Fatal(err)
	}
	var folders []string
	for _, e := range entries {
		if e.IsDir() {
			folders = append(folders, e.Name())
		}
	}
	if !sameSet(folders, Functions) {
		t.Errorf("functions/ holds %v, the stack deploys %v: add the new function to Functions, sizing, envOf, accessOf and its trigger", folders, Functions)
	}
	tpl := synth(t, "default")
	for _, name := range folders {
		if !slices.Contains(Functions, name) {
			continue
		}
		tpl.function(t, name)
		_, hasAccess := accessOf[name]
		for what, ok := range map[string]bool{"sizing": sizing[name].timeout > 0, "envOf": envOf[name] != nil, "accessOf": hasAccess, "triggers": triggers[name] != nil} {
			if !ok {
				t.Errorf("%s has no entry in %s", name, what)
			}
		}
	}
}

// triggers is what invokes each function: a service allowed to (AWS::Lambda::Permission) or an
// event source mapping from a stream or queue. The tests below check each in detail.
var triggers = map[string][]string{
	"api":       {"apigateway.amazonaws.com"},              // REST proxy (TestAPITriggersAPI)
	"inbound":   {"sns.amazonaws.com", "s3.amazonaws.com"}, // receipts, import/ (TestInboundTriggers)
	"sesevents": {"sns.amazonaws.com"},                     // configuration set events (TestSendingEventsTriggerSesevents)
	"fanout":    {"stream"},                                // table stream (TestStreamTriggersFanoutWithEventFilter)
	"webhooks":  {"queue"},                                 // webhook queue (TestQueueTriggersWebhooks)
	"ws":        {"apigateway.amazonaws.com"},              // $connect/$disconnect/$default (TestWebSocketTriggersWs)
	"scheduler": {"events.amazonaws.com"},                  // every minute (TestScheduleTriggersScheduler)
}

func TestEveryFunctionHasItsTrigger(t *testing.T) {
	tpl := synth(t, "default")
	for _, name := range Functions {
		id, _ := tpl.function(t, name)
		var got []string
		for _, pid := range tpl.ofType("AWS::Lambda::Permission") {
			p := tpl.resources[pid].Properties
			if strings.Contains(js(p["FunctionName"]), `"`+id+`"`) && !slices.Contains(got, p["Principal"].(string)) {
				got = append(got, p["Principal"].(string))
			}
		}
		for _, eid := range tpl.ofType("AWS::Lambda::EventSourceMapping") {
			p := tpl.resources[eid].Properties
			if js(p["FunctionName"]) != js(ref(id)) {
				continue
			}
			switch src := js(p["EventSourceArn"]); {
			case strings.Contains(src, "StreamArn"):
				got = append(got, "stream")
			case strings.Contains(src, "Queue"):
				got = append(got, "queue")
			default:
				got = append(got, src)
			}
		}
		if !sameSet(got, triggers[name]) {
			t.Errorf("%s is invoked by %v, want %v", name, got, triggers[name])
		}
	}
}

func TestTable(t *testing.T) {
	tpl := synth(t, "default")
	gsi := func(n string) map[string]any {
		return map[string]any{
			"IndexName":  n,
			"KeySchema":  []any{map[string]any{"AttributeName": n + "pk", "KeyType": "HASH"}, map[string]any{"AttributeName": n + "sk", "KeyType": "RANGE"}},
			"Projection": map[string]any{"ProjectionType": "ALL"},
		}
	}
	must(t, "table", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"KeySchema":                        []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}, map[string]any{"AttributeName": "sk", "KeyType": "RANGE"}},
			"BillingMode":                      "PAY_PER_REQUEST",
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			"TimeToLiveSpecification":          map[string]any{"AttributeName": "ttl", "Enabled": true},
			"StreamSpecification":              map[string]any{"StreamViewType": "NEW_IMAGE"},
			"GlobalSecondaryIndexes":           []any{gsi("gsi1"), gsi("gsi2"), gsi("gsi3")},
		})
	})
	_, table := tpl.one(t, "AWS::DynamoDB::Table", "Table")
	if table.DeletionPolicy != "Retain" {
		t.Errorf("table deletion policy %q, want Retain", table.DeletionPolicy)
	}
	for _, a := range table.Properties["AttributeDefinitions"].([]any) {
		if path(a, "AttributeType") != "S" {
			t.Errorf("attribute %s is not a string", js(a))
		}
	}
}

func TestBucketEncryptionTLSAndLifecycle(t *testing.T) {
	tpl := synth(t, "default")
	must(t, "bucket", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
			"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{
				map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}},
			}},
			"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
			"LifecycleConfiguration": map[string]any{"Rules": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"Prefix": "raw/", "ExpirationInDays": 365, "Status": "Enabled"}),
			})},
		})
	})
	must(t, "bucket TLS-only", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Effect": "Deny", "Action": "s3:*", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			})})},
		})
	})
	// SES may write raw/ only, only for this account and only through Pigeon's rule.
	_, policy := tpl.one(t, "AWS::S3::BucketPolicy", "BucketPolicy")
	var ses []any
	for _, s := range path(policy.Properties, "PolicyDocument", "Statement").([]any) {
		if path(s, "Principal", "Service") == "ses.amazonaws.com" {
			ses = append(ses, s)
		}
	}
	if len(ses) != 1 {
		t.Fatalf("want one SES statement in the bucket policy, got %s", js(ses))
	}
	s := ses[0]
	if path(s, "Action") != "s3:PutObject" || !strings.HasSuffix(js(path(s, "Resource")), `"/raw/*"]]}`) {
		t.Errorf("SES statement: %s", js(s))
	}
	equalJSON(t, "SES aws:SourceAccount", path(s, "Condition", "StringEquals", "aws:SourceAccount"), ref("AWS::AccountId"))
	equalJSON(t, "SES aws:SourceArn", path(s, "Condition", "StringEquals", "aws:SourceArn"), map[string]any{
		"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:receipt-rule-set/pigeon-receiving:receipt-rule/pigeon-inbound",
	})
	if len(tpl.ofType("Custom::S3BucketNotifications")) != 0 {
		t.Error("bucket notifications must be native, not CDK's custom resource (its role may touch every bucket)")
	}
}

func TestQueuesAreEncryptedTLSOnlyAndDrained(t *testing.T) {
	tpl := synth(t, "default")
	queues := tpl.ofType("AWS::SQS::Queue")
	if len(queues) != 5 {
		t.Errorf("queues: %v", queues)
	}
	for _, id := range queues {
		if tpl.resources[id].Properties["SqsManagedSseEnabled"] != true {
			t.Errorf("%s is not encrypted", id)
		}
		tlsOnly := false
		for _, pid := range tpl.ofType("AWS::SQS::QueuePolicy") {
			p := tpl.resources[pid].Properties
			if !strings.Contains(js(p["Queues"]), id) {
				continue
			}
			for _, s := range path(p, "PolicyDocument", "Statement").([]any) {
				tlsOnly = tlsOnly || (path(s, "Effect") == "Deny" && path(s, "Condition", "Bool", "aws:SecureTransport") == "false")
			}
		}
		if !tlsOnly {
			t.Errorf("%s has no TLS-only policy", id)
		}
	}
	// Every dead-letter and failure queue has an alarm.
	for _, prefix := range []string{"InboundDeadLetterQueue", "SeseventsDeadLetterQueue", "FanoutFailureQueue", "WebhookDeadLetterQueue"} {
		id, _ := tpl.one(t, "AWS::SQS::Queue", prefix)
		found := false
		for _, aid := range tpl.ofType("AWS::CloudWatch::Alarm") {
			a := tpl.resources[aid].Properties
			found = found || (a["MetricName"] == "ApproximateNumberOfMessagesVisible" && strings.Contains(js(a["Dimensions"]), id))
		}
		if !found {
			t.Errorf("no depth alarm on %s", id)
		}
	}
	// Functions invoked asynchronously keep what they could not process.
	for name, prefix := range map[string]string{"inbound": "InboundDeadLetterQueue", "sesevents": "SeseventsDeadLetterQueue"} {
		id, _ := tpl.one(t, "AWS::SQS::Queue", prefix)
		_, p := tpl.function(t, name)
		equalJSON(t, name+" DLQ", path(p, "DeadLetterConfig", "TargetArn"), getAtt(id, "Arn"))
	}
}

func TestAPITriggersAPI(t *testing.T) {
	tpl := synth(t, "default")
	apiID, _ := tpl.function(t, "api")
	restID, _ := tpl.one(t, "AWS::ApiGateway::RestApi", "Rest")
	must(t, "rest api", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::ApiGateway::RestApi"), map[string]any{
			"BinaryMediaTypes":      []any{"*/*"},
			"EndpointConfiguration": map[string]any{"Types": []any{"REGIONAL"}},
		})
	})
	_, proxy := tpl.one(t, "AWS::ApiGateway::Resource", "Rest")
	if proxy.Properties["PathPart"] != "{proxy+}" || js(proxy.Properties["ParentId"]) != js(getAtt(restID, "RootResourceId")) {
		t.Errorf("proxy resource: %s", js(proxy.Properties))
	}
	methods := tpl.ofType("AWS::ApiGateway::Method")
	if len(methods) != 2 {
		t.Errorf("want ANY on / and on {proxy+}, got %v", methods)
	}
	for _, id := range methods {
		p := tpl.resources[id].Properties
		if p["HttpMethod"] != "ANY" || path(p, "Integration", "Type") != "AWS_PROXY" || !strings.Contains(js(path(p, "Integration", "Uri")), js(getAtt(apiID, "Arn"))) {
			t.Errorf("method %s: %s", id, js(p))
		}
	}
	must(t, "stage throttling and access logs", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::ApiGateway::Stage"), map[string]any{
			"StageName":        "prod",
			"AccessLogSetting": map[string]any{"DestinationArn": assertions.Match_AnyValue(), "Format": assertions.Match_AnyValue()},
			"MethodSettings": []any{map[string]any{
				"HttpMethod": "*", "ResourcePath": "/*", "ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200,
			}},
		})
	})
	// RestUrl is the stage URL without a trailing slash: the SDK appends /v0/... to it.
	stageID, _ := tpl.one(t, "AWS::ApiGateway::Stage", "Rest")
	equalJSON(t, "RestUrl", tpl.outputs["RestUrl"]["Value"], map[string]any{"Fn::Join": []any{"", []any{
		"https://", ref(restID), ".execute-api.", ref("AWS::Region"), ".", ref("AWS::URLSuffix"), "/", ref(stageID),
	}}})
	for id := range tpl.outputs {
		if strings.HasPrefix(id, "RestEndpoint") {
			t.Errorf("CDK's trailing-slash endpoint output %s is still there", id)
		}
	}
}

func TestInboundTriggers(t *testing.T) {
	tpl := synth(t, "default")
	inboundID, _ := tpl.function(t, "inbound")
	topicID, _ := tpl.one(t, "AWS::SNS::Topic", "ReceiptTopic")
	must(t, "receipt topic → inbound", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{
			"Protocol": "lambda", "TopicArn": ref(topicID), "Endpoint": getAtt(inboundID, "Arn"),
		})
	})
	must(t, "receipt rule", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::SES::ReceiptRule"), map[string]any{
			"Rule": map[string]any{
				"Name": "pigeon-inbound", "Enabled": true, "ScanEnabled": true, "TlsPolicy": "Require",
				"Recipients": assertions.Match_Absent(),
				"Actions": []any{map[string]any{"S3Action": map[string]any{
					"ObjectKeyPrefix": "raw/", "TopicArn": ref(topicID), "KmsKeyArn": assertions.Match_Absent(),
				}}},
			},
		})
	})
	must(t, "SES may publish receipts", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), map[string]any{
			"Topics": []any{ref(topicID)},
			"PolicyDocument": map[string]any{"Statement": []any{map[string]any{
				"Action": "sns:Publish", "Principal": map[string]any{"Service": "ses.amazonaws.com"},
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": ref("AWS::AccountId"), "aws:SourceArn": assertions.Match_AnyValue()}},
			}}},
		})
	})
	_, bucket := tpl.one(t, "AWS::S3::Bucket", "Bucket")
	equalJSON(t, "import/ notification", path(bucket.Properties, "NotificationConfiguration", "LambdaConfigurations"), []any{map[string]any{
		"Event":    "s3:ObjectCreated:*",
		"Filter":   map[string]any{"S3Key": map[string]any{"Rules": []any{map[string]any{"Name": "prefix", "Value": "import/"}}}},
		"Function": getAtt(inboundID, "Arn"),
	}})
	must(t, "S3 may invoke inbound", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
			"FunctionName": getAtt(inboundID, "Arn"), "Principal": "s3.amazonaws.com", "SourceAccount": ref("AWS::AccountId"),
		})
	})
	// Pigeon's own rule set, activated by a custom resource and deactivated on delete.
	must(t, "rule set", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::SES::ReceiptRuleSet"), map[string]any{"RuleSetName": "pigeon-receiving"})
	})
	_, activate := tpl.one(t, "Custom::AWS", "ActivateReceiptRuleSet")
	var create, del map[string]any
	_ = json.Unmarshal([]byte(activate.Properties["Create"].(string)), &create)
	_ = json.Unmarshal([]byte(activate.Properties["Delete"].(string)), &del)
	if create["action"] != "setActiveReceiptRuleSet" || path(create, "parameters", "RuleSetName") != "pigeon-receiving" {
		t.Errorf("activation on create: %s", js(create))
	}
	if del["action"] != "setActiveReceiptRuleSet" || del["parameters"] != nil {
		t.Errorf("deactivation on delete: %s", js(del))
	}
	if !strings.Contains(js(activate.DependsOn), `"ReceiptRule"`) {
		t.Errorf("activation must wait for the rule: depends on %s", js(activate.DependsOn))
	}
	_, rule := tpl.one(t, "AWS::SES::ReceiptRule", "ReceiptRule")
	for _, dep := range []string{"BucketPolicy", "ReceiptTopicPolicy"} {
		if !strings.Contains(js(rule.DependsOn), dep) {
			t.Errorf("receipt rule must depend on %s (SES checks access when the rule is created): %s", dep, js(rule.DependsOn))
		}
	}
}

func TestSendingEventsTriggerSesevents(t *testing.T) {
	tpl := synth(t, "default")
	id, _ := tpl.function(t, "sesevents")
	topicID, _ := tpl.one(t, "AWS::SNS::Topic", "SendingEventsTopic")
	must(t, "events topic → sesevents", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{
			"Protocol": "lambda", "TopicArn": ref(topicID), "Endpoint": getAtt(id, "Arn"),
		})
	})
	must(t, "configuration set", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::SES::ConfigurationSet"), map[string]any{"Name": "pigeon"})
	})
	must(t, "event destination", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::SES::ConfigurationSetEventDestination"), map[string]any{
			"EventDestination": map[string]any{
				"Enabled":            true,
				"MatchingEventTypes": []any{"send", "reject", "bounce", "complaint", "delivery", "deliveryDelay", "renderingFailure"},
				"SnsDestination":     map[string]any{"TopicARN": ref(topicID)},
			},
		})
	})
	must(t, "domain identity", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::SES::EmailIdentity"), map[string]any{"EmailIdentity": "example.com"})
	})
	for _, o := range []string{"Domain0Dkim1", "Domain0Dkim2", "Domain0Dkim3", "MxRecord"} {
		if _, ok := tpl.outputs[o]; !ok {
			t.Errorf("output %s missing", o)
		}
	}
}

func TestStreamTriggersFanoutWithEventFilter(t *testing.T) {
	tpl := synth(t, "default")
	fanoutID, _ := tpl.function(t, "fanout")
	tableID, _ := tpl.one(t, "AWS::DynamoDB::Table", "Table")
	failuresID, _ := tpl.one(t, "AWS::SQS::Queue", "FanoutFailureQueue")
	_, esm := tpl.one(t, "AWS::Lambda::EventSourceMapping", "FanoutFunction")
	p := esm.Properties
	equalJSON(t, "function", p["FunctionName"], ref(fanoutID))
	equalJSON(t, "source", p["EventSourceArn"], getAtt(tableID, "StreamArn"))
	equalJSON(t, "on failure", path(p, "DestinationConfig", "OnFailure", "Destination"), getAtt(failuresID, "Arn"))
	equalJSON(t, "response types", p["FunctionResponseTypes"], []any{"ReportBatchItemFailures"})
	if p["BisectBatchOnFunctionError"] != true || p["StartingPosition"] != "LATEST" {
		t.Errorf("bisect/start: %s", js(p))
	}
	if r, _ := p["MaximumRetryAttempts"].(float64); r < 1 || r > 10 {
		t.Errorf("retries must be bounded, got %v", p["MaximumRetryAttempts"])
	}
	if age, _ := p["MaximumRecordAgeInSeconds"].(float64); age < 60 || age > 86400 {
		t.Errorf("record age must be bounded, got %v", p["MaximumRecordAgeInSeconds"])
	}
	filters, _ := path(p, "FilterCriteria", "Filters").([]any)
	if len(filters) != 1 {
		t.Fatalf("filters: %s", js(filters))
	}
	var pattern any
	if err := json.Unmarshal([]byte(path(filters[0], "Pattern").(string)), &pattern); err != nil {
		t.Fatal(err)
	}
	equalJSON(t, "filter pattern", pattern, map[string]any{
		"eventName": []any{"INSERT"},
		"dynamodb":  map[string]any{"NewImage": map[string]any{"pk": map[string]any{"S": []any{map[string]any{"prefix": "EVT#"}}}}},
	})
}

func TestQueueTriggersWebhooks(t *testing.T) {
	tpl := synth(t, "default")
	webhooksID, webhooks := tpl.function(t, "webhooks")
	queueID, queue := tpl.one(t, "AWS::SQS::Queue", "WebhookQueue")
	dlqID, _ := tpl.one(t, "AWS::SQS::Queue", "WebhookDeadLetterQueue")
	_, esm := tpl.one(t, "AWS::Lambda::EventSourceMapping", "WebhooksFunction")
	equalJSON(t, "function", esm.Properties["FunctionName"], ref(webhooksID))
	equalJSON(t, "source", esm.Properties["EventSourceArn"], getAtt(queueID, "Arn"))
	equalJSON(t, "response types", esm.Properties["FunctionResponseTypes"], []any{"ReportBatchItemFailures"})
	if vt, _ := queue.Properties["VisibilityTimeout"].(float64); vt < 6*webhooks["Timeout"].(float64) {
		t.Errorf("visibility timeout %v < 6 × function timeout %v", vt, webhooks["Timeout"])
	}
	equalJSON(t, "dead-letter target", path(queue.Properties, "RedrivePolicy", "deadLetterTargetArn"), getAtt(dlqID, "Arn"))
	// Retries are the same message coming back (webhook.Backoff): the redrive policy allows
	// exactly MaxAttempts receives, and the queue keeps a message through the whole schedule.
	if n, _ := path(queue.Properties, "RedrivePolicy", "maxReceiveCount").(float64); n != webhook.MaxAttempts {
		t.Errorf("maxReceiveCount %v, want webhook.MaxAttempts = %d", n, webhook.MaxAttempts)
	}
	var schedule time.Duration
	for a := 1; ; a++ {
		wait, ok := webhook.Backoff(a)
		if !ok {
			break
		}
		schedule += wait
	}
	if keep, _ := queue.Properties["MessageRetentionPeriod"].(float64); time.Duration(keep)*time.Second < schedule+time.Hour {
		t.Errorf("webhook queue keeps messages %v s, the retry schedule takes %v", keep, schedule)
	}
	if p, _ := esm.Properties["ScalingConfig"].(map[string]any); p == nil || p["MaximumConcurrency"] == nil {
		t.Errorf("webhooks concurrency is not capped: %s", js(esm.Properties))
	}
}

func TestWebSocketTriggersWs(t *testing.T) {
	tpl := synth(t, "default")
	wsID, _ := tpl.function(t, "ws")
	apiID, _ := tpl.one(t, "AWS::ApiGatewayV2::Api", "WebSocket")
	for _, id := range tpl.ofType("AWS::ApiGatewayV2::Integration") {
		p := tpl.resources[id].Properties
		if p["IntegrationType"] != "AWS_PROXY" || !strings.Contains(js(p["IntegrationUri"]), js(getAtt(wsID, "Arn"))) {
			t.Errorf("integration %s: %s", id, js(p))
		}
	}
	keys := map[string]string{}
	for _, id := range tpl.ofType("AWS::ApiGatewayV2::Route") {
		keys[tpl.resources[id].Properties["RouteKey"].(string)] = id
	}
	for _, k := range []string{"$connect", "$disconnect", "$default"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("route %s missing (have %v)", k, keys)
		}
	}
	// $default answers subscribe messages through the integration response: a two-way route
	// (RouteResponseSelectionExpression) with its $default route response.
	if e := tpl.resources[keys["$default"]].Properties["RouteResponseSelectionExpression"]; e != "$default" {
		t.Errorf("$default route is not two-way: RouteResponseSelectionExpression = %v", e)
	}
	must(t, "$default route response", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::RouteResponse"), map[string]any{
			"RouteId": ref(keys["$default"]), "RouteResponseKey": "$default",
		})
	})
	must(t, "v0 stage", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), map[string]any{
			"ApiId": ref(apiID), "StageName": "v0", "AutoDeploy": true,
		})
	})
	// The SDK appends /v0 to WebSocketUrl: the URL is the API endpoint (wss://…, no stage).
	equalJSON(t, "WebSocketUrl", tpl.outputs["WebSocketUrl"]["Value"], getAtt(apiID, "ApiEndpoint"))
}

func TestScheduleTriggersScheduler(t *testing.T) {
	tpl := synth(t, "default")
	id, _ := tpl.function(t, "scheduler")
	must(t, "every minute", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
			"ScheduleExpression": "rate(1 minute)",
			"State":              "ENABLED",
			"Targets":            []any{map[string]any{"Arn": getAtt(id, "Arn"), "RetryPolicy": map[string]any{"MaximumRetryAttempts": 0}}},
		})
	})
}

func TestAlarms(t *testing.T) {
	tpl := synth(t, "custom")
	topicID, _ := tpl.one(t, "AWS::SNS::Topic", "AlarmTopic")
	must(t, "alarm e-mail", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{
			"Protocol": "email", "Endpoint": "ops@example.org", "TopicArn": ref(topicID),
		})
	})
	alarms := tpl.ofType("AWS::CloudWatch::Alarm")
	if len(alarms) != len(Functions)+4 {
		t.Errorf("%d alarms, want one per function and per dead-letter queue", len(alarms))
	}
	for _, id := range alarms {
		equalJSON(t, id+" actions", tpl.resources[id].Properties["AlarmActions"], []any{ref(topicID)})
	}
	for _, name := range Functions {
		fnID, _ := tpl.function(t, name)
		found := false
		for _, id := range alarms {
			a := tpl.resources[id].Properties
			found = found || (a["MetricName"] == "Errors" && strings.Contains(js(a["Dimensions"]), fnID))
		}
		if !found {
			t.Errorf("no error alarm on %s", name)
		}
	}
	if n := len(synth(t, "default").ofType("AWS::SNS::Subscription")); n != 2 {
		t.Errorf("without alarmEmail there should be no e-mail subscription (%d subscriptions)", n)
	}
}

func TestSecretAndOutputs(t *testing.T) {
	tpl := synth(t, "default")
	secretID, secret := tpl.one(t, "AWS::SecretsManager::Secret", "ApiKey")
	gen, _ := secret.Properties["GenerateSecretString"].(map[string]any)
	if gen == nil || gen["SecretStringTemplate"] != nil || gen["PasswordLength"].(float64) < 32 {
		t.Errorf("secret must be a generated plain string of ≥32 characters: %s", js(gen))
	}
	if _, ok := secret.Properties["SecretString"]; ok {
		t.Error("the key must be generated by CloudFormation, not set in the template")
	}
	for _, o := range []string{"RestUrl", "WebSocketUrl", "ApiKeySecretName", "ApiKeySecretArn", "BucketName", "TableName", "ReceiptRuleSetName"} {
		if _, ok := tpl.outputs[o]; !ok {
			t.Errorf("output %s missing", o)
		}
	}
	equalJSON(t, "ApiKeySecretArn", tpl.outputs["ApiKeySecretArn"]["Value"], ref(secretID))
	for id, o := range tpl.outputs {
		if strings.Contains(js(o), "SecretString") || strings.Contains(js(o), "secretsmanager:") {
			t.Errorf("output %s may reveal the key: %s", id, js(o))
		}
	}
}

func TestExistingRuleSetAndCustomDomain(t *testing.T) {
	tpl := synth(t, "custom")
	for _, typ := range []string{"AWS::SES::ReceiptRuleSet", "Custom::AWS"} {
		if ids := tpl.ofType(typ); len(ids) != 0 {
			t.Errorf("with existingRuleSet there must be no %s: %v", typ, ids)
		}
	}
	must(t, "rule in the existing set", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::SES::ReceiptRule"), map[string]any{
			"RuleSetName": "shared-rules",
			"Rule": map[string]any{
				"Name": "pigeontest-inbound", "ScanEnabled": true, "TlsPolicy": "Require",
				"Recipients": []any{"a.example.org", "b.example.org"},
			},
		})
	})
	if !strings.Contains(js(tpl.resources[tpl.ofType("AWS::S3::BucketPolicy")[0]].Properties), "receipt-rule-set/shared-rules:receipt-rule/pigeontest-inbound") {
		t.Error("bucket policy must name the rule in the existing rule set")
	}
	equalJSON(t, "RestUrl", tpl.outputs["RestUrl"]["Value"], "https://mail-api.example.org")
	if _, ok := tpl.outputs["ApiDomainTarget"]; !ok {
		t.Error("ApiDomainTarget output missing")
	}
	must(t, "custom domain", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::ApiGateway::DomainName"), map[string]any{
			"DomainName": "mail-api.example.org", "RegionalCertificateArn": variants["custom"]["apiCertificateArn"],
			"EndpointConfiguration": map[string]any{"Types": []any{"REGIONAL"}}, "SecurityPolicy": "TLS_1_2",
		})
	})
	if len(tpl.ofType("AWS::ApiGateway::BasePathMapping")) != 1 {
		t.Error("custom domain needs a base path mapping to the stage")
	}
	must(t, "stage name", func() {
		tpl.assert.HasResourceProperties(jsii.String("AWS::ApiGateway::Stage"), map[string]any{"StageName": "live"})
	})
	_, bucket := tpl.one(t, "AWS::S3::Bucket", "Bucket")
	if strings.Contains(js(bucket.Properties["LifecycleConfiguration"]), "raw-retention") {
		t.Error("rawRetentionDays=0 must keep raw mail")
	}
	if n := len(tpl.ofType("AWS::SES::EmailIdentity")); n != 2 {
		t.Errorf("%d domain identities, want 2", n)
	}
}

// localStackFree is what LocalStack's free edition deploys.
var localStackFree = map[string]bool{
	"AWS::S3::Bucket": true, "AWS::S3::BucketPolicy": true, "AWS::DynamoDB::Table": true,
	"AWS::Lambda::Function": true, "AWS::Lambda::Permission": true, "AWS::Lambda::EventSourceMapping": true, "AWS::Lambda::EventInvokeConfig": true,
	"AWS::IAM::Role": true, "AWS::IAM::Policy": true, "AWS::Logs::LogGroup": true,
	"AWS::SQS::Queue": true, "AWS::SQS::QueuePolicy": true, "AWS::SNS::Topic": true, "AWS::SNS::Subscription": true, "AWS::SNS::TopicPolicy": true,
	"AWS::SecretsManager::Secret": true, "AWS::Events::Rule": true, "AWS::CloudWatch::Alarm": true,
	"AWS::ApiGateway::RestApi": true, "AWS::ApiGateway::Resource": true, "AWS::ApiGateway::Method": true,
	"AWS::ApiGateway::Deployment": true, "AWS::ApiGateway::Stage": true, "AWS::ApiGateway::Account": true,
}

func TestLocalStackLeavesOutWhatTheFreeEditionLacks(t *testing.T) {
	tpl := synth(t, "localstack")
	for id, r := range tpl.resources {
		if !localStackFree[r.Type] {
			t.Errorf("%s is a %s, which LocalStack's free edition cannot deploy", id, r.Type)
		}
	}
	for _, o := range []string{"WebSocketUrl", "ReceiptRuleSetName", "ConfigurationSetName", "MxRecord"} {
		if _, ok := tpl.outputs[o]; ok {
			t.Errorf("output %s should be left out on LocalStack", o)
		}
	}
	for _, o := range []string{"RestUrl", "ApiKeySecretArn", "BucketName", "TableName"} {
		if _, ok := tpl.outputs[o]; !ok {
			t.Errorf("output %s missing on LocalStack", o)
		}
	}
	if u := js(tpl.outputs["RestUrl"]["Value"]); !strings.Contains(u, `".execute-api.localhost.localstack.cloud:4566/"`) {
		t.Errorf("RestUrl on LocalStack must be LocalStack's execute-api host: %s", u)
	}
	// The flows LocalStack runs are all still wired.
	for _, typ := range []string{"AWS::ApiGateway::RestApi", "AWS::Events::Rule"} {
		if len(tpl.ofType(typ)) != 1 {
			t.Errorf("want one %s", typ)
		}
	}
	if len(tpl.ofType("AWS::Lambda::EventSourceMapping")) != 2 || len(tpl.ofType("AWS::SNS::Subscription")) != 2 {
		t.Error("stream, queue and SNS triggers must stay on LocalStack")
	}
	_, bucket := tpl.one(t, "AWS::S3::Bucket", "Bucket")
	if path(bucket.Properties, "NotificationConfiguration", "LambdaConfigurations") == nil {
		t.Error("S3 import/ → inbound must stay on LocalStack")
	}
	if bucket.DeletionPolicy != "Delete" {
		t.Errorf("LocalStack stacks are destroyed and redeployed; bucket deletion policy %q", bucket.DeletionPolicy)
	}
	for _, name := range Functions {
		_, p := tpl.function(t, name)
		env, _ := path(p, "Environment", "Variables").(map[string]any)
		usesS3 := len(accessOf[name].read)+len(accessOf[name].write) > 0
		if (env[envS3PathStyle] == "true") != usesS3 || (env[envBucket] != nil) != usesS3 {
			t.Errorf("%s: PIGEON_S3_PATH_STYLE = %v, PIGEON_BUCKET = %v; want both exactly on the functions that use S3", name, env[envS3PathStyle], js(env[envBucket]))
		}
		for _, k := range []string{"PIGEON_SES_CONFIGURATION_SET", "PIGEON_WS_ENDPOINT"} {
			if _, ok := env[k]; ok {
				t.Errorf("%s: %s set on LocalStack, where its service does not exist", name, k)
			}
		}
	}
	for _, st := range tpl.statements() {
		if strings.HasPrefix(st.action, "ses:") || strings.HasPrefix(st.action, "execute-api:") {
			t.Errorf("%s may %s on LocalStack, where that service is absent", st.owner, st.action)
		}
	}
}

// statement is one action of one Allow statement of an identity policy, with who holds it.
type statement struct {
	owner    string // the Pigeon function whose role holds it, or the role's logical id
	policy   string
	action   string
	resource []string // compact JSON of each resource
}

func (tpl *template) statements() []statement {
	roleOwner := tpl.functionRoles()
	var out []statement
	add := func(policy string, roles []any, doc any) {
		owners := []string{}
		for _, r := range roles {
			id, _ := path(r, "Ref").(string)
			if o, ok := roleOwner[id]; ok {
				id = o
			}
			owners = append(owners, id)
		}
		for _, s := range asList(path(doc, "Statement")) {
			if path(s, "Effect") != "Allow" {
				continue
			}
			var res []string
			for _, r := range asList(path(s, "Resource")) {
				res = append(res, js(r))
			}
			for _, a := range asList(path(s, "Action")) {
				for _, o := range owners {
					out = append(out, statement{owner: o, policy: policy, action: fmt.Sprint(a), resource: res})
				}
			}
		}
	}
	for id, r := range tpl.resources {
		switch r.Type {
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
			roles, _ := r.Properties["Roles"].([]any)
			add(id, roles, r.Properties["PolicyDocument"])
		case "AWS::IAM::Role":
			for _, p := range asList(r.Properties["Policies"]) {
				add(id, []any{ref(id)}, path(p, "PolicyDocument"))
			}
		}
	}
	return out
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// wildcardAllowed are the only "*" resources: actions IAM cannot scope to a resource.
var wildcardAllowed = map[string]string{
	"fanout/dynamodb:ListStreams": "added by the DynamoDB event source; ListStreams has no resource-level permissions",
	"AWS679f53fac002430cb0da5b7982bd2287ServiceRole/ses:SetActiveReceiptRuleSet": "rule set activation; the action has no resource-level permissions",
}

// managedPoliciesAllowed are the AWS managed policies a role may carry.
var managedPoliciesAllowed = map[string]string{
	"RestCloudWatchRole/AmazonAPIGatewayPushToCloudWatchLogs":                    "API Gateway's account-level logging role (access logs)",
	"AWS679f53fac002430cb0da5b7982bd2287ServiceRole/AWSLambdaBasicExecutionRole": "CDK's AwsCustomResource function (rule set activation)",
}

func TestIAMHasNoWildcardsOutsideTheAllowList(t *testing.T) {
	for variant := range variants {
		tpl := synth(t, variant)
		for _, st := range tpl.statements() {
			if strings.Contains(st.action, "*") {
				t.Errorf("%s: %s (%s) allows wildcard action %s", variant, st.owner, st.policy, st.action)
			}
			for _, r := range st.resource {
				if r != `"*"` {
					continue
				}
				key := st.owner + "/" + st.action
				allowed := false
				for k := range wildcardAllowed {
					owner, action, _ := strings.Cut(k, "/")
					allowed = allowed || (strings.HasPrefix(st.owner, owner) && st.action == action)
				}
				if !allowed {
					t.Errorf("%s: %s allows %s on *", variant, st.policy, key)
				}
			}
		}
		for _, id := range tpl.ofType("AWS::IAM::Role") {
			for _, arn := range asList(tpl.resources[id].Properties["ManagedPolicyArns"]) {
				s := js(arn)
				allowed := false
				for k := range managedPoliciesAllowed {
					role, policy, _ := strings.Cut(k, "/")
					allowed = allowed || (strings.HasPrefix(id, role) && strings.Contains(s, "/"+policy+`"`))
				}
				if !allowed {
					t.Errorf("%s: role %s carries managed policy %s", variant, id, s)
				}
			}
		}
		// Resource policies never allow everyone.
		for id, r := range tpl.resources {
			if !strings.HasSuffix(r.Type, "Policy") || strings.HasPrefix(r.Type, "AWS::IAM::") {
				continue
			}
			for _, s := range asList(path(r.Properties, "PolicyDocument", "Statement")) {
				if path(s, "Effect") == "Allow" && (js(path(s, "Principal")) == `"*"` || js(path(s, "Principal", "AWS")) == `"*"`) {
					t.Errorf("%s: %s allows any principal: %s", variant, id, js(s))
				}
			}
		}
	}
}

func TestIAMLeastPrivilege(t *testing.T) {
	tpl := synth(t, "default")
	actions := map[string]map[string][]string{} // owner → action → resources
	for _, st := range tpl.statements() {
		if actions[st.owner] == nil {
			actions[st.owner] = map[string][]string{}
		}
		actions[st.owner][st.action] = append(actions[st.owner][st.action], st.resource...)
	}
	// Exactly what each role may do: the SDK calls of the function's code, plus what its
	// triggers need (the stream and queue pollers, the DLQs and the failure destination).
	read := []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"}
	readWrite := append(slices.Clone(read), "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
	logs := []string{"logs:CreateLogStream", "logs:PutLogEvents"}
	s3 := []string{"s3:ListBucket", "s3:GetObject", "s3:PutObject"}
	send := []string{"ses:SendEmail", "ses:SendRawEmail", "secretsmanager:GetSecretValue"}
	want := map[string][]string{
		"api":       slices.Concat(logs, readWrite, s3, send),
		"inbound":   slices.Concat(logs, readWrite, s3, []string{"sqs:SendMessage"}),
		"sesevents": slices.Concat(logs, readWrite, []string{"sqs:SendMessage"}),
		"fanout": slices.Concat(logs, readWrite,
			[]string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"},
			[]string{"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}, // CDK's grant for the failure destination
			[]string{"execute-api:ManageConnections"}),
		"webhooks": slices.Concat(logs, read,
			[]string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"}),
		"ws":        slices.Concat(logs, readWrite),
		"scheduler": slices.Concat(logs, readWrite, s3, send),
	}
	for _, name := range Functions {
		var got []string
		for a := range actions[name] {
			got = append(got, a)
		}
		if !sameSet(got, want[name]) {
			t.Errorf("%s may:\n  %v\nwant:\n  %v", name, sorted(got), sorted(want[name]))
		}
	}
	resources := func(owner, action string) []string { return sorted(actions[owner][action]) }
	arn := func(id string) string { return js(getAtt(id, "Arn")) }
	id := func(typ, prefix string) string { i, _ := tpl.one(t, typ, prefix); return i }
	tableID := id("AWS::DynamoDB::Table", "Table")
	// The table and its indexes, and nothing else.
	for _, name := range Functions {
		for _, a := range read {
			if r := resources(name, a); !sameSet(r, []string{arn(tableID), js(map[string]any{"Fn::Join": []any{"", []any{getAtt(tableID, "Arn"), "/index/*"}}})}) {
				t.Errorf("%s %s on %v", name, a, r)
			}
		}
	}
	// Queues: each function sends only where its code or its trigger sends.
	queue := func(prefix string) string { return arn(id("AWS::SQS::Queue", prefix)) }
	for owner, want := range map[string][]string{
		"inbound":   {queue("InboundDeadLetterQueue")},
		"sesevents": {queue("SeseventsDeadLetterQueue")},
		"fanout":    {queue("WebhookQueue"), queue("FanoutFailureQueue")},
		"webhooks":  {queue("WebhookDeadLetterQueue")},
	} {
		if r := resources(owner, "sqs:SendMessage"); !sameSet(r, want) {
			t.Errorf("%s sqs:SendMessage on %v, want %v", owner, r, want)
		}
	}
	if r := resources("webhooks", "sqs:ChangeMessageVisibility"); !sameSet(r, []string{queue("WebhookQueue")}) {
		t.Errorf("webhooks sqs:ChangeMessageVisibility on %v", r)
	}
	// @connections of the v0 stage: POST (PostToConnection) and DELETE (DeleteConnection) only.
	wsAPI := id("AWS::ApiGatewayV2::Api", "WebSocket")
	connections := func(method string) string {
		return js(map[string]any{"Fn::Join": []any{"", []any{"arn:", ref("AWS::Partition"), ":execute-api:", ref("AWS::Region"), ":",
			ref("AWS::AccountId"), ":", ref(wsAPI), "/v0/" + method + "/@connections/*"}}})
	}
	if r := resources("fanout", "execute-api:ManageConnections"); !sameSet(r, []string{connections("POST"), connections("DELETE")}) {
		t.Errorf("fanout execute-api:ManageConnections on %v", r)
	}
	// S3: each function reaches only its prefixes, never the whole bucket.
	for _, name := range Functions {
		for _, action := range []string{"s3:GetObject", "s3:PutObject"} {
			var prefixes []string
			for _, r := range actions[name][action] {
				i := strings.LastIndex(r, `"/`)
				prefixes = append(prefixes, strings.TrimSuffix(strings.TrimSuffix(r[i+2:], `"]]}`), "*"))
			}
			a := accessOf[name]
			want := map[string][]string{"s3:GetObject": a.read, "s3:PutObject": a.write}[action]
			if !sameSet(prefixes, want) {
				t.Errorf("%s %s on %v, want %v", name, action, prefixes, want)
			}
		}
		if r := actions[name]["s3:ListBucket"]; r != nil && (len(r) != 1 || strings.Contains(r[0], "/")) {
			t.Errorf("%s: s3:ListBucket must be on the bucket only, got %v", name, r)
		}
	}
	// The prefixes each function's code reads and writes (see accessOf).
	for name, want := range map[string][2][]string{
		"api":       {{"raw/", "import/", "sent/", "att/", "body/"}, {"sent/", "att/", "body/"}},
		"inbound":   {{"raw/", "import/", "body/"}, {"att/", "body/"}},
		"scheduler": {{"att/", "body/"}, {"sent/", "att/", "body/"}},
	} {
		if a := accessOf[name]; !sameSet(a.read, want[0]) || !sameSet(a.write, want[1]) {
			t.Errorf("%s reads %v and writes %v, want %v and %v", name, a.read, a.write, want[0], want[1])
		}
	}
	// SES sending: identities of this account and Region, and Pigeon's configuration set only.
	for _, name := range []string{"api", "scheduler"} {
		for _, r := range actions[name]["ses:SendEmail"] {
			if !strings.Contains(r, `:${AWS::AccountId}:identity/*"`) && !strings.Contains(r, `:${AWS::AccountId}:configuration-set/pigeon"`) {
				t.Errorf("%s ses:SendEmail on %s", name, r)
			}
		}
	}
	secretID, _ := tpl.one(t, "AWS::SecretsManager::Secret", "ApiKey")
	for _, name := range []string{"api", "scheduler"} {
		equalJSON(t, name+" secret", actions[name]["secretsmanager:GetSecretValue"], []string{js(ref(secretID))})
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	x, y := append([]string{}, a...), append([]string{}, b...)
	sort.Strings(x)
	sort.Strings(y)
	return strings.Join(x, "\n") == strings.Join(y, "\n")
}
