package local

import (
	"log/slog"
	"os"
)

// Settings are what the local stack reads from its environment on top of shared/config.
type Settings struct {
	HTTPAddr string // PIGEON_HTTP_ADDR: the REST API (default 127.0.0.1:8080; port 0 picks one)
	SMTPAddr string // PIGEON_SMTP_ADDR: the SMTP listener (default 127.0.0.1:2525; port 0 picks one)
	SESAddr  string // PIGEON_SES_ADDR: the local SES v2 endpoint (default 127.0.0.1:8025; empty picks a port)
	Domain   string // PIGEON_DOMAIN: comma-separated mail domains (default pigeon.local)
	APIKey   string // PIGEON_API_KEY: the organisation key; generated when empty

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
	return Settings{
		HTTPAddr: get("PIGEON_HTTP_ADDR", "127.0.0.1:8080"),
		SMTPAddr: get("PIGEON_SMTP_ADDR", "127.0.0.1:2525"),
		SESAddr:  get("PIGEON_SES_ADDR", "127.0.0.1:8025"),
		Domain:   get("PIGEON_DOMAIN", "pigeon.local"),
		APIKey:   os.Getenv("PIGEON_API_KEY"),
		Lookup:   os.LookupEnv,
	}
}

// lookup reads name through s.Lookup, treating blank values as unset.
func (s Settings) lookup(name string) string {
	if s.Lookup == nil {
		return ""
	}
	v, _ := s.Lookup(name)
	return v
}
