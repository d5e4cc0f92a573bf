package mail

import (
	"maps"
	"testing"
)

func TestReadHeader(t *testing.T) {
	tests := []struct {
		name, raw, subject, body string
		problems                 int
	}{
		{"normal", "Subject: hi\r\n\r\nbody", "hi", "body", 0},
		{"folded", "Subject: a\r\n b\r\n\r\nbody", "a b", "body", 0},
		{"line without colon dropped", "Subject: hi\r\nnot a header\r\n\r\nbody", "hi", "body", 1},
		{"key with space dropped", "Bad Key: x\r\nSubject: hi\r\n\r\nbody", "", "Bad Key: x\r\nSubject: hi\r\n\r\nbody", 0},
		{"leading continuation dropped", "Subject: hi\r\n\r\n", "hi", "", 0},
		{"no separator", "Subject: hi\r\nbody line\r\nmore", "hi", "body line\r\nmore", 1},
		{"header only", "Subject: hi", "hi", "", 0},
		{"no header", "\r\nbody", "", "body", 0},
		{"not a header at all", "Dear Bob,\r\n\r\nhello", "", "Dear Bob,\r\n\r\nhello", 0},
		{"space before colon", "Subject : hi\r\n\r\nb", "hi", "b", 0},
		{"1000+ char line", "Subject: " + string(make([]byte, 0)) + repeat("x", 5000) + "\r\n\r\nb", repeat("x", 5000), "b", 0},
	}
	for _, tt := range tests {
		h, body, problems := readHeader([]byte(tt.raw))
		if got := h.Get("Subject"); got != tt.subject || string(body) != tt.body || len(problems) != tt.problems {
			t.Errorf("%s: subject %q, body %q, problems %q; want %q, %q, %d", tt.name, got, body, problems, tt.subject, tt.body, tt.problems)
		}
	}
}

func repeat(s string, n int) string {
	b := make([]byte, 0, len(s)*n)
	for range n {
		b = append(b, s...)
	}
	return string(b)
}

func TestHeaderMap(t *testing.T) {
	h, _, _ := readHeader([]byte("Received: second hop\r\nReceived: first hop\r\nMessage-ID: <a@b>\r\nSUBJECT: =?utf-8?q?caf=C3=A9?=\r\nSubject: later\r\nX-Latin: caf\xe9\r\n\r\n"))
	want := map[string]string{"Received": "second hop", "Message-ID": "<a@b>", "SUBJECT": "café", "X-Latin": "café"}
	if got := headerMap(h); !maps.Equal(got, want) {
		t.Errorf("headerMap = %q, want %q", got, want)
	}
}

func TestStripMboxFrom(t *testing.T) {
	if got, ok := stripMboxFrom([]byte("From a@b Mon Jan 1 00:00:00 2024\nFrom: a@b\n")); !ok || string(got) != "From: a@b\n" {
		t.Errorf("got %q, %v", got, ok)
	}
	if got, ok := stripMboxFrom([]byte("From: a@b\n")); ok || string(got) != "From: a@b\n" {
		t.Errorf("header From: stripped: %q", got)
	}
}
