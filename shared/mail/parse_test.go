package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// testReceived is the receive time the tests parse with.
var testReceived = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// TestParseDegrades feeds Parse input no parser should choke on and checks what survives.
func TestParseDegrades(t *testing.T) {
	tests := []struct {
		name, raw, subject, text string
	}{
		{"empty", "", "", ""},
		{"only a newline", "\r\n", "", ""},
		{"not mail", "just some words\nand more", "", "just some words\nand more"},
		{"header only", "Subject: hi\r\nFrom: a@b.example", "hi", ""},
		{"multipart without boundary", "Subject: s\r\nContent-Type: multipart/mixed\r\n\r\nraw text", "s", "raw text"},
		{"multipart with no delimiter", "Subject: s\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\nraw text", "s", "raw text"},
		{"binary multipart without parts", "Subject: s\r\nContent-Type: multipart/mixed\r\n\r\n\x00\x01\x02", "s", ""},
		{"invalid media type", "Subject: s\r\nContent-Type: plain\r\n\r\nbody", "s", "body"},
		{"junk after media type", "Subject: s\r\nContent-Type: text/plain>\r\n\r\nbody", "s", "body"},
		{"crlf to lf", "Subject: s\r\n\r\na\r\nb\r\n", "s", "a\nb\n"},
		{"html only has no text", "Subject: s\r\nContent-Type: text/html\r\n\r\n<p>x</p>", "s", ""},
		{"attachment-only text", "Subject: s\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nx", "s", ""},
		{"single part with a name is still the body", "Subject: s\r\nContent-Type: text/plain; name=a.txt\r\n\r\nx", "s", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Parse([]byte(tt.raw), testReceived)
			if m.Subject != tt.subject || m.Text != tt.text {
				t.Errorf("subject %q, text %q; want %q, %q (problems %q)", m.Subject, m.Text, tt.subject, tt.text, m.Problems)
			}
			checkInvariants(t, []byte(tt.raw), m)
		})
	}
}

func TestParseHTMLOnlyDerivesText(t *testing.T) {
	raw := "Subject: s\r\nContent-Type: text/html\r\n\r\n<div>New</div><div class=\"gmail_quote\">On Mon Ann wrote:<blockquote>Old</blockquote></div>"
	m := Parse([]byte(raw), testReceived)
	if m.Text != "" || m.ExtractedText != "New" || m.Preview != "New" || m.ExtractedHTML != "<div>New</div>" {
		t.Errorf("text %q, extracted %q, preview %q, extracted html %q", m.Text, m.ExtractedText, m.Preview, m.ExtractedHTML)
	}
}

func TestPreviewFallsBackWhenAllQuoted(t *testing.T) {
	m := Parse([]byte("Subject: s\r\n\r\n> only a quote\r\n"), testReceived)
	if m.ExtractedText != "" || m.Preview != "> only a quote" {
		t.Errorf("extracted %q, preview %q", m.ExtractedText, m.Preview)
	}
}

func TestParseDeterministicIDs(t *testing.T) {
	raw := largeMessage(64 << 10)
	a, b := Parse(raw, testReceived), Parse(raw, testReceived)
	if len(a.Attachments) != 1 || a.Attachments[0].AttachmentID != b.Attachments[0].AttachmentID || !strings.HasPrefix(a.Attachments[0].AttachmentID, "att_") {
		t.Fatalf("attachment ids %v / %v", a.Attachments, b.Attachments)
	}
}

func TestParseDeepNesting(t *testing.T) {
	var b strings.Builder
	b.WriteString("Subject: deep\r\n")
	for i := range 100 {
		b.WriteString("Content-Type: multipart/mixed; boundary=b" + strings.Repeat("x", i) + "\r\n\r\n--b" + strings.Repeat("x", i) + "\r\n")
	}
	b.WriteString("Content-Type: text/plain\r\n\r\ndeep text\r\n")
	m := Parse([]byte(b.String()), testReceived)
	if len(m.Attachments) != 1 || len(m.Problems) == 0 {
		t.Errorf("attachments %d, problems %q", len(m.Attachments), m.Problems)
	}
}

// largeMessage is a message with a text body and one attachment of n random bytes.
func largeMessage(n int) []byte {
	content := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range content {
		content[i] = byte(r.Uint32())
	}
	enc := base64.StdEncoding.EncodeToString(content)
	var b bytes.Buffer
	b.WriteString("From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: Large\r\nDate: Thu, 2 Jan 2025 01:00:00 +0000\r\n" +
		"Message-ID: <large@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"LARGE\"\r\n\r\n" +
		"--LARGE\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe data is attached.\r\n" +
		"--LARGE\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--LARGE--\r\n")
	return b.Bytes()
}

func TestParseTenMegabyteAttachment(t *testing.T) {
	const n = 10 << 20
	raw := largeMessage(n)
	start := time.Now()
	m := Parse(raw, testReceived)
	elapsed := time.Since(start)
	if len(m.Attachments) != 1 || m.Attachments[0].Size != n || m.Text != "The data is attached." || len(m.Problems) != 0 {
		t.Fatalf("attachments %d, text %q, problems %q", len(m.Attachments), m.Text, m.Problems)
	}
	want := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range want {
		want[i] = byte(r.Uint32())
	}
	if sha256.Sum256(m.Attachments[0].Content) != sha256.Sum256(want) {
		t.Error("attachment content differs")
	}
	t.Logf("parsed %d MB in %v", len(raw)>>20, elapsed)
}

// checkInvariants checks what every Parse result must satisfy, whatever the input.
func checkInvariants(t *testing.T, raw []byte, m *Message) {
	t.Helper()
	if m.Size != int64(len(raw)) {
		t.Errorf("Size %d, want %d", m.Size, len(raw))
	}
	for name, s := range map[string]string{"Text": m.Text, "HTML": m.HTML, "Subject": m.Subject, "From": m.From,
		"ExtractedText": m.ExtractedText, "ExtractedHTML": m.ExtractedHTML, "Preview": m.Preview} {
		if !utf8.ValidString(s) {
			t.Errorf("%s is not valid UTF-8: %q", name, s)
		}
	}
	if m.Timestamp.IsZero() || m.Timestamp.Location() != time.UTC {
		t.Errorf("Timestamp %v", m.Timestamp)
	}
	if m.ReplyTo == nil || m.To == nil || m.Cc == nil || m.Bcc == nil || m.References == nil || m.Headers == nil {
		t.Error("nil slice or map")
	}
	if utf8.RuneCountInString(m.Preview) > previewRunes {
		t.Errorf("preview of %d runes", utf8.RuneCountInString(m.Preview))
	}
	for _, p := range m.Problems {
		if strings.HasPrefix(p, panicProblem) {
			t.Errorf("Parse recovered a panic: %s", p)
		}
	}
	for _, a := range m.Attachments {
		if a.Size != int64(len(a.Content)) || a.AttachmentID == "" || (a.ContentDisposition != "inline" && a.ContentDisposition != "attachment") {
			t.Errorf("attachment %+v", a.Attachment)
		}
	}
}
