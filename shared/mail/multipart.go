package mail

import "bytes"

// Multipart bodies (RFC 2046 §5.1). go-message's reader, like mime/multipart, stops at the
// first thing it does not expect: a part header it cannot read, text between a part and the
// next delimiter, a missing close-delimiter. Mail in the wild has all of these, so parts are cut
// here directly from the bytes, and each part's header is read as leniently as the message's.

// splitMultipart cuts body at the delimiter lines of boundary and returns each part's raw
// bytes (header and body). The preamble and epilogue are dropped. closed reports whether the
// close-delimiter "--boundary--" was seen; without it the last part runs to the end of body,
// so a truncated message still yields every part read so far.
func splitMultipart(body []byte, boundary string) (parts [][]byte, closed bool) {
	delim := []byte("--" + boundary)
	start := -1 // where the current part's bytes begin; -1 while in the preamble
	pos := 0
	for pos < len(body) {
		i := bytes.Index(body[pos:], delim)
		if i < 0 {
			break
		}
		i += pos
		pos = i + len(delim)
		if i > 0 && body[i-1] != '\n' {
			continue // the boundary text inside a line is not a delimiter
		}
		rest := body[pos:]
		isClose := bytes.HasPrefix(rest, []byte("--"))
		if !isClose && !lineEndsAfterSpace(rest) {
			continue // "--boundary-and-more": a longer, different boundary
		}
		if start >= 0 && start <= i {
			parts = append(parts, trimLineEnd(body[start:i]))
		}
		if isClose {
			return parts, true
		}
		if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
			start = pos + nl + 1
		} else {
			start = len(body)
		}
		pos = start
	}
	if start >= 0 && start < len(body) {
		parts = append(parts, body[start:])
	}
	return parts, false
}

// lineEndsAfterSpace reports whether b starts with optional blanks and then a line end or EOF.
func lineEndsAfterSpace(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t':
		case '\r', '\n':
			return true
		default:
			return false
		}
	}
	return true
}

// trimLineEnd drops one trailing line break: the CRLF before a delimiter belongs to the
// delimiter, not to the part.
func trimLineEnd(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}
