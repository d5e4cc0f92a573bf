package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"
)

// A mail's fingerprint tells whether two arrivals are the same mail. The same mail reaches an
// inbox more than once when a sending MTA retries after a lost reply, or when it comes both
// directly and through a forwarder that leaves it intact; each copy carries different trace
// fields from its path. The Message-ID alone cannot tell: generators reuse ids (fixed ids in
// templates, ids derived from a ticket number), and anyone who learns the id of a mail on its
// way can send another mail with it first.
//
// The fingerprint is SHA-256 over the header fields that the author's side wrote, in order,
// and the body. Fields added or rewritten in transit are left out (see transitField). Field
// names are lower-cased and values unfolded with runs of blanks reduced to one space, as DKIM's
// "relaxed" header canonicalisation does (RFC 6376 §3.4.2), because relays refold long fields.
// Body line ends are counted as CRLF and trailing empty lines are ignored, because relays
// convert bare LFs and pad the end (RFC 6376 §3.4.3 "simple" body canonicalisation).

// fingerprint returns "sha256:<hex>" for a parsed header block and body.
func fingerprint(h header, body []byte) string {
	sum := sha256.New()
	for _, f := range h.fields {
		if transitField(f.name) {
			continue
		}
		sum.Write(bytes.ToLower(f.name))
		sum.Write([]byte{':'})
		sum.Write(collapseBlanks(unfold(f.value)))
		sum.Write([]byte("\r\n"))
	}
	sum.Write([]byte("\r\n"))
	writeCanonicalBody(sum, body)
	return "sha256:" + hex.EncodeToString(sum.Sum(nil))
}

// transitField reports the fields that relays and the receiving service add in transit: trace
// fields (RFC 5321 §4.4 Received and Return-Path, RFC 7208 §9.1 Received-SPF), authentication
// results and seals (RFC 8601, RFC 8617 ARC-*), signatures added by relays (DKIM-Signature;
// an author's own signature is dropped too, which cannot make two different mails equal: it
// signs fields and a body that are compared anyway), and SES's X-SES-* fields.
func transitField(name []byte) bool {
	switch n := string(bytes.ToLower(name)); n {
	case "received", "return-path", "received-spf", "dkim-signature", "authentication-results":
		return true
	default:
		return strings.HasPrefix(n, "arc-") || strings.HasPrefix(n, "x-ses-")
	}
}

// collapseBlanks trims a value and reduces each run of spaces and tabs in it to one space.
func collapseBlanks(v string) []byte {
	out := make([]byte, 0, len(v))
	blank := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' || c == '\t' {
			blank = len(out) > 0
			continue
		}
		if blank {
			out = append(out, ' ')
			blank = false
		}
		out = append(out, c)
	}
	return out
}

// writeCanonicalBody writes body without trailing empty lines and with every line end as CRLF.
func writeCanonicalBody(w hash.Hash, body []byte) {
	for line := range bytes.Lines(bytes.TrimRight(body, "\r\n")) {
		w.Write(trimLineEnd(line))
		w.Write([]byte("\r\n"))
	}
}

// HeaderOnlyFingerprint is the fingerprint of a mail of size bytes that was parsed from its
// header block alone (too large to read whole): the header's fingerprint, with the size
// standing in for the body that was not read.
func HeaderOnlyFingerprint(header *Message, size int64) string {
	sum := sha256.Sum256([]byte(header.Fingerprint + " size " + strconv.FormatInt(size, 10)))
	return "sha256:" + hex.EncodeToString(sum[:])
}
