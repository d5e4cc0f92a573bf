package local

import (
	"bytes"
	"errors"
	"net"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// This file decides what the local stack reports about a received message's origin. It checks
// only what it can check without the internet, and says so instead of passing what it did not
// check (the mapping is in the package comment).

// SES verdict values (receipt.*Verdict.status and the X-SES-*-Verdict headers).
const (
	VerdictPass             = "PASS"
	VerdictFail             = "FAIL"
	VerdictGray             = "GRAY"              // not signed (DKIM), no policy found (SPF, DMARC)
	VerdictProcessingFailed = "PROCESSING_FAILED" // an issue kept SES from checking
	VerdictDisabled         = "DISABLED"          // the receipt rule does not scan
)

// maxDKIMSignatures bounds the signatures checked per message; more are ignored.
const maxDKIMSignatures = 5

// Authentication is what the local stack established about a message: SES's verdicts and the
// Authentication-Results clauses that state the same results in RFC 8601's terms.
type Authentication struct {
	Verdicts Verdicts
	SPF      AuthResult
	DKIM     []AuthResult // one per DKIM-Signature checked; a single "none" when unsigned
	DMARC    AuthResult
}

// AuthResult is one Authentication-Results method result: the method (spf, dkim, dmarc), its
// result keyword (pass, fail, none, temperror, permerror), why, written as a comment, and the
// properties naming what was checked.
type AuthResult struct {
	Method string
	Result string
	Reason string
	Props  string
}

// String is the result as an Authentication-Results clause: "dkim=none (message not signed)".
func (r AuthResult) String() string {
	s := r.Method + "=" + r.Result
	if r.Reason != "" {
		s += " (" + r.Reason + ")"
	}
	if r.Props != "" {
		s += " " + r.Props
	}
	return s
}

// Authenticate evaluates a message as the local stack can, offline. Spam and virus: not
// scanned (DISABLED). SPF and DMARC need the sender's DNS, which the local stack does not ask:
// GRAY, "none". DKIM: each signature is verified against the keys lookupTXT publishes (TXT
// records by name, <selector>._domainkey.<domain>; nil publishes none); see dkimVerdict.
func Authenticate(env Envelope, original []byte, lookupTXT func(name string) ([]string, error)) Authentication {
	a := Authentication{
		Verdicts: Verdicts{Spam: VerdictDisabled, Virus: VerdictDisabled, SPF: VerdictGray, DMARC: VerdictGray},
		SPF: AuthResult{Method: "spf", Result: "none", Reason: "spfCheck: the local stack does not look up SPF records, SPF not evaluated",
			Props: "smtp.mailfrom=" + env.From},
		DMARC: AuthResult{Method: "dmarc", Result: "none", Reason: "the local stack does not look up DMARC policies, DMARC not evaluated",
			Props: "header.from=" + domainOf(headerFrom(original))},
	}
	a.Verdicts.DKIM, a.DKIM = dkimVerdict(original, lookupTXT)
	return a
}

// dkimVerdict verifies the message's DKIM signatures. Unsigned: GRAY, dkim=none. A signature
// whose key is not published locally cannot be checked, as when SES cannot reach the signer's
// DNS: temperror, and PROCESSING_FAILED unless another signature decides. A malformed
// signature, a body that does not match its hash, or a signature that does not verify:
// permerror or fail, and FAIL. Any signature that verifies: pass, PASS.
func dkimVerdict(original []byte, lookupTXT func(name string) ([]string, error)) (string, []AuthResult) {
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(original), &dkim.VerifyOptions{
		LookupTXT:        localTXT(lookupTXT),
		MaxVerifications: maxDKIMSignatures,
	})
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		return VerdictProcessingFailed, []AuthResult{{Method: "dkim", Result: "temperror", Reason: authComment(err.Error())}}
	}
	if len(verifs) == 0 {
		return VerdictGray, []AuthResult{{Method: "dkim", Result: "none", Reason: "message not signed"}}
	}
	verdict := VerdictProcessingFailed
	results := make([]AuthResult, 0, len(verifs))
	for _, v := range verifs {
		r := AuthResult{Method: "dkim", Result: dkimResult(v.Err)}
		switch {
		case r.Result == "pass":
			verdict = VerdictPass
		case r.Result != "temperror" && verdict != VerdictPass:
			verdict = VerdictFail
		}
		if v.Err != nil {
			r.Reason = authComment(v.Err.Error())
		}
		switch {
		case v.Identifier != "":
			r.Props = "header.i=" + v.Identifier
		case v.Domain != "":
			r.Props = "header.d=" + v.Domain
		}
		results = append(results, r)
	}
	return verdict, results
}

// dkimResult is the RFC 8601 result of one signature's verification error.
func dkimResult(err error) string {
	switch {
	case err == nil:
		return "pass"
	case dkim.IsTempFail(err):
		return "temperror"
	case dkim.IsPermFail(err):
		return "permerror"
	}
	return "fail"
}

// localTXT answers DKIM key lookups from the local stand-in only, never from the network. A
// name it does not publish is a temporary failure: the key may well exist in the real DNS.
func localTXT(lookup func(name string) ([]string, error)) func(name string) ([]string, error) {
	return func(name string) ([]string, error) {
		if lookup != nil {
			if txt, err := lookup(name); err != nil || len(txt) > 0 {
				return txt, err
			}
		}
		return nil, &net.DNSError{Err: "no key published to the local stack", Name: name, IsTemporary: true}
	}
}

// authComment makes text safe inside an Authentication-Results comment: no parentheses,
// semicolons or line breaks, and no "dkim: " prefixes.
func authComment(s string) string {
	s = strings.ReplaceAll(s, "dkim: ", "")
	return strings.Map(func(r rune) rune {
		switch r {
		case '(', ')', ';', '\r', '\n', '\\':
			return ' '
		}
		return r
	}, s)
}
