package local

import (
	"log/slog"
	"os"
)

// DefaultDataDir is where `make dev` keeps its data: relative to the working directory, so
// build/data under the repository (git ignores build/).
const DefaultDataDir = "build/data"

// DefaultS3Addr is the embedded S3's listen address under `make dev`: a fixed port, so that
// presigned download URLs (which carry host:port) keep working across a restart. When it is
// taken the stack falls back to a free port and says so.
const DefaultS3Addr = "127.0.0.1:8026"

// Settings are what the local stack reads from its environment on top of shared/config.
type Settings struct {
	HTTPAddr string // PIGEON_HTTP_ADDR: the REST API (default 127.0.0.1:8080; port 0 picks one)
	SMTPAddr string // PIGEON_SMTP_ADDR: the SMTP listener (default 127.0.0.1:2525; port 0 picks one)
	SESAddr  string // PIGEON_SES_ADDR: the local SES v2 endpoint (default 127.0.0.1:8025; empty picks a port)
	Domain   string // PIGEON_DOMAIN: comma-separated mail domains (default pigeon.local)
	APIKey   string // PIGEON_API_KEY: the organisation key; when empty, the one kept in the data directory (generated on first start)

	// DataDir (PIGEON_DATA_DIR) holds everything the stack keeps: dynamodb/, s3/, sqs/, the
	// organisation key (api-key) and the LOCK that keeps a second stack out. SettingsFromEnv
	// defaults it to DefaultDataDir. Empty, or Ephemeral (PIGEON_EPHEMERAL=1), is a throw-away
	// stack: a temporary directory, removed at Close, with no fsyncs.
	DataDir   string
	Ephemeral bool

	// The embedded servers' listen addresses: PIGEON_DYNAMODB_ADDR and PIGEON_S3_ADDR. Empty is
	// 127.0.0.1:0 (a free port); SettingsFromEnv defaults S3Addr to DefaultS3Addr.
	DynamoDBAddr string
	S3Addr       string

	// Lookup reads every other variable: the PIGEON_* settings of shared/config and the
	// AWS_ENDPOINT_URL* / AWS_REGION ones that point the stack at LocalStack or AWS.
	// nil reads nothing, so tests are not affected by the developer's environment.
	Lookup func(name string) (string, bool)

	Log *slog.Logger // nil: slog.Default()
}

// SettingsFromEnv reads the settings from the process environment.
func SettingsFromEnv() Settings {
	get := func(name, def string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return def
	}
	ephemeral := os.Getenv("PIGEON_EPHEMERAL")
	set := Settings{
		HTTPAddr:     get("PIGEON_HTTP_ADDR", "127.0.0.1:8080"),
		SMTPAddr:     get("PIGEON_SMTP_ADDR", "127.0.0.1:2525"),
		SESAddr:      get("PIGEON_SES_ADDR", "127.0.0.1:8025"),
		Domain:       get("PIGEON_DOMAIN", "pigeon.local"),
		APIKey:       os.Getenv("PIGEON_API_KEY"),
		DataDir:      os.Getenv("PIGEON_DATA_DIR"),
		Ephemeral:    ephemeral != "" && ephemeral != "0" && ephemeral != "false",
		DynamoDBAddr: os.Getenv("PIGEON_DYNAMODB_ADDR"),
		S3Addr:       get("PIGEON_S3_ADDR", DefaultS3Addr),
		Lookup:       os.LookupEnv,
	}
	if set.DataDir == "" && !set.Ephemeral {
		set.DataDir = DefaultDataDir
	}
	return set
}

// lookup reads name through s.Lookup, treating blank values as unset.
func (s Settings) lookup(name string) string {
	if s.Lookup == nil {
		return ""
	}
	v, _ := s.Lookup(name)
	return v
}
