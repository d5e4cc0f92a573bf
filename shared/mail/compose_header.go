package mail

import (
	"encoding/base64"
	"fmt"
	"mime"
	"net/textproto"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// composeReserved are the header fields a caller's Headers map may not set, because Compose
// writes them from the message's own fields, because SES owns them, or because a duplicate
// would change what the message means. Content-* fields are refused as a family.
var composeReserved = map[string]string{
	"From":           "use from",
	"Sender":         "the sender is the inbox",
	"To":             "use to",
	"Cc":             "use cc",
	"Bcc":            "use bcc",
	"Reply-To":       "use reply_to",
	"Subject":        "use subject",
	"Date":           "set by Pigeon",
	"Message-Id":     "set by SES",
	"In-Reply-To":    "set by reply",
	"References":     "set by reply",
	"Mime-Version":   "set by Pigeon",
	"Return-Path":    "set by SES",
	"Received":       "a trace field",
	"Dkim-Signature": "set by SES",
}

// composeExtraHeaders validates the caller's extra header fields and returns them in a stable
// order (sorted by name). Names must be RFC 5322 field names (printable ASCII without ":");
// values may not contain CR or LF (header injection) or other control characters. Non-ASCII
// values are written as RFC 2047 encoded words. X-SES-* fields are refused: SES reads some of
// them as instructions (X-SES-CONFIGURATION-SET, X-SES-MESSAGE-TAGS), and the tags are how
// delivery events find their message.
func composeExtraHeaders(headers map[string]string) ([]composeField, error) {
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	sort.Strings(names)

	seen := map[string]string{}
	var out []composeField
	for _, name := range names {
		value := headers[name]
		field := "headers." + name
		if name == "" {
			return nil, composeErrorf("headers", "empty header name")
		}
		for i := 0; i < len(name); i++ {
			if c := name[i]; c < '!' || c > '~' || c == ':' {
				return nil, composeErrorf(field, "header names are printable ASCII without spaces or ':'")
			}
		}
		canon := textproto.CanonicalMIMEHeaderKey(name)
		if why, ok := composeReserved[canon]; ok {
			return nil, composeErrorf(field, "%s cannot be set as a header (%s)", name, why)
		}
		if strings.HasPrefix(canon, "Content-") {
			return nil, composeErrorf(field, "%s cannot be set as a header (Content-* fields describe the MIME structure)", name)
		}
		if strings.HasPrefix(canon, "X-Ses-") {
			return nil, composeErrorf(field, "%s cannot be set as a header (X-SES-* fields are instructions to SES)", name)
		}
		if prev, ok := seen[canon]; ok {
			return nil, composeErrorf(field, "%s and %s are the same header", prev, name)
		}
		seen[canon] = name

		if !utf8.ValidString(value) {
			return nil, composeErrorf(field, "value is not valid UTF-8")
		}
		for _, r := range value {
			if r == '\r' || r == '\n' {
				return nil, composeErrorf(field, "value contains a line break")
			}
			if (r < ' ' && r != '\t') || r == 0x7f {
				return nil, composeErrorf(field, "value contains control character %q", r)
			}
		}
		value = composeEncodeWords(strings.TrimSpace(value))
		// Folding happens at white space; a longer unbroken run would exceed the 998-octet line.
		for _, word := range strings.Fields(value) {
			if len(word) > 900 {
				return nil, composeErrorf(field, "value has %d characters without a space; at most 900 fit on a header line", len(word))
			}
		}
		out = append(out, composeField{name, value})
	}
	return out, nil
}

// composeEncodeWords returns s as it may appear in an unstructured header field: unchanged when
// it is printable ASCII, else as RFC 2047 encoded words. Go's mime encoder writes words of up
// to 75 characters, which after "Subject: " already passes the 76 that RFC 2047 §2 allows per
// line; these words are at most 60 characters and split only between characters, so folding
// between them keeps lines short and every word decodes on its own. Text that is mostly ASCII
// uses Q (readable), other text B (shorter).
func composeEncodeWords(s string) string {
	ascii := true
	escapes := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || c < ' ' || c == 0x7f {
			ascii = false
			escapes++
		}
	}
	if ascii && !strings.Contains(s, "=?") {
		return s
	}
	const maxPayload = 60 - len("=?utf-8?q?") - len("?=")
	useB := escapes*2 > len(s)
	var words []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			if useB {
				words = append(words, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(cur.String()))+"?=")
			} else {
				words = append(words, "=?utf-8?q?"+cur.String()+"?=")
			}
			cur.Reset()
		}
	}
	for _, r := range s {
		var enc string
		switch {
		case useB:
			// Count the base64 length of what the word would hold.
			if base64.StdEncoding.EncodedLen(cur.Len()+utf8.RuneLen(r)) > maxPayload {
				flush()
			}
			cur.WriteRune(r)
			continue
		case r == ' ':
			enc = "_"
		case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("!*+-/", r)):
			// The characters RFC 2047 §5(3) allows in a word that stands in a display name.
			enc = string(r)
		default:
			var b [utf8.UTFMax]byte
			n := utf8.EncodeRune(b[:], r)
			for _, c := range b[:n] {
				enc += fmt.Sprintf("=%02X", c)
			}
		}
		if cur.Len()+len(enc) > maxPayload {
			flush()
		}
		cur.WriteString(enc)
	}
	flush()
	return strings.Join(words, " ")
}

// composeParams formats a Content-Type or Content-Disposition value with its parameters, in the
// given order. Short ASCII values are written as tokens or quoted strings; non-ASCII or long
// ones (a filename of a few dozen CJK characters) use RFC 2231 extended values, split into
// numbered continuations so no line grows past what folding can handle:
//
//	filename*0*=utf-8''%E6%8A%A5%E5%91%8A...; filename*1*=%E2%80%A6.pdf
func composeParams(value string, params [][2]string) string {
	var b strings.Builder
	b.WriteString(value)
	for _, p := range params {
		k, v := p[0], p[1]
		b.WriteString("; ")
		if composeIsASCII(v) && len(v) <= 50 && !strings.ContainsAny(v, "\x00\x7f") {
			// FormatMediaType quotes what needs quoting and escapes '"' and '\'.
			formatted := mime.FormatMediaType("x/x", map[string]string{k: v})
			if formatted != "" {
				b.WriteString(strings.TrimPrefix(formatted, "x/x; "))
				continue
			}
		}
		chunks := composeRFC2231Chunks(v, 40)
		if len(chunks) == 1 {
			b.WriteString(k + "*=utf-8''" + chunks[0])
			continue
		}
		for i, c := range chunks {
			if i > 0 {
				b.WriteString("; ")
			}
			if i == 0 {
				b.WriteString(k + "*0*=utf-8''" + c)
			} else {
				b.WriteString(k + "*" + strconv.Itoa(i) + "*=" + c)
			}
		}
	}
	return b.String()
}

// composeRFC2231Chunks percent-encodes s (RFC 2231 §4, attribute-char) and cuts the result into
// pieces of at most max characters without splitting a %XX triplet.
func composeRFC2231Chunks(s string, max int) []string {
	const hexDigits = "0123456789ABCDEF"
	var chunks []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		var enc string
		if composeAttrChar(c) {
			enc = string(c)
		} else {
			enc = string([]byte{'%', hexDigits[c>>4], hexDigits[c&15]})
		}
		if cur.Len()+len(enc) > max {
			chunks = append(chunks, cur.String())
			cur.Reset()
		}
		cur.WriteString(enc)
	}
	return append(chunks, cur.String())
}

// composeAttrChar reports whether c may appear unencoded in an RFC 2231 extended value:
// ASCII printable except space, tspecials (RFC 2045) and "*", "'", "%".
func composeAttrChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	return !strings.ContainsRune("()<>@,;:\\\"/[]?=*'%", rune(c))
}
