package local

import (
	"context"
	"net/smtp"
	"strings"
	"testing"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// sendWithHelo delivers msg over real SMTP, greeting with helo as curl does with the name of
// the file it uploads.
func sendWithHelo(t *testing.T, addr, helo, from, rcpt string, msg []byte) {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	steps := []func() error{
		func() error { return c.Hello(helo) },
		func() error { return c.Mail(from) },
		func() error { return c.Rcpt(rcpt) },
		func() error {
			w, err := c.Data()
			if err != nil {
				return err
			}
			if _, err := w.Write(msg); err != nil {
				return err
			}
			return w.Close()
		},
		c.Quit,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("SMTP: %v", err)
		}
	}
}

// Forged mail reaches an inbox over SMTP, and nothing about it claims a check passed: not the
// header block the local SES prepends (read back through the API's headers and the raw
// download), not the verdicts kept on the message, and not the Received line, which names the
// client by its address and never by the name it gave in EHLO. The forger's own
// Authentication-Results, which claims everything passed, is not the one the API shows.
func TestForgedMailIsNotAuthenticated(t *testing.T) {
	st := startStack(t)
	c := sender{t: t, st: st}
	inbox := c.inbox("support", "Support")
	claim := "Authentication-Results: amazonses.com; spf=pass; dkim=pass header.i=@bank.com; dmarc=pass header.from=bank.com\r\n"
	cases := []struct {
		name, messageID string
		msg             string
		dkim, result    string // SES verdict, Authentication-Results dkim=
	}{
		{"unsigned", "<wire-1@bank.com>", claim + forgedCEO, "GRAY", "none"},
		{"garbage DKIM-Signature", "<wire-2@bank.com>",
			garbageDKIM + claim + strings.Replace(forgedCEO, "wire-1", "wire-2", 1), "PROCESSING_FAILED", "temperror"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sendWithHelo(t, st.SMTPAddr, "mail.eml", "ceo@bank.com", inbox, []byte(tc.msg))
			m := c.message(inbox, tc.messageID)

			results := m.Headers["Authentication-Results"]
			for _, want := range []string{"spf=none (", "dkim=" + tc.result + " (", "dmarc=none ("} {
				if !strings.Contains(results, want) {
					t.Errorf("Authentication-Results %q lacks %q", results, want)
				}
			}
			if strings.Contains(results, "pass") {
				t.Errorf("Authentication-Results passes a check: %q", results)
			}
			if spf := m.Headers["Received-SPF"]; !strings.HasPrefix(spf, "none (") {
				t.Errorf("Received-SPF %q", spf)
			}
			if r := m.Headers["Received"]; !strings.HasPrefix(r, "from localhost ([127.0.0.1]) by inbound-smtp.") || strings.Contains(r, "mail.eml") {
				t.Errorf("Received %q", r)
			}
			for _, name := range []string{"X-SES-Spam-Verdict", "X-SES-Virus-Verdict"} {
				if v, ok := m.Headers[name]; ok {
					t.Errorf("%s: %q without scanning", name, v)
				}
			}

			var raw wire.RawMessageResponse
			c.ok("GET", "/v0/inboxes/"+pathSegment(inbox)+"/messages/"+pathSegment(tc.messageID)+"/raw", nil, &raw)
			data, _ := download(t, raw.DownloadURL)
			block, _, _ := strings.Cut(string(data), "X-SES-RECEIPT:")
			if strings.Contains(block, "pass") || strings.Contains(block, "mail.eml ") || strings.Contains(block, "from mail.eml") {
				t.Errorf("raw mail's SES header block:\n%s", block)
			}

			rec, err := st.Store.GetMessage(context.Background(), inbox, tc.messageID)
			if err != nil {
				t.Fatal(err)
			}
			if v := rec.Verdicts; v.SPF != "GRAY" || v.DKIM != tc.dkim || v.DMARC != "GRAY" || v.Spam != "DISABLED" || v.Virus != "DISABLED" {
				t.Errorf("stored verdicts %+v", v)
			}
		})
	}
}
