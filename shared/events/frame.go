package events

import (
	"bytes"
	"encoding/json"
	"sort"
	"unicode/utf8"
)

// MaxFrameBytes is the largest event frame Pigeon posts to a WebSocket connection. API Gateway
// refuses PostToConnection payloads over 128 KB (PayloadTooLargeException);
// reading "KB" as 1,000 bytes keeps Pigeon under the limit whichever way AWS counts.
const MaxFrameBytes = 128_000

// Reduce fits an event frame (the JSON of wire.Event) into MaxFrameBytes; see ReduceTo.
func Reduce(frame []byte) []byte { return ReduceTo(frame, MaxFrameBytes) }

// ReduceTo returns frame unchanged when it is at most limit bytes, and otherwise a smaller copy
// in which the event's message has lost, step by step until the frame fits:
//
//  1. message.html and message.extracted_html;
//  2. the end of message.text, then of message.extracted_text (cut at a character boundary,
//     dropped when nothing is left): text first, because it holds the quoted history that
//     extracted_text leaves out, so what the agent most likely wants survives longest;
//  3. message.headers.
//
// The event itself is never dropped: if even that is not enough (thousands of recipients), the
// smallest frame is returned and the caller's post fails for that connection alone. Events
// without a message (message.sent, domain.verified, …) are small and returned as they are, and
// so is anything that is not a JSON object.
//
// No "truncated" flag is added: the SDKs parse event frames strictly and webhook receivers
// reject unknown keys, so a reduced frame is still a valid event
// with only documented, optional fields missing or shortened. A client cannot tell a reduced
// frame from a message that never had HTML; one that needs complete bodies fetches
// GET /v0/inboxes/{inbox_id}/messages/{message_id}, at least whenever message.size (the raw
// message) approaches the frame limit. Only messages with bodies of tens of kilobytes are ever
// affected.
func ReduceTo(frame []byte, limit int) []byte {
	if len(frame) <= limit {
		return frame
	}
	var ev map[string]json.RawMessage
	if json.Unmarshal(frame, &ev) != nil {
		return frame
	}
	var msg map[string]json.RawMessage
	if json.Unmarshal(ev["message"], &msg) != nil || msg == nil {
		return frame
	}
	build := func() []byte {
		ev["message"] = encode(msg)
		return encode(ev)
	}

	delete(msg, "html")
	delete(msg, "extracted_html")
	out := build()
	for _, key := range []string{"text", "extracted_text"} {
		if len(out) <= limit {
			return out
		}
		cut(msg, key, len(out)-limit)
		out = build()
	}
	if len(out) <= limit {
		return out
	}
	delete(msg, "headers")
	return build()
}

// cut shortens the string msg[key] so that its JSON encoding is at least over bytes shorter,
// or removes it when that leaves nothing.
func cut(msg map[string]json.RawMessage, key string, over int) {
	var s string
	if json.Unmarshal(msg[key], &s) != nil {
		return
	}
	// Bytes the value may still take, quotes included. Measured on the value as it stands in the
	// frame, which may be longer than encode(s) (json.Marshal writes < as \u003c).
	target := len(msg[key]) - over
	fits := func(n int) bool { return len(encode(s[:boundary(s, n)])) <= target }
	// Encoded length grows with the prefix, so the longest prefix that fits is found by bisection.
	n := sort.Search(len(s)+1, func(n int) bool { return !fits(n) }) - 1
	if n = boundary(s, n); n > 0 {
		msg[key] = encode(s[:n])
	} else {
		delete(msg, key)
	}
}

// boundary is the largest index ≤ n at which s can be cut without splitting a UTF-8 sequence.
func boundary(s string, n int) int {
	if n < 0 {
		return 0
	}
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}

// encode marshals v as json.Marshal does but without escaping <, > and &, which would make
// HTML-heavy bodies up to six times larger than they are.
func encode(v any) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		panic("events: encode: " + err.Error()) // strings and raw JSON taken from a parsed frame always encode
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
