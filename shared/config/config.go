// Package config reads Pigeon's settings from the environment. The CDK stack sets these
// variables on every function; the local stack sets them for the functions it runs in-process.
package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Mode says where Pigeon runs: "local" (make dev, tests) or "deployed" (AWS, LocalStack).
// Checks that only make sense on a real network (webhook URLs resolving to private addresses)
// are enforced in deployed mode.
type Mode string

const (
	Local    Mode = "local"
	Deployed Mode = "deployed"
)

// Config is every setting a function needs. Names of the environment variables are in the
// field comments; defaults are those of the local stack.
type Config struct {
	Mode                Mode     // PIGEON_MODE: local | deployed (default local)
	Table               string   // PIGEON_TABLE: the DynamoDB table (default pigeon)
	Bucket              string   // PIGEON_BUCKET: the S3 bucket for raw mail, bodies, attachments (default pigeon)
	Domains             []string // PIGEON_DOMAIN: comma-separated mail domains; the first is the default for new inboxes (default pigeon.local)
	OrgID               string   // PIGEON_ORG_ID: the organisation this deployment serves (default org_pigeon)
	APIKey              string   // PIGEON_API_KEY: the bootstrap organisation key, local stack only
	SecretARN           string   // PIGEON_SECRET_ARN: Secrets Manager secret holding the bootstrap key (deployed)
	TokenSecret         string   // PIGEON_TOKEN_SECRET: key that signs page tokens (derived from the bootstrap key when empty)
	ConfigurationSet    string   // PIGEON_SES_CONFIGURATION_SET: SES configuration set for sends
	SESMessageIDDomain  string   // PIGEON_SES_MESSAGE_ID_DOMAIN: domain of the Message-ID SES writes on sent mail (default: ses.MessageIDDomain of the SES region)
	WebhookQueueURL     string   // PIGEON_WEBHOOK_QUEUE_URL: SQS queue that webhooks consumes
	ConnectionsEndpoint string   // PIGEON_WS_ENDPOINT: API Gateway management endpoint for WebSocket posts
	EventRetentionDays  int      // PIGEON_EVENT_RETENTION_DAYS: how long event items live (default 30)
	S3PathStyle         bool     // PIGEON_S3_PATH_STYLE: path-style S3 addressing (embedded S3, LocalStack)
	PublicS3Endpoint    string   // PIGEON_S3_PUBLIC_ENDPOINT: endpoint used in presigned URLs, when it differs from the SDK's
	MaxInboundBytes     int64    // PIGEON_MAX_INBOUND_BYTES: largest raw message accepted (default 40 MiB, SES's limit)
}

// FromEnv reads the configuration from the process environment.
func FromEnv() (Config, error) { return FromLookup(os.LookupEnv) }

// FromLookup reads the configuration through lookup, so tests can pass a map.
func FromLookup(lookup func(string) (string, bool)) (Config, error) {
	get := func(name, def string) string {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	c := Config{
		Mode:                Mode(get("PIGEON_MODE", string(Local))),
		Table:               get("PIGEON_TABLE", "pigeon"),
		Bucket:              get("PIGEON_BUCKET", "pigeon"),
		OrgID:               get("PIGEON_ORG_ID", "org_pigeon"),
		APIKey:              get("PIGEON_API_KEY", ""),
		SecretARN:           get("PIGEON_SECRET_ARN", ""),
		TokenSecret:         get("PIGEON_TOKEN_SECRET", ""),
		ConfigurationSet:    get("PIGEON_SES_CONFIGURATION_SET", ""),
		SESMessageIDDomain:  strings.ToLower(get("PIGEON_SES_MESSAGE_ID_DOMAIN", "")),
		WebhookQueueURL:     get("PIGEON_WEBHOOK_QUEUE_URL", ""),
		ConnectionsEndpoint: get("PIGEON_WS_ENDPOINT", ""),
		PublicS3Endpoint:    get("PIGEON_S3_PUBLIC_ENDPOINT", ""),
	}
	if c.Mode != Local && c.Mode != Deployed {
		return Config{}, fmt.Errorf("PIGEON_MODE must be %q or %q, not %q", Local, Deployed, c.Mode)
	}
	for _, d := range strings.Split(get("PIGEON_DOMAIN", "pigeon.local"), ",") {
		if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
			c.Domains = append(c.Domains, d)
		}
	}
	var err error
	if c.EventRetentionDays, err = strconv.Atoi(get("PIGEON_EVENT_RETENTION_DAYS", "30")); err != nil || c.EventRetentionDays < 1 {
		return Config{}, fmt.Errorf("PIGEON_EVENT_RETENTION_DAYS must be a positive number of days")
	}
	if c.MaxInboundBytes, err = strconv.ParseInt(get("PIGEON_MAX_INBOUND_BYTES", strconv.Itoa(40<<20)), 10, 64); err != nil || c.MaxInboundBytes < 1 {
		return Config{}, fmt.Errorf("PIGEON_MAX_INBOUND_BYTES must be a positive number of bytes")
	}
	if c.S3PathStyle, err = strconv.ParseBool(get("PIGEON_S3_PATH_STYLE", "false")); err != nil {
		return Config{}, fmt.Errorf("PIGEON_S3_PATH_STYLE must be true or false")
	}
	return c, nil
}

// EventRetention is how long event items are kept (their DynamoDB TTL).
func (c Config) EventRetention() time.Duration {
	return time.Duration(c.EventRetentionDays) * 24 * time.Hour
}

// DefaultDomain is the domain of inboxes created without one.
func (c Config) DefaultDomain() string { return c.Domains[0] }

// OwnsDomain reports whether mail for domain is Pigeon's to receive.
func (c Config) OwnsDomain(domain string) bool {
	domain = strings.ToLower(domain)
	for _, d := range c.Domains {
		if d == domain {
			return true
		}
	}
	return false
}
