package mail

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The MIME tree (RFC 2045, 2046): which parts are the bodies and which are attachments.
//
//   - The first text/plain and the first text/html that are not attachments are the bodies.
//     A part is an attachment when its disposition says so or it has a filename (except a
//     single-part message, whose only part is its body whatever it is called).
//   - In multipart/alternative the renditions that did not become a body (text/enriched,
//     Apple's text/watch-html, a second text/plain) are dropped: they repeat the body.
//   - message/rfc822 (a forward) is an attachment; its own bodies are not ours.
//   - multipart/report (bounces, read receipts; RFC 6522): the first part is the human-readable
//     text, every other part (delivery-status, the returned message or headers) an attachment.
//   - text/calendar is an attachment, named invite.ics when it has no name.
//   - Everything else is an attachment.

const (
	maxDepth    = 32   // deeper multiparts are kept as opaque attachments
	maxEntities = 5000 // parts beyond this are not looked at
)

// role is what a part's position allows it to be.
type role int

const (
	roleContent     role = iota // may be a body
	roleAlternative             // a rendition in multipart/alternative
	roleAttachment              // a report part: an attachment whatever its type
)

// entity is one node of the MIME tree.
type entity struct {
	header      header
	body        []byte
	path        string // "1.2" (IMAP numbering, RFC 3501 §6.4.5); "" for the top level
	defaultType string // text/plain, or message/rfc822 inside multipart/digest
}

// readBody walks the top-level entity. If the walk panics despite everything, the raw body is
// kept as the text when it looks like text.
func (p *parser) readBody(h header, body []byte) {
	defer func() {
		if r := recover(); r != nil {
			p.problemf("body: parser panic: %v: raw body kept", r)
			if !p.haveText && looksTextual(body) {
				p.m.Text, _ = decodeText(body, "")
				p.haveText = true
			}
		}
	}()
	p.walk(entity{header: h, body: body, defaultType: "text/plain"}, 0, roleContent)
}

func (p *parser) walk(e entity, depth int, r role) {
	p.entities++
	if p.entities > maxEntities {
		if p.entities == maxEntities+1 {
			p.problemf("more than %d parts: the rest is ignored", maxEntities)
		}
		return
	}
	mt, params := p.contentType(e)
	if strings.HasPrefix(mt, "multipart/") {
		if depth >= maxDepth {
			p.problemf("part %s: multipart nested deeper than %d kept as an attachment", partName(e.path), maxDepth)
			disp, filename := disposition(e, params)
			p.attach(e, "application/octet-stream", disp, filename, e.body)
			return
		}
		if p.walkMultipart(e, mt, params, depth, r) {
			return
		}
		// No usable parts: the body is read as a single part of its own.
		mt = "application/octet-stream"
		if looksTextual(e.body) {
			mt = "text/plain"
		}
	}
	p.leaf(e, mt, params, r)
}

// walkMultipart visits the parts of a multipart entity; false means it had none to visit.
func (p *parser) walkMultipart(e entity, mt string, params map[string]string, depth int, r role) bool {
	boundary := params["boundary"]
	if boundary == "" {
		p.problemf("part %s: %s without a boundary: read as one part", partName(e.path), mt)
		return false
	}
	parts, closed := splitMultipart(e.body, boundary)
	if len(parts) == 0 {
		p.problemf("part %s: %s with no parts: read as one part", partName(e.path), mt)
		return false
	}
	if !closed {
		p.problemf("part %s: %s missing its closing boundary: kept %d parts read", partName(e.path), mt, len(parts))
	}
	childDefault := "text/plain"
	if mt == "multipart/digest" {
		childDefault = "message/rfc822"
	}
	for i, raw := range parts {
		h, body, problems := readHeader(raw)
		path := strconv.Itoa(i + 1)
		if e.path != "" {
			path = e.path + "." + path
		}
		for _, pr := range problems {
			p.problemf("part %s: %s", path, pr)
		}
		child := roleContent
		switch {
		case r == roleAttachment:
			child = roleAttachment
		case mt == "multipart/alternative":
			child = roleAlternative
		case mt == "multipart/report" && i > 0:
			child = roleAttachment
		}
		p.walk(entity{header: h, body: body, path: path, defaultType: childDefault}, depth+1, child)
	}
	return true
}

// contentType returns the media type of e (its default when absent or unreadable) and its
// parameters.
func (p *parser) contentType(e entity) (string, map[string]string) {
	v := e.header.Get("Content-Type")
	if strings.TrimSpace(v) == "" {
		return e.defaultType, map[string]string{}
	}
	mt, params, lenient := parseParamHeader(v)
	if lenient {
		p.problemf("part %s: malformed Content-Type %s read leniently", partName(e.path), quoteShort(v))
	}
	mt = strings.Map(func(r rune) rune {
		if r == '/' || r == '.' || r == '+' || r == '-' || r == '_' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			return r
		}
		return -1 // "text/plain>" and other junk seen in the wild
	}, mt)
	switch {
	case mt == "text":
		mt = "text/plain"
	case strings.Count(mt, "/") != 1 || strings.HasPrefix(mt, "/") || strings.HasSuffix(mt, "/"):
		p.problemf("part %s: invalid media type %s: using %s", partName(e.path), quoteShort(mt), e.defaultType)
		mt = e.defaultType
	}
	return mt, params
}

// leaf handles a part that is not multipart.
func (p *parser) leaf(e entity, mt string, params map[string]string, r role) {
	content, problem := decodeTransfer(e.header.Get("Content-Transfer-Encoding"), e.body)
	if problem != "" {
		p.problemf("part %s: %s", partName(e.path), problem)
	}
	disp, filename := disposition(e, params)
	isBodyType := mt == "text/plain" || mt == "text/html"
	if isBodyType && r != roleAttachment && disp != "attachment" && (filename == "" || e.path == "") {
		switch {
		case mt == "text/plain" && !p.haveText:
			p.m.Text = p.bodyText(e, content, params["charset"], decodeText)
			p.haveText = true
			return
		case mt == "text/html" && !p.haveHTML:
			p.m.HTML = p.bodyText(e, content, params["charset"], decodeHTMLText)
			p.haveHTML = true
			return
		}
	}
	if r == roleAlternative && strings.HasPrefix(mt, "text/") && mt != "text/calendar" && filename == "" {
		return // another rendition of a body already taken
	}
	p.attach(e, mt, disp, filename, content)
}

// bodyText decodes a body part to UTF-8 text with LF line ends and without NUL bytes.
func (p *parser) bodyText(e entity, content []byte, charset string, decode func([]byte, string) (string, string)) string {
	s, problem := decode(content, charset)
	if problem != "" {
		p.problemf("part %s: %s", partName(e.path), problem)
	}
	if strings.IndexByte(s, 0) >= 0 {
		p.problemf("part %s: NUL bytes removed", partName(e.path))
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return strings.ReplaceAll(s, "\r\n", "\n")
}

// partName names a part in problem notes.
func partName(path string) string {
	if path == "" {
		return "1"
	}
	return path
}

// looksTextual reports whether b reads as text: valid UTF-8, or 8-bit text with few control
// characters and no NUL in its first kilobytes.
func looksTextual(b []byte) bool {
	sample := b[:min(len(b), 8192)]
	if bytes.IndexByte(sample, 0) >= 0 {
		return false
	}
	if utf8.Valid(sample) {
		return true
	}
	controls := 0
	for _, c := range sample {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' {
			controls++
		}
	}
	return controls*100 <= len(sample)
}
