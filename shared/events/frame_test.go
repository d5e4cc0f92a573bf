package events

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func frame(t *testing.T, msg map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"type": "event", "event_type": MessageReceived, "event_id": "evt_1",
		"message": msg,
		"thread":  map[string]any{"thread_id": "t1", "message_count": 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t *testing.T, b []byte) (ev map[string]any, msg map[string]any) {
	t.Helper()
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("reduced frame is not JSON: %v", err)
	}
	msg, _ = ev["message"].(map[string]any)
	return ev, msg
}

func TestReduce(t *testing.T) {
	big := func(n int) string { return strings.Repeat("x", n) }
	base := func() map[string]any {
		return map[string]any{"message_id": "<m@x>", "size": 900000, "to": []string{"a@x.test"},
			"headers": map[string]string{"x-big": big(20_000)}}
	}
	with := func(kv ...any) map[string]any {
		m := base()
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	const limit = 100_000
	tests := []struct {
		name     string
		msg      map[string]any
		gone     []string
		kept     []string
		cut      string // key expected to be shortened
		overSize bool   // nothing left to drop: returned above the limit
	}{
		{name: "small frame untouched", msg: with("html", "<p>hi</p>", "text", "hi"), kept: []string{"html", "text", "headers"}},
		{name: "html dropped first", msg: with("html", big(60_000), "extracted_html", big(30_000), "text", big(10_000)),
			gone: []string{"html", "extracted_html"}, kept: []string{"text", "headers"}},
		{name: "then text cut", msg: with("html", big(60_000), "text", big(90_000), "extracted_text", big(5_000)),
			gone: []string{"html"}, kept: []string{"extracted_text", "headers"}, cut: "text"},
		{name: "text dropped, extracted_text cut", msg: with("text", big(90_000), "extracted_text", big(90_000)),
			gone: []string{"text"}, kept: []string{"headers"}, cut: "extracted_text"},
		{name: "headers dropped last", msg: with("headers", map[string]string{"x-big": big(150_000)}, "text", big(1000)),
			gone: []string{"headers", "text"}},
		{name: "never drops the event", msg: with("to", strings.Split(big(60_000), ""), "headers", map[string]string{}),
			gone: []string{"headers"}, kept: []string{"to"}, overSize: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := frame(t, tt.msg)
			out := ReduceTo(in, limit)
			if !tt.overSize && len(out) > limit {
				t.Fatalf("reduced frame is %d bytes, limit %d", len(out), limit)
			}
			ev, msg := decode(t, out)
			for _, k := range []string{"type", "event_type", "event_id", "thread", "message"} {
				if _, ok := ev[k]; !ok {
					t.Errorf("event lost %q", k)
				}
			}
			if len(ev) != 5 {
				t.Errorf("event has keys %v, want exactly the five it had", ev)
			}
			for _, k := range []string{"message_id", "size"} {
				if _, ok := msg[k]; !ok {
					t.Errorf("message lost required %q", k)
				}
			}
			for _, k := range tt.gone {
				if _, ok := msg[k]; ok {
					t.Errorf("message still has %q", k)
				}
			}
			for _, k := range tt.kept {
				if _, ok := msg[k]; !ok {
					t.Errorf("message lost %q", k)
				}
			}
			if tt.cut != "" {
				s, _ := msg[tt.cut].(string)
				orig := tt.msg[tt.cut].(string)
				if s == "" || len(s) >= len(orig) || !strings.HasPrefix(orig, s) {
					t.Errorf("%s: %d bytes, want a non-empty proper prefix of the %d-byte original", tt.cut, len(s), len(orig))
				}
				if limit-len(out) > 16 {
					t.Errorf("cut too much: frame is %d bytes, limit %d", len(out), limit)
				}
			}
		})
	}
}

func TestReduceKeepsUTF8AndHTML(t *testing.T) {
	// Multi-byte characters must not be split, and <, >, & must not be inflated to \u003c.
	text := strings.Repeat("é<a&b>€", 20_000)
	in := frame(t, map[string]any{"message_id": "m", "size": 1, "text": text})
	out := Reduce(in)
	if len(out) > MaxFrameBytes {
		t.Fatalf("%d bytes", len(out))
	}
	if strings.Contains(string(out), `\u003c`) {
		t.Error("reduced frame escapes HTML characters")
	}
	_, msg := decode(t, out)
	s := msg["text"].(string)
	if !utf8.ValidString(s) || !strings.HasPrefix(text, s) || len(s) < MaxFrameBytes-1000 {
		t.Errorf("text cut badly: %d bytes, valid UTF-8 %v", len(s), utf8.ValidString(s))
	}
}

func TestReduceLeavesOtherFramesAlone(t *testing.T) {
	for _, in := range [][]byte{
		[]byte(`not json` + strings.Repeat(" ", 200)),
		[]byte(`{"type":"event","event_type":"message.sent","event_id":"e","send":{"recipients":["` + strings.Repeat("a", 300) + `"]}}`),
	} {
		if out := ReduceTo(in, 100); string(out) != string(in) {
			t.Errorf("ReduceTo changed %.40q", in)
		}
	}
}
