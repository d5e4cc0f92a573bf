package mail

import (
	"bytes"
	"net/textproto"
	"strings"
)

// Header blocks (RFC 5322 §2.2). go-message's textproto.ReadHeader refuses a whole message
// over one bad line: a line without a colon, a key with a space in it, a continuation line
// before the first field. So the block is screened first and such lines are dropped (and
// noted). What is left is only field lines and their continuations, which need nothing more
// than cutting into fields; a field's value is unfolded when it is asked for, as go-message's
// textproto.Header does it, so that the fields of a part nobody asks about cost nothing.

// stripMboxFrom removes the "From sender date" line that mbox files put before each message.
func stripMboxFrom(raw []byte) ([]byte, bool) {
	if !bytes.HasPrefix(raw, []byte("From ")) {
		return raw, false
	}
	i := bytes.IndexByte(raw, '\n')
	if i < 0 {
		return nil, true
	}
	return raw[i+1:], true
}

// readHeader splits an entity (a message or a part) into its header and body.
//
// The header ends at the first empty line. Lines in it that are not fields are dropped,
// except when no empty line follows at all: then the body is taken to start at the first such
// line (mail that forgot the separator). An entity whose first line is not a field has no
// header: all of it is body, as for a MIME part that starts without one.
func readHeader(raw []byte) (h header, body []byte, problems []string) {
	pos, firstBad := 0, -1
	sawField, sawBlank := false, false
	var dropped [][]byte
	for pos < len(raw) {
		end := bytes.IndexByte(raw[pos:], '\n')
		next := len(raw)
		if end >= 0 {
			next = pos + end + 1
		}
		content := trimLineEnd(raw[pos:next])
		switch {
		case len(content) == 0:
			sawBlank = true
		case content[0] == ' ' || content[0] == '\t':
			if !sawField {
				dropped = append(dropped, content)
			}
		case isFieldLine(content):
			sawField = true
		default:
			if !sawField {
				return header{}, raw, nil
			}
			if firstBad < 0 {
				firstBad = pos
			}
			dropped = append(dropped, content)
		}
		pos = next
		if sawBlank {
			break
		}
	}
	body = raw[pos:]
	if sawBlank && len(dropped) == 0 {
		// The common case: the block is read as it is, blank line included.
		return readHeaderBlock(raw[:pos]), body, nil
	}
	var kept [][]byte
	if !sawBlank && firstBad >= 0 {
		// No separator: the body began at the first line that was not a field.
		body = raw[firstBad:]
		for p := 0; p < firstBad; {
			end := bytes.IndexByte(raw[p:firstBad], '\n')
			if end < 0 {
				kept = append(kept, raw[p:firstBad])
				break
			}
			kept = append(kept, raw[p:p+end+1])
			p += end + 1
		}
		dropped = nil
		problems = append(problems, "header not followed by an empty line: body starts at the first non-header line")
	} else {
		kept = keptLines(raw[:pos])
	}
	for _, d := range dropped {
		problems = append(problems, "header: dropped malformed line "+quoteShort(string(d)))
	}
	return readFields(kept), body, problems
}

// keptLines returns the lines of a header block that screening keeps: the field lines and the
// continuation lines after the first field.
func keptLines(block []byte) (kept [][]byte) {
	sawField := false
	for line := range bytes.Lines(block) {
		content := trimLineEnd(line)
		switch {
		case len(content) == 0:
		case content[0] == ' ' || content[0] == '\t':
			if sawField {
				kept = append(kept, line)
			}
		case isFieldLine(content):
			sawField = true
			kept = append(kept, line)
		}
	}
	return kept
}

// header is a header block: its fields in order, not yet unfolded.
type header struct {
	fields []headerField
}

// headerField is one field: its name without surrounding blanks, and the raw bytes after the
// colon, continuation lines and line ends included.
type headerField struct {
	name, value []byte
}

// Get returns the unfolded value of the first field named key, or "". Like go-message's
// Header.Get, names match as canonical MIME header keys (textproto.CanonicalMIMEHeaderKey);
// for the field names Get is called with, which are tokens, that is ASCII case-insensitively.
func (h header) Get(key string) string {
	for _, f := range h.fields {
		if equalFoldASCII(f.name, key) {
			return unfold(f.value)
		}
	}
	return ""
}

func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i, c := range b {
		if d := s[i]; c != d {
			if c|0x20 != d|0x20 || c|0x20 < 'a' || c|0x20 > 'z' {
				return false
			}
		}
	}
	return true
}

// unfold returns a field value on one line, as go-message's textproto does: each line without
// its line end and surrounding blanks, empty lines dropped, the rest joined by single spaces.
func unfold(v []byte) string {
	if i := bytes.IndexByte(v, '\n'); i < 0 || i == len(v)-1 { // one line, the common case
		if i >= 0 {
			v = v[:i]
		}
		return string(trimFoldedLine(v))
	}
	var b strings.Builder
	b.Grow(len(v))
	for len(v) > 0 {
		line := v
		if i := bytes.IndexByte(v, '\n'); i >= 0 {
			line, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		if line = trimFoldedLine(line); len(line) > 0 {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.Write(line)
		}
	}
	return b.String()
}

// trimFoldedLine drops one trailing CR, then blanks on both sides.
func trimFoldedLine(l []byte) []byte {
	l = bytes.TrimSuffix(l, []byte("\r"))
	return bytes.Trim(l, " \t")
}

// readHeaderBlock cuts a screened header block that ends with an empty line into fields. It
// stops where go-message's ReadHeader would fail (screening leaves nothing of the kind), keeping
// the fields before, and skips fields with an empty name as ReadHeader does.
func readHeaderBlock(block []byte) header {
	h := header{fields: make([]headerField, 0, 1+bytes.Count(block, []byte("\n")))}
	start := -1 // where the current field begins
	pos := 0
	add := func(f []byte) bool {
		colon := bytes.IndexByte(f, ':')
		if colon < 0 || !validFieldName(f[:colon]) {
			return false
		}
		if name := bytes.Trim(f[:colon], " \t"); len(name) > 0 {
			h.fields = append(h.fields, headerField{name: name, value: f[colon+1:]})
		}
		return true
	}
	for pos < len(block) {
		next := len(block)
		if end := bytes.IndexByte(block[pos:], '\n'); end >= 0 {
			next = pos + end + 1
		}
		if c := block[pos]; c == ' ' || c == '\t' {
			if start < 0 {
				return h // ReadHeader refuses a block that starts with a continuation line
			}
		} else {
			if len(trimLineEnd(block[pos:next])) == 0 {
				break // the empty line that ends the block
			}
			if start >= 0 && !add(block[start:pos]) {
				return h
			}
			start = pos
		}
		pos = next
	}
	if start >= 0 {
		add(block[start:pos])
	}
	return h
}

// validFieldName reports whether name, without surrounding blanks, is printable ASCII without
// ":", as ReadHeader requires.
func validFieldName(name []byte) bool {
	for _, c := range bytes.Trim(name, " \t") {
		if c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

// readFields reads the screened lines as a header block, normalised to CRLF and terminated.
func readFields(lines [][]byte) header {
	n := 2
	for _, l := range lines {
		n += len(l) + 1
	}
	buf := make([]byte, 0, n)
	for _, l := range lines {
		buf = append(buf, trimLineEnd(l)...)
		buf = append(buf, '\r', '\n')
	}
	buf = append(buf, '\r', '\n')
	return readHeaderBlock(buf)
}

// isFieldLine reports whether line starts with a field name (printable ASCII but ":") and a
// colon, allowing blanks before the colon as old mail does.
func isFieldLine(line []byte) bool {
	for i, c := range line {
		switch {
		case c == ':':
			return i > 0
		case c == ' ' || c == '\t':
			rest := bytes.TrimLeft(line[i:], " \t")
			return i > 0 && len(rest) > 0 && rest[0] == ':'
		case c < 33 || c > 126:
			return false
		}
	}
	return false
}

// headerMap returns the decoded header fields as a map. A field that occurs more than once
// (Received, DKIM-Signature, a duplicated Subject) keeps its first, topmost occurrence, which
// is the one mail clients show and, for trace fields, the hop nearest the recipient. Keys are
// spelled as in that first occurrence; values are unfolded and RFC 2047 decoded.
func headerMap(h header) map[string]string {
	out := make(map[string]string, len(h.fields))
	seen := make(map[string]bool, len(h.fields))
	for _, f := range h.fields {
		key := string(f.name)
		canon := textproto.CanonicalMIMEHeaderKey(key)
		if seen[canon] {
			continue
		}
		seen[canon] = true
		out[key] = decodeHeaderText(unfold(f.value))
	}
	return out
}
