package mail

import (
	"bytes"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	htmlcharset "golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/charmap"
)

// Charset handling. Everything that leaves this package is valid UTF-8: a declared charset is
// decoded with the tables of github.com/emersion/go-message/charset (IANA and WHATWG names);
// text without a charset, or with one nobody knows, is kept when it already is valid UTF-8 and
// otherwise read as Windows-1252, which is what such mail nearly always is (and the WHATWG
// decoding of "iso-8859-1" and "us-ascii" labels, whose 8-bit bytes are Windows-1252 in practice).

// decodeText converts b, labelled with the charset label (a Content-Type parameter, possibly
// empty), to UTF-8; text that needs no conversion also gets its CRLFs turned into LFs on the
// way. problem is non-empty when the result is a guess.
func decodeText(b []byte, label string) (s, problem string) {
	label = normalizeCharset(label)
	switch label {
	case "", "us-ascii", "ascii", "us", "ansi_x3.4-1968", "iso646-us", "unknown-8bit", "x-unknown", "unknown", "default":
		if utf8.Valid(b) {
			return lfString(b), ""
		}
		return windows1252(b), "8-bit text without a known charset read as windows-1252"
	case "utf-8", "utf8", "unicode-1-1-utf-8":
		if utf8.Valid(b) {
			return lfString(b), ""
		}
		return strings.ToValidUTF8(string(b), "\uFFFD"), "invalid UTF-8 replaced with U+FFFD"
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "windows-1252", "cp1252", "x-cp1252":
		return windows1252(b), ""
	}
	r, err := charset.Reader(label, bytes.NewReader(b))
	if err != nil {
		s, _ := decodeText(b, "")
		return s, "unknown charset " + quoteShort(label) + ": best-effort decoding"
	}
	out, err := io.ReadAll(r)
	if err != nil {
		s, _ := decodeText(b, "")
		return s, "charset " + quoteShort(label) + " failed to decode: best-effort decoding"
	}
	if !utf8.Valid(out) {
		return strings.ToValidUTF8(string(out), "\uFFFD"), ""
	}
	return string(out), ""
}

// decodeHTMLText is decodeText for text/html: unlabeled 8-bit HTML first gets a chance to name
// its charset in a <meta> tag (HTML's own prescan, golang.org/x/net/html/charset).
func decodeHTMLText(b []byte, label string) (s, problem string) {
	if normalizeCharset(label) != "" {
		return decodeText(b, label)
	}
	if utf8.Valid(b) {
		return lfString(b), "" // what decodeText does with valid unlabeled text, without checking again
	}
	if _, name, _ := htmlcharset.DetermineEncoding(b, "text/html"); name != "windows-1252" {
		return decodeText(b, name)
	}
	return decodeText(b, "")
}

// lfString returns b as a string with CRLF line ends turned into LF, copying b once.
func lfString(b []byte) string {
	i := bytes.Index(b, []byte("\r\n"))
	if i < 0 {
		return string(b)
	}
	var s strings.Builder
	s.Grow(len(b))
	for ; i >= 0; i = bytes.Index(b, []byte("\r\n")) {
		s.Write(b[:i])
		s.WriteByte('\n')
		b = b[i+2:]
	}
	s.Write(b)
	return s.String()
}

func normalizeCharset(label string) string {
	return strings.ToLower(strings.Trim(label, " \t\"'"))
}

// windows1252 decodes b as Windows-1252 with the table of golang.org/x/text's decoder
// (charmap.Windows1252), which never fails: every byte stands for one character.
func windows1252(b []byte) string {
	n := 0
	for _, c := range b {
		n += len(windows1252Table[c])
	}
	var s strings.Builder
	s.Grow(n)
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] < utf8.RuneSelf {
			i++
		}
		s.Write(b[:i]) // ASCII stays as it is
		b = b[i:]
		for len(b) > 0 && b[0] >= utf8.RuneSelf {
			s.WriteString(windows1252Table[b[0]])
			b = b[1:]
		}
	}
	return s.String()
}

// windows1252Table is the UTF-8 encoding of each byte decoded as Windows-1252.
var windows1252Table = func() (t [256]string) {
	for i := range t {
		t[i] = string(charmap.Windows1252.DecodeByte(byte(i)))
	}
	return t
}()

// toUTF8 makes a raw header value valid UTF-8: RFC 6532 allows UTF-8 in headers, and senders
// that put Latin-1 there instead are read as Windows-1252.
func toUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return windows1252([]byte(s))
}

// wordDecoder decodes RFC 2047 encoded-words. Its charset reader never fails: a word in an
// unknown charset is decoded best-effort instead of making the whole header undecodable (the
// standard library gives up on the entire value in that case).
var wordDecoder = &mime.WordDecoder{CharsetReader: func(label string, input io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(input)
	if err != nil {
		return nil, err
	}
	s, _ := decodeText(b, label)
	return strings.NewReader(s), nil
}}

// decodeHeaderText returns a header value as UTF-8 text with its encoded-words decoded.
func decodeHeaderText(v string) string {
	v = toUTF8(v)
	if !strings.Contains(v, "=?") {
		return v
	}
	d, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return strings.ToValidUTF8(d, "\uFFFD")
}

// quoteShort quotes s for a problem note, cut to a readable length.
func quoteShort(s string) string {
	const max = 60
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return `"` + s + `"`
}
