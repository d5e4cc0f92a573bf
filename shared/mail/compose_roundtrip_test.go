package mail

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Compose → Parse gives back what was composed: subject, bodies, attachments byte for byte,
// content ids, addresses and threading ids.
func TestComposeParseRoundTrip(t *testing.T) {
	bin := make([]byte, 5000)
	for i := range bin {
		bin[i] = byte(i*31 + i/7)
	}
	tests := []Outgoing{
		{Subject: "plain ASCII", Text: "Hello Bob,\n\nsee you.\n"},
		{Subject: "Grüße aus Köln — ça va?", Text: "Grüße\n", HTML: "<p>Grüße</p>"},
		{Subject: strings.Repeat("日本語の件名がとても長い ", 12), Text: strings.Repeat("日本語 ", 500), HTML: "<p>" + strings.Repeat("長", 2000) + "</p>"},
		{Subject: "emoji 🐦🐦 and =?not-encoded?= text", Text: "🐦\n"},
		{Subject: "   spaced   subject  ", Text: "trailing spaces   \nand tabs\t\nand = signs =3D\n" + strings.Repeat("x", 3000)},
		{Subject: "html only", HTML: "<html><body><p>Only HTML</p></body></html>"},
		{
			Subject: "with attachments", Text: "see attached", HTML: `<p>logo: <img src="cid:logo.1@pigeon"></p>`,
			Attachments: []OutgoingAttachment{
				{Filename: "logo.png", ContentType: "image/png", ContentID: "logo.1@pigeon", Content: []byte("\x89PNG\r\n\x1a\n" + string(bin[:100]))},
				{Filename: "data.bin", ContentType: "application/octet-stream", Content: bin},
				{Filename: "報告書 2026年.pdf", ContentType: "application/pdf", Content: []byte("%PDF-1.7\n" + string(bin))},
				{Filename: "notes.txt", ContentType: "text/plain; charset=utf-8", Content: []byte("line one\r\nline two\nno final newline")},
				{Filename: "empty.txt", ContentType: "text/plain", Content: []byte{}},
			},
		},
		{
			Subject: "attachment with content id but attachment disposition", Text: "x",
			Attachments: []OutgoingAttachment{{Filename: "a.png", ContentType: "image/png", ContentID: "a@b", ContentDisposition: "attachment", Content: []byte("png")}},
		},
	}
	for i, o := range tests {
		t.Run(fmt.Sprint(i, " ", o.Subject), func(t *testing.T) {
			o.From = "Agent Smith <agent@pigeon.local>"
			o.To = []string{"bob@example.com", "Zoë <zoe@example.com>"}
			o.Cc = []string{`"Smith, Al" <al@example.com>`}
			o.Bcc = []string{"hidden@example.com"}
			o.MessageID = "m1@pigeon.local"
			o.InReplyTo = "<parent@example.com>"
			o.References = []string{"<root@example.com>", "parent@example.com"}
			o.Date = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
			raw, err := Compose(o)
			if err != nil {
				t.Fatal(err)
			}
			m := Parse(raw, time.Time{})
			if len(m.Problems) > 0 {
				t.Errorf("parser problems: %q", m.Problems)
			}
			if m.Subject != strings.TrimSpace(o.Subject) {
				t.Errorf("subject = %q, want %q", m.Subject, strings.TrimSpace(o.Subject))
			}
			if m.Text != o.Text {
				t.Errorf("text = %q, want %q", composeShort(m.Text), composeShort(o.Text))
			}
			if m.HTML != o.HTML {
				t.Errorf("html = %q, want %q", composeShort(m.HTML), composeShort(o.HTML))
			}
			if !strings.Contains(m.From, "agent@pigeon.local") || !strings.Contains(m.From, "Agent Smith") {
				t.Errorf("from = %q", m.From)
			}
			if len(m.To) != 2 || !strings.Contains(m.To[1], "Zoë") || len(m.Cc) != 1 || !strings.Contains(m.Cc[0], "Smith, Al") || len(m.Bcc) != 0 {
				t.Errorf("to = %q, cc = %q, bcc = %q", m.To, m.Cc, m.Bcc)
			}
			if m.MessageID != "<m1@pigeon.local>" || m.InReplyTo != "<parent@example.com>" ||
				!slices.Equal(m.References, []string{"<root@example.com>", "<parent@example.com>"}) {
				t.Errorf("ids = %q %q %q", m.MessageID, m.InReplyTo, m.References)
			}
			if !m.Date.Equal(o.Date) {
				t.Errorf("date = %v", m.Date)
			}
			if len(m.Attachments) != len(o.Attachments) {
				t.Fatalf("%d attachments, want %d", len(m.Attachments), len(o.Attachments))
			}
			for j, want := range o.Attachments {
				got := m.Attachments[j]
				wantType := strings.SplitN(want.ContentType, ";", 2)[0]
				wantDisp := want.ContentDisposition
				if wantDisp == "" {
					wantDisp = "attachment"
					if want.ContentID != "" {
						wantDisp = "inline"
					}
				}
				if got.Filename != want.Filename || got.ContentType != wantType || got.ContentID != want.ContentID ||
					got.ContentDisposition != wantDisp || !bytes.Equal(got.Content, want.Content) || got.Size != int64(len(want.Content)) {
					t.Errorf("attachment %d = %+v (%d bytes), want %q %q cid %q %s (%d bytes)", j, got.Attachment, len(got.Content),
						want.Filename, wantType, want.ContentID, wantDisp, len(want.Content))
				}
			}
		})
	}
}

func composeShort(s string) string {
	if len(s) > 120 {
		return s[:60] + "…" + s[len(s)-60:]
	}
	return s
}
