package mail

import (
	"bytes"
	"net/textproto"

	"github.com/emersion/go-message"
	gmtextproto "github.com/emersion/go-message/textproto"
)

// Header blocks (RFC 5322 §2.2). go-message's textproto.ReadHeader refuses a whole message
// over one bad line: a line without a colon, a key with a space in it, a continuation line
// before the first field. So the block is screened first and such lines are dropped (and
// noted), then go-message reads what is left.

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
func readHeader(raw []byte) (h message.Header, body []byte, problems []string) {
	var kept [][]byte
	pos, firstBad := 0, -1
	sawField, sawBlank := false, false
	var dropped [][]byte
	for pos < len(raw) {
		end := bytes.IndexByte(raw[pos:], '\n')
		next := len(raw)
		if end >= 0 {
			next = pos + end + 1
		}
		line := raw[pos:next]
		content := trimLineEnd(line)
		switch {
		case len(content) == 0:
			sawBlank = true
		case content[0] == ' ' || content[0] == '\t':
			if sawField {
				kept = append(kept, line)
			} else {
				dropped = append(dropped, content)
			}
		case isFieldLine(content):
			sawField = true
			kept = append(kept, line)
		default:
			if !sawField {
				return message.Header{}, raw, nil
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
	if !sawBlank && firstBad >= 0 {
		// No separator: the body began at the first line that was not a field.
		body = raw[firstBad:]
		kept = kept[:0]
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
	}
	for _, d := range dropped {
		problems = append(problems, "header: dropped malformed line "+quoteShort(string(d)))
	}
	if sawBlank && len(dropped) == 0 {
		// The common case: go-message reads the block as it is, blank line included.
		return message.Header{Header: readHeaderBlock(raw[:pos])}, body, problems
	}
	return message.Header{Header: readFields(kept)}, body, problems
}

// readHeaderBlock has go-message hold a screened header block that ends with an empty line.
// The block is cut into fields here and each field goes to go-message as written
// (Header.AddRaw), which unfolds and trims it exactly as textproto.ReadHeader does, without a
// bufio.Reader and a line buffer per field. Like ReadHeader, it stops at a line it would
// reject; screening leaves none, and the fields before one are kept.
func readHeaderBlock(block []byte) gmtextproto.Header {
	var stack [64][]byte
	fields := stack[:0]
	start := -1 // where the current field begins
	pos := 0
	for pos < len(block) {
		next := len(block)
		if end := bytes.IndexByte(block[pos:], '\n'); end >= 0 {
			next = pos + end + 1
		}
		if c := block[pos]; c == ' ' || c == '\t' {
			if start < 0 {
				break // ReadHeader refuses a block that starts with a continuation line
			}
		} else {
			if len(trimLineEnd(block[pos:next])) == 0 {
				break // the empty line that ends the block
			}
			if start >= 0 {
				fields = append(fields, block[start:pos])
			}
			start = pos
		}
		pos = next
	}
	if start >= 0 {
		fields = append(fields, block[start:pos])
	}
	var h gmtextproto.Header
	for i, f := range fields {
		colon := bytes.IndexByte(f, ':')
		if colon < 0 || !validFieldName(f[:colon]) {
			fields = fields[:i]
			break
		}
	}
	// AddRaw puts each field above the ones added before it, as in ReadHeader's reversed list.
	for i := len(fields) - 1; i >= 0; i-- {
		f := fields[i]
		if len(bytes.Trim(f[:bytes.IndexByte(f, ':')], " \t")) == 0 {
			continue // ReadHeader skips a field with an empty name
		}
		h.AddRaw(f)
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

// readFields hands the screened lines to go-message, normalised to CRLF and terminated.
func readFields(lines [][]byte) gmtextproto.Header {
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
func headerMap(h message.Header) map[string]string {
	out := make(map[string]string, h.Len())
	seen := make(map[string]bool, h.Len())
	fields := h.Fields()
	for fields.Next() {
		canon := fields.Key()
		if seen[canon] {
			continue
		}
		seen[canon] = true
		key := canon
		if raw, err := fields.Raw(); err == nil {
			if name, _, ok := bytes.Cut(raw, []byte(":")); ok {
				name = bytes.TrimSpace(name)
				if string(name) != canon { // the common, canonical spelling needs no new string
					if k := string(name); textproto.CanonicalMIMEHeaderKey(k) == canon {
						key = k
					}
				}
			}
		}
		out[key] = decodeHeaderText(fields.Value())
	}
	return out
}
