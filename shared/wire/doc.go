// Package wire holds the JSON types of Pigeon's public API: AgentMail's v0 wire format,
// field by field, in one place.
//
// The same structs are Pigeon's domain model: the store persists them (with a few private
// attributes of its own) and the REST API, the WebSocket frames and the webhook bodies are all
// built from them, so the three can never disagree about a field.
//
// Conventions the official SDKs depend on:
//   - required ("R") fields have no omitempty; required slices are never nil (use NonNil);
//   - optional ("O") fields are omitempty, or pointers when zero is meaningful;
//   - timestamps are UTC and marshal as RFC 3339 with a Z (UTC normalises a time.Time).
package wire
