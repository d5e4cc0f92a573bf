package mail

import (
	"strings"
	"testing"
	"time"
)

func TestFingerprint(t *testing.T) {
	const original = "From: Alice <alice@example.com>\r\nTo: agent@x.org\r\nSubject: Plans for the week\r\n" +
		"Message-ID: <one@example.com>\r\nDate: Tue, 02 Jan 2035 10:00:00 +0000\r\n\r\nShall we meet?\r\n"
	fp := Parse([]byte(original), time.Time{}).Fingerprint
	if !strings.HasPrefix(fp, "sha256:") || len(fp) != len("sha256:")+64 {
		t.Fatalf("fingerprint %q", fp)
	}
	same := []struct{ name, raw string }{
		{"trace fields added in transit", "Return-Path: <bounce@example.com>\r\n" +
			"Received: from mx.example.com (mx.example.com [192.0.2.1])\r\n by inbound-smtp.us-east-1.amazonaws.com with SMTP id abc;\r\n Tue, 02 Jan 2035 10:00:01 +0000\r\n" +
			"Received-SPF: pass (spfCheck: domain of example.com designates 192.0.2.1 as permitted sender)\r\n" +
			"Authentication-Results: amazonses.com; spf=pass; dkim=pass header.i=@example.com\r\n" +
			"X-SES-Spam-Verdict: PASS\r\nX-SES-RECEIPT: AEFBQUFBQUFB\r\nX-SES-DKIM-SIGNATURE: a=rsa-sha256; b=xyz\r\n" +
			"ARC-Seal: i=1; a=rsa-sha256; cv=none; d=relay.example; b=abc\r\n" +
			"ARC-Message-Signature: i=1; a=rsa-sha256; d=relay.example; b=def\r\n" +
			"DKIM-Signature: v=1; a=rsa-sha256; d=relay.example; b=ghi\r\n" + original},
		{"bare LF line ends", strings.ReplaceAll(original, "\r\n", "\n")},
		{"a field refolded", strings.Replace(original, "Subject: Plans for the week", "Subject: Plans\r\n  for\tthe week", 1)},
		{"field name case", strings.Replace(original, "Message-ID:", "Message-Id:", 1)},
		{"trailing empty lines", original + "\r\n\r\n"},
		{"an mbox From line", "From alice@example.com Tue Jan  2 10:00:00 2035\n" + original},
	}
	for _, c := range same {
		if got := Parse([]byte(c.raw), time.Time{}).Fingerprint; got != fp {
			t.Errorf("%s: fingerprint differs from the original's", c.name)
		}
	}
	different := []struct{ name, raw string }{
		{"another body", strings.Replace(original, "Shall we meet?", "Shall we meet at noon?", 1)},
		{"another subject", strings.Replace(original, "Plans for the week", "Plans", 1)},
		{"another Message-ID", strings.Replace(original, "<one@example.com>", "<two@example.com>", 1)},
		{"another Date", strings.Replace(original, "10:00:00", "10:00:01", 1)},
		{"a list footer", original + "--\r\nlist@example.com\r\n"},
		{"an added list field", "List-Id: <list.example.com>\r\n" + original},
		{"blanks inside a body line", strings.Replace(original, "Shall we", "Shall  we", 1)},
	}
	for _, c := range different {
		if got := Parse([]byte(c.raw), time.Time{}).Fingerprint; got == fp {
			t.Errorf("%s: fingerprint equals the original's", c.name)
		}
	}
}
