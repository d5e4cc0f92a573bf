package wire

import "time"

// UTC returns t in UTC truncated to milliseconds, the precision the wire format shows.
func UTC(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// NonNil returns s, or an empty slice when s is nil, so that required arrays marshal as [].
func NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Error is the body of every error response (ErrorResponse and ValidationErrorResponse).
type Error struct {
	Name    string       `json:"name"`
	Code    string       `json:"code,omitempty"`
	Message string       `json:"message"`
	Errors  []FieldError `json:"errors,omitempty"`
	Fix     string       `json:"fix,omitempty"`
	Docs    string       `json:"docs,omitempty"`
}

// FieldError names one invalid field of a request (ValidationErrorResponse.errors).
type FieldError struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}
