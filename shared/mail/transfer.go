package mail

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"mime/quotedprintable"
	"slices"
	"strings"
	"sync"
)

// Content-Transfer-Encoding (RFC 2045 §6). Strict decoders run first; when they reject the
// input, lenient ones recover what can be read: base64 with junk characters, stray padding in
// the middle or a truncated last quantum, and quoted-printable with "=" not followed by hex.
// Encodings nobody registered (x-uuencode, x-binhex, typos) leave the bytes as they are.

// decodeTransfer undoes the transfer encoding cte of body. The result may share memory with body.
func decodeTransfer(cte string, body []byte) (out []byte, problem string) {
	switch enc := normalizeToken(cte); enc {
	case "", "7bit", "8bit", "binary", "7-bit", "8-bit":
		return body, ""
	case "base64":
		dst := make([]byte, base64.StdEncoding.DecodedLen(len(body)))
		n, err := base64.StdEncoding.Decode(dst, body)
		if err == nil {
			return dst[:n], ""
		}
		return lenientBase64(body), "bad base64: decoded leniently"
	case "quoted-printable":
		// The decoded text is never longer than body: one buffer of that size (and the
		// room bytes.Buffer wants for a last read) holds it without regrowing.
		// quotedprintable.NewReader reads through a bufio.Reader of its own unless given one;
		// a pooled one saves allocating 4 KB for every part.
		br := qpReaders.Get().(*bufio.Reader)
		br.Reset(bytes.NewReader(body))
		var out bytes.Buffer
		out.Grow(len(body) + bytes.MinRead)
		_, err := out.ReadFrom(quotedprintable.NewReader(br))
		br.Reset(nil)
		qpReaders.Put(br)
		if err == nil {
			return out.Bytes(), ""
		}
		return lenientQuotedPrintable(body), "bad quoted-printable: decoded leniently"
	default:
		return body, "unknown transfer encoding " + quoteShort(enc) + ": kept raw"
	}
}

// qpReaders holds the bufio.Readers quoted-printable decoding reads through.
var qpReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

// normalizeToken lower-cases a header token and drops quotes, comments and trailing junk.
func normalizeToken(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, "; \t("); i >= 0 {
		v = v[:i]
	}
	return strings.ToLower(strings.Trim(v, `"'`))
}

// lenientBase64 decodes every run of base64 alphabet characters it finds, ignoring stray
// characters; "=" ends a run, so concatenated encodings each with their own padding decode
// too. A line that reads as prose (a footer a list server appended, say) is skipped.
func lenientBase64(src []byte) []byte {
	out := make([]byte, 0, len(src)*3/4+3)
	run := make([]byte, 0, 4096)
	flush := func() {
		if len(run)%4 == 1 {
			run = run[:len(run)-1]
		}
		if len(run) == 0 {
			return
		}
		out = slices.Grow(out, base64.RawStdEncoding.DecodedLen(len(run)))
		n, _ := base64.RawStdEncoding.Decode(out[len(out):cap(out)], run)
		out = out[:len(out)+n]
		run = run[:0]
	}
	for line := range bytes.Lines(src) {
		good, bad, blanks := 0, 0, 0
		for _, c := range bytes.TrimSpace(line) {
			switch {
			case isBase64(c) || c == '=':
				good++
			case c == ' ' || c == '\t':
				blanks++
			default:
				bad++
			}
		}
		if bad*4 > good || blanks > 1 {
			continue // prose, not base64
		}
		for _, c := range line {
			switch {
			case isBase64(c):
				run = append(run, c)
			case c == '=':
				flush()
			}
		}
	}
	flush()
	return out
}

func isBase64(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/'
}

// lenientQuotedPrintable decodes =XX escapes and soft line breaks and keeps every other "="
// literally.
func lenientQuotedPrintable(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		j := i + 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		switch {
		case j == len(b):
			i = j
		case b[j] == '\n':
			i = j
		case b[j] == '\r' && j+1 < len(b) && b[j+1] == '\n':
			i = j + 1
		case i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]):
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
		default:
			out = append(out, '=')
		}
	}
	return out
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}
