package local

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

const forgedCEO = "From: CEO <ceo@bank.com>\r\n" +
	"To: support@pigeon.local\r\n" +
	"Subject: Wire the money today\r\n" +
	"Message-ID: <wire-1@bank.com>\r\n" +
	"\r\n" +
	"Send 1,000,000 to account 42 now.\r\n"

// garbageDKIM is a DKIM-Signature whose tags are all there but whose hashes are made up.
const garbageDKIM = "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=bank.com; s=s1;\r\n" +
	" h=from:to:subject; bh=Z2FyYmFnZQ==; b=Z2FyYmFnZWdhcmJhZ2VnYXJiYWdl\r\n"

// signed signs msg for d=bank.com, s=s1 with a fresh Ed25519 key and returns the message and
// the key's DNS TXT record.
func signed(t *testing.T, msg string) ([]byte, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = dkim.Sign(&out, strings.NewReader(msg), &dkim.SignOptions{
		Domain: "bank.com", Selector: "s1", Signer: priv, Hash: crypto.SHA256,
		HeaderKeys: []string{"From", "To", "Subject", "Message-ID"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
}

// published is a local DNS stand-in holding records.
func published(records map[string]string) func(string) ([]string, error) {
	return func(name string) ([]string, error) {
		if r, ok := records[name]; ok {
			return []string{r}, nil
		}
		return nil, nil
	}
}

// Each case is a message the local stack receives and what it must report: SES's DKIM verdict
// and the dkim= result of Authentication-Results. SPF and DMARC are never evaluated, so they are
// GRAY / none whatever the message; spam and virus are not scanned (DISABLED).
func TestAuthenticateDKIM(t *testing.T) {
	good, key := signed(t, forgedCEO)
	tampered := bytes.Replace(good, []byte("account 42"), []byte("account 43"), 1)
	keys := published(map[string]string{"s1._domainkey.bank.com": key})
	otherKey := func() string { _, k := signed(t, forgedCEO); return k }()
	cases := []struct {
		name    string
		msg     []byte
		lookup  func(string) ([]string, error)
		verdict string
		result  string
	}{
		{"unsigned", []byte(forgedCEO), nil, "GRAY", "none"},
		{"garbage signature, no key", []byte(garbageDKIM + forgedCEO), nil, "PROCESSING_FAILED", "temperror"},
		{"garbage signature, key published", []byte(garbageDKIM + forgedCEO), keys, "FAIL", "permerror"}, // rsa signature, ed25519 key
		{"malformed signature", []byte("DKIM-Signature: this is not a signature\r\n" + forgedCEO), nil, "FAIL", "permerror"},
		{"signed, no key published", good, nil, "PROCESSING_FAILED", "temperror"},
		{"signed, key published", good, keys, "PASS", "pass"},
		{"signed, body changed", tampered, keys, "FAIL", "fail"},
		{"signed, another key published", good, published(map[string]string{"s1._domainkey.bank.com": otherKey}), "FAIL", "fail"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := Envelope{MessageID: "id1", From: "ceo@bank.com", Recipients: []string{"support@pigeon.local"},
				Helo: "mail.eml", RemoteIP: "127.0.0.1", Received: time.Unix(0, 0)}
			a := Authenticate(env, c.msg, c.lookup)
			want := Verdicts{Spam: "DISABLED", Virus: "DISABLED", SPF: "GRAY", DKIM: c.verdict, DMARC: "GRAY"}
			if a.Verdicts != want {
				t.Errorf("verdicts %+v, want %+v", a.Verdicts, want)
			}
			if len(a.DKIM) != 1 || a.DKIM[0].Result != c.result {
				t.Fatalf("dkim results %+v, want one %q", a.DKIM, c.result)
			}
			results := authResults(t, SESHeaders(env, "us-east-1", a, c.msg))
			if !strings.Contains(results, "dkim="+c.result) || !strings.Contains(results, "spf=none") ||
				!strings.Contains(results, "dmarc=none (") || !strings.HasSuffix(results, " header.from=bank.com;") {
				t.Errorf("Authentication-Results: %s", results)
			}
			if c.result != "pass" && strings.Contains(results, "=pass") {
				t.Errorf("Authentication-Results passes a check: %s", results)
			}
		})
	}
}

// authResults is the Authentication-Results value of a header block, unfolded.
func authResults(t *testing.T, header []byte) string {
	t.Helper()
	for _, line := range strings.Split(strings.ReplaceAll(string(header), "\r\n ", " "), "\r\n") {
		if v, ok := strings.CutPrefix(line, "Authentication-Results: "); ok {
			return v
		}
	}
	t.Fatalf("no Authentication-Results in\n%s", header)
	return ""
}

// The SES header block never passes what was not checked, never carries the name the client
// gave in EHLO on the Received line, and leaves out the scanning verdicts nobody computed.
func TestSESHeadersHonest(t *testing.T) {
	env := Envelope{MessageID: "abc", From: "ceo@bank.com", Recipients: []string{"support@pigeon.local"},
		Helo: "mail.eml", RemoteIP: "127.0.0.1", Received: time.Unix(0, 0)}
	msg := []byte(forgedCEO)
	h := string(SESHeaders(env, "us-east-1", Authenticate(env, msg, nil), msg))
	want := "Return-Path: <ceo@bank.com>\r\n" +
		"Received: from localhost ([127.0.0.1])\r\n by inbound-smtp.us-east-1.amazonaws.com with SMTP id abc\r\n" +
		" for support@pigeon.local;\r\n Thu, 01 Jan 1970 00:00:00 +0000 (UTC)\r\n" +
		"Received-SPF: none (spfCheck: the local stack does not look up SPF records, SPF not evaluated)" +
		" client-ip=127.0.0.1; envelope-from=ceo@bank.com; helo=mail.eml;\r\n" +
		"Authentication-Results: amazonses.com;\r\n" +
		" spf=none (spfCheck: the local stack does not look up SPF records, SPF not evaluated) smtp.mailfrom=ceo@bank.com;\r\n" +
		" dkim=none (message not signed);\r\n" +
		" dmarc=none (the local stack does not look up DMARC policies, DMARC not evaluated) header.from=bank.com;\r\n"
	if !strings.HasPrefix(h, want) {
		t.Errorf("header block:\n%s\nwant it to start with:\n%s", h, want)
	}
	if strings.Contains(h, "X-SES-Spam-Verdict") || strings.Contains(h, "X-SES-Virus-Verdict") {
		t.Errorf("scanning verdicts written without scanning:\n%s", h)
	}
	env.RemoteIP = "192.0.2.7"
	if h := string(SESHeaders(env, "us-east-1", Authenticate(env, msg, nil), msg)); !strings.Contains(h, "Received: from unknown ([192.0.2.7])\r\n") {
		t.Errorf("Received line for a non-loopback client:\n%s", h)
	}
}
