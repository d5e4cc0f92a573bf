package webhook

import (
	"fmt"
	"slices"
	"strings"
)

// Bounds on a webhook's custom headers.
const (
	maxHeaders          = 20
	maxHeaderNameBytes  = 256
	maxHeaderValueBytes = 4096
)

// reservedHeaders are set by Pigeon or by HTTP itself and cannot be customised. Names starting
// with svix- or webhook- are reserved too.
var reservedHeaders = []string{
	"host", "content-type", "content-length", "transfer-encoding", "connection", "keep-alive",
	"te", "trailer", "upgrade", "proxy-authorization", "proxy-connection", "user-agent",
}

// ValidateHeaders checks a webhook's custom headers when they are set: at most 20, names that
// are HTTP tokens and not reserved (the signature headers, framing headers, Content-Type,
// User-Agent), values without control characters. Messages are meant for the API client.
func ValidateHeaders(h map[string]string) error {
	if len(h) > maxHeaders {
		return fmt.Errorf("at most %d custom headers", maxHeaders)
	}
	for name, value := range h {
		lower := strings.ToLower(name)
		switch {
		case name == "" || len(name) > maxHeaderNameBytes || strings.IndexFunc(name, notToken) >= 0:
			return fmt.Errorf("header name %q is not a valid HTTP header name", name)
		case strings.HasPrefix(lower, "svix-") || strings.HasPrefix(lower, "webhook-") || slices.Contains(reservedHeaders, lower):
			return fmt.Errorf("header %s is set by Pigeon and cannot be customised", name)
		case len(value) > maxHeaderValueBytes:
			return fmt.Errorf("header %s: value longer than %d bytes", name, maxHeaderValueBytes)
		case strings.IndexFunc(value, func(r rune) bool { return (r < ' ' && r != '\t') || r == 0x7f }) >= 0:
			return fmt.Errorf("header %s: value contains control characters", name)
		}
	}
	return nil
}

// notToken reports whether r cannot appear in an HTTP token (RFC 9110 §5.6.2).
func notToken(r rune) bool {
	if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
		return false
	}
	return !strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}
