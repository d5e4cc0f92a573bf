// Package stack defines Pigeon's one CloudFormation stack: the table, the bucket, SES receiving
// and sending, the seven functions and the triggers that wire them, the REST and WebSocket APIs,
// alarms, and the least-privilege roles that hold it together.
package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Functions are the Lambda functions the stack deploys. Each is built by `make build` into
// <AssetDir>/<name>/bootstrap.
var Functions = []string{"api", "inbound", "sesevents", "fanout", "webhooks", "ws", "scheduler"}

// Config is everything a deployment can choose. Each setting is read from the CDK context
// (`-c key=value` or cdk.json) first, then from the environment variable named in its comment,
// then falls back to the default in the comment.
type Config struct {
	StackName          string   // stackName, PIGEON_STACK_NAME (Pigeon): also the prefix of fixed resource names
	Domains            []string // domains, PIGEON_DOMAIN (example.com): comma list of mail domains; the first is the default for new inboxes
	OrgID              string   // orgId, PIGEON_ORG_ID (org_pigeon)
	Stage              string   // stage, PIGEON_STAGE (prod): REST API stage name
	RawRetentionDays   int      // rawRetentionDays, PIGEON_RAW_RETENTION_DAYS (365): days raw/ objects live; 0 keeps them forever
	EventRetentionDays int      // eventRetentionDays, PIGEON_EVENT_RETENTION_DAYS (30): TTL of event items
	AlarmEmail         string   // alarmEmail, PIGEON_ALARM_EMAIL: address subscribed to the alarm topic, if any
	ExistingRuleSet    string   // existingRuleSet, PIGEON_EXISTING_RULE_SET: add Pigeon's rule to this active rule set instead of creating and activating one
	Recipients         []string // recipients, PIGEON_RECIPIENTS: receipt rule recipients; default: none (all verified domains) with Pigeon's own rule set, Domains with an existing one
	CreateIdentities   bool     // createIdentities, PIGEON_CREATE_IDENTITIES (true): create the SES domain identities (Easy DKIM) for Domains
	LocalStack         bool     // localstack, PIGEON_LOCALSTACK (false): leave out what LocalStack's free edition lacks
	APIDomain          string   // apiDomain, PIGEON_API_DOMAIN: custom domain name for the REST API
	APICertificateARN  string   // apiCertificateArn, PIGEON_API_CERTIFICATE_ARN: ACM certificate (same Region) for APIDomain
	APIRateLimit       int      // apiRateLimit, PIGEON_API_RATE_LIMIT (100): steady requests per second, REST and WebSocket
	APIBurstLimit      int      // apiBurstLimit, PIGEON_API_BURST_LIMIT (200)
	AssetDir           string   // assetDir, PIGEON_ASSET_DIR (build): where <name>/bootstrap of each function is
}

// Lookup finds a raw setting by its context key and environment variable name.
type Lookup func(contextKey, envName string) (string, bool)

var (
	stackNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,29}$`)
	stagePattern     = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)
	ruleSetPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}[A-Za-z0-9]$|^[A-Za-z0-9]$`)
	domainPattern    = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

// FromLookup builds and checks a Config.
func FromLookup(lookup Lookup) (Config, error) {
	get := func(key, env, def string) string {
		if v, ok := lookup(key, env); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	var errs []string
	num := func(key, env string, def, min int) int {
		raw := get(key, env, strconv.Itoa(def))
		n, err := strconv.Atoi(raw)
		if err != nil || n < min {
			errs = append(errs, fmt.Sprintf("%s must be a whole number ≥ %d, not %q", key, min, raw))
		}
		return n
	}
	flag := func(key, env string, def bool) bool {
		raw := get(key, env, strconv.FormatBool(def))
		b, err := strconv.ParseBool(raw)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s must be true or false, not %q", key, raw))
		}
		return b
	}
	c := Config{
		StackName:          get("stackName", "PIGEON_STACK_NAME", "Pigeon"),
		Domains:            list(get("domains", "PIGEON_DOMAIN", "example.com")),
		OrgID:              get("orgId", "PIGEON_ORG_ID", "org_pigeon"),
		Stage:              get("stage", "PIGEON_STAGE", "prod"),
		RawRetentionDays:   num("rawRetentionDays", "PIGEON_RAW_RETENTION_DAYS", 365, 0),
		EventRetentionDays: num("eventRetentionDays", "PIGEON_EVENT_RETENTION_DAYS", 30, 1),
		AlarmEmail:         get("alarmEmail", "PIGEON_ALARM_EMAIL", ""),
		ExistingRuleSet:    get("existingRuleSet", "PIGEON_EXISTING_RULE_SET", ""),
		Recipients:         list(get("recipients", "PIGEON_RECIPIENTS", "")),
		CreateIdentities:   flag("createIdentities", "PIGEON_CREATE_IDENTITIES", true),
		LocalStack:         flag("localstack", "PIGEON_LOCALSTACK", false),
		APIDomain:          strings.ToLower(get("apiDomain", "PIGEON_API_DOMAIN", "")),
		APICertificateARN:  get("apiCertificateArn", "PIGEON_API_CERTIFICATE_ARN", ""),
		APIRateLimit:       num("apiRateLimit", "PIGEON_API_RATE_LIMIT", 100, 1),
		APIBurstLimit:      num("apiBurstLimit", "PIGEON_API_BURST_LIMIT", 200, 1),
		AssetDir:           get("assetDir", "PIGEON_ASSET_DIR", "build"),
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, c.check()
}

func list(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (c Config) check() error {
	var errs []string
	if !stackNamePattern.MatchString(c.StackName) {
		errs = append(errs, fmt.Sprintf("stackName %q: letters, digits and '-', starting with a letter, at most 30 characters (it prefixes the bucket name)", c.StackName))
	}
	if len(c.Domains) == 0 {
		errs = append(errs, "domains: at least one mail domain is needed")
	}
	for _, d := range c.Domains {
		if !domainPattern.MatchString(d) {
			errs = append(errs, fmt.Sprintf("domains: %q is not a domain name", d))
		}
	}
	if !stagePattern.MatchString(c.Stage) {
		errs = append(errs, fmt.Sprintf("stage %q: letters, digits and '_' only", c.Stage))
	}
	if c.ExistingRuleSet != "" && !ruleSetPattern.MatchString(c.ExistingRuleSet) {
		errs = append(errs, fmt.Sprintf("existingRuleSet %q is not a valid rule set name", c.ExistingRuleSet))
	}
	if (c.APIDomain == "") != (c.APICertificateARN == "") {
		errs = append(errs, "apiDomain and apiCertificateArn go together: set both or neither")
	}
	if c.AlarmEmail != "" && !strings.Contains(c.AlarmEmail, "@") {
		errs = append(errs, fmt.Sprintf("alarmEmail %q is not an e-mail address", c.AlarmEmail))
	}
	if len(errs) > 0 {
		return fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return nil
}

// CheckAssets reports a function whose bootstrap binary has not been built.
func (c Config) CheckAssets() error {
	for _, name := range Functions {
		p := filepath.Join(c.AssetDir, name, "bootstrap")
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("function %s: %s is missing; run `make build` first (or set -c assetDir=...)", name, p)
		}
	}
	return nil
}

// prefix is the lower-case stack name that starts every fixed resource name.
func (c Config) prefix() string { return strings.ToLower(c.StackName) }

// RuleSetName is the SES receipt rule set holding Pigeon's rule.
func (c Config) RuleSetName() string {
	if c.ExistingRuleSet != "" {
		return c.ExistingRuleSet
	}
	return c.prefix() + "-receiving"
}

// RuleName is Pigeon's receipt rule. Both names are fixed so that the bucket and topic policies
// can name the rule in aws:SourceArn before it exists.
func (c Config) RuleName() string { return c.prefix() + "-inbound" }

// ConfigurationSetName is the SES configuration set every send uses.
func (c Config) ConfigurationSetName() string { return c.prefix() }

// receiptRecipients are the recipient conditions of Pigeon's receipt rule (none = every
// verified domain of the account and Region).
func (c Config) receiptRecipients() []string {
	if len(c.Recipients) > 0 {
		return c.Recipients
	}
	if c.ExistingRuleSet != "" {
		return c.Domains
	}
	return nil
}
