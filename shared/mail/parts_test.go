package mail

import "testing"

// TestBodySelection checks which parts become the bodies and which attachments.
func TestBodySelection(t *testing.T) {
	mp := func(ct string, parts ...string) string {
		s := "Content-Type: " + ct + "; boundary=B\r\n\r\n"
		for _, p := range parts {
			s += "--B\r\n" + p + "\r\n"
		}
		return s + "--B--\r\n"
	}
	text := "Content-Type: text/plain\r\n\r\nthe text"
	html := "Content-Type: text/html\r\n\r\n<p>the html</p>"
	tests := []struct {
		name, raw, text, html string
		types                 []string // content types of the attachments, in order
	}{
		{"alternative", mp("multipart/alternative", text, html), "the text", "<p>the html</p>", nil},
		{"alternative drops other renditions", mp("multipart/alternative", text, "Content-Type: text/enriched\r\n\r\nx", html), "the text", "<p>the html</p>", nil},
		{"second text part is an attachment", mp("multipart/mixed", text, "Content-Type: text/plain\r\n\r\nfooter"), "the text", "", []string{"text/plain"}},
		{"text with a filename is an attachment", mp("multipart/mixed", "Content-Type: text/plain; name=a.txt\r\n\r\nfile", text), "the text", "", []string{"text/plain"}},
		{"disposition attachment", mp("multipart/mixed", "Content-Type: text/html\r\nContent-Disposition: attachment\r\n\r\n<p>x</p>", text), "the text", "", []string{"text/html"}},
		{"forward is not a body", mp("multipart/mixed", "Content-Type: message/rfc822\r\n\r\nSubject: f\r\n\r\ninner text"), "", "", []string{"message/rfc822"}},
		{"report", mp("multipart/report", text, "Content-Type: message/delivery-status\r\n\r\nAction: failed", "Content-Type: text/rfc822-headers\r\n\r\nSubject: x"), "the text", "", []string{"message/delivery-status", "text/rfc822-headers"}},
		{"calendar in alternative", mp("multipart/alternative", text, "Content-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR"), "the text", "", []string{"text/calendar"}},
		{"digest parts are messages", mp("multipart/digest", "\r\nSubject: one\r\n\r\nbody"), "", "", []string{"message/rfc822"}},
		{"related", mp("multipart/related", html, "Content-Type: image/png\r\nContent-ID: <i@x>\r\n\r\npng"), "", "<p>the html</p>", []string{"image/png"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Parse([]byte(tt.raw), testReceived)
			var types []string
			for _, a := range m.Attachments {
				types = append(types, a.ContentType)
			}
			if m.Text != tt.text || m.HTML != tt.html || len(types) != len(tt.types) {
				t.Fatalf("text %q, html %q, attachments %q; want %q, %q, %q (problems %q)", m.Text, m.HTML, types, tt.text, tt.html, tt.types, m.Problems)
			}
			for i := range types {
				if types[i] != tt.types[i] {
					t.Errorf("attachment %d is %s, want %s", i, types[i], tt.types[i])
				}
			}
		})
	}
}
