package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"

	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// Outgoing is a message to send, as the API hands it over after validation of the request's
// shape. Compose turns it into the raw MIME that SES sends.
type Outgoing struct {
	From        string   // exactly one address, "Name <addr>" or "addr"
	ReplyTo     []string // written as Reply-To
	To          []string
	Cc          []string
	Bcc         []string // checked, never written: Bcc recipients exist only in the envelope
	Subject     string   // line breaks become spaces; leading and trailing space is dropped
	Text        string
	HTML        string
	Attachments []OutgoingAttachment
	Headers     map[string]string // extra header fields; composeExtraHeaders says what is refused
	InReplyTo   string            // a Message-ID, with or without angle brackets
	References  []string          // Message-IDs, oldest first, with or without angle brackets
	MessageID   string            // set by the caller, with or without angle brackets; SES replaces it on send
	Date        time.Time         // zero means now
}

// OutgoingAttachment is one file to attach. An attachment with a ContentID and an "inline" (or
// empty) disposition is an inline part of the HTML body, referenced from it as "cid:<ContentID>".
type OutgoingAttachment struct {
	Filename           string
	ContentType        string // empty: guessed from the filename, then from the content
	ContentDisposition string // "inline" | "attachment" | "" (inline when ContentID is set, else attachment)
	ContentID          string // without angle brackets
	Content            []byte
}

// ComposeError is an Outgoing that cannot be turned into mail because of what the caller gave.
// Field names the offending input in the API's terms ("to[1]", "headers.X-Foo",
// "attachments[0].content_type"), so the HTTP layer can answer 400 with a path.
type ComposeError struct {
	Field  string
	Reason string
}

func (e *ComposeError) Error() string { return e.Field + ": " + e.Reason }

func composeErrorf(field, format string, args ...any) error {
	return &ComposeError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Compose renders o as an RFC 5322 message with MIME (RFC 2045–2049) that SES accepts as raw
// content. The structure is the one mail clients produce:
//
//	text only                  text/plain
//	html only                  text/html
//	text and html              multipart/alternative (text/plain, text/html)
//	inline parts (Content-ID)  multipart/related (html, inline parts…) in place of the html
//	attachments                multipart/mixed (the above, attachments…)
//
// Text parts are UTF-8 and quoted-printable, which keeps every line within 76 characters
// whatever the input (SES refuses lines over 1,000, RFC 5322 says 998). Attachments are base64
// in 76-character lines. Non-ASCII subjects, display names and header values use RFC 2047
// encoded words; non-ASCII or long filenames use RFC 2231 parameters. Bcc is not written.
func Compose(o Outgoing) ([]byte, error) {
	h, err := composeEnvelopeHeader(o)
	if err != nil {
		return nil, err
	}
	body, err := composeBody(o)
	if err != nil {
		return nil, err
	}
	// The root part's Content-* fields join the message header.
	h = append(h, body.fields...)

	var buf bytes.Buffer
	if err := textproto.WriteHeader(&buf, composeHeader(h)); err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	if err := body.writeBody(&buf); err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	return buf.Bytes(), nil
}

// composeField is one header field, kept in the order it will be written.
type composeField struct{ key, value string }

// composeHeader builds a textproto.Header that writes fields in the given order (it writes the
// last added field first, for trace fields) and folded by composeFold.
func composeHeader(fields []composeField) textproto.Header {
	var h textproto.Header
	for i := len(fields) - 1; i >= 0; i-- {
		h.AddRaw(composeFold(fields[i].key, fields[i].value))
	}
	return h
}

// composeFold formats one header field, folding it (RFC 5322 §2.2.3) before a space wherever a
// line would pass 76 characters. Folding only inserts CRLF before existing white space, so
// unfolding gives back the exact value. go-message's own folder gives up on a segment longer
// than its soft limit and then fills lines up to 998 characters; every value Compose writes is
// made of short space-separated pieces (encoded words of at most 75 characters, addresses,
// RFC 2231 continuations), so this keeps lines short.
func composeFold(key, value string) []byte {
	const limit = 76
	var b bytes.Buffer
	b.WriteString(key + ":")
	lineLen := b.Len()
	for i, word := range strings.Split(value, " ") {
		if i > 0 && lineLen+1+len(word) > limit && lineLen > 1 {
			b.WriteString("\r\n")
			lineLen = 0
		}
		b.WriteString(" " + word)
		lineLen += 1 + len(word)
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func composeEnvelopeHeader(o Outgoing) ([]composeField, error) {
	var h []composeField
	date := o.Date
	if date.IsZero() {
		date = time.Now()
	}
	var dh gomail.Header
	dh.SetDate(date)
	h = append(h, composeField{"Date", dh.Get("Date")})

	from, err := composeAddresses("from", []string{o.From})
	if err != nil {
		return nil, err
	}
	if len(from) != 1 {
		return nil, composeErrorf("from", "exactly one sender address is needed, got %d", len(from))
	}
	h = append(h, composeField{"From", composeAddress(from[0])})
	for _, l := range []struct {
		key, field string
		list       []string
	}{{"Reply-To", "reply_to", o.ReplyTo}, {"To", "to", o.To}, {"Cc", "cc", o.Cc}, {"", "bcc", o.Bcc}} {
		addrs, err := composeAddresses(l.field, l.list)
		if err != nil {
			return nil, err
		}
		if l.key != "" && len(addrs) > 0 {
			s := make([]string, len(addrs))
			for i, a := range addrs {
				s[i] = composeAddress(a)
			}
			h = append(h, composeField{l.key, strings.Join(s, ", ")})
		}
	}

	if subject := strings.TrimSpace(composeOneLine(o.Subject)); subject != "" {
		h = append(h, composeField{"Subject", composeEncodeWords(subject)})
	}
	if o.MessageID != "" {
		id, err := composeMsgID("message_id", o.MessageID)
		if err != nil {
			return nil, err
		}
		h = append(h, composeField{"Message-ID", id})
	}
	if o.InReplyTo != "" {
		id, err := composeMsgID("in_reply_to", o.InReplyTo)
		if err != nil {
			return nil, err
		}
		h = append(h, composeField{"In-Reply-To", id})
	}
	if len(o.References) > 0 {
		ids := make([]string, 0, len(o.References))
		for i, r := range o.References {
			id, err := composeMsgID(fmt.Sprintf("references[%d]", i), r)
			if err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		h = append(h, composeField{"References", strings.Join(ids, " ")})
	}

	extra, err := composeExtraHeaders(o.Headers)
	if err != nil {
		return nil, err
	}
	h = append(h, extra...)
	h = append(h, composeField{"MIME-Version", "1.0"})
	return h, nil
}

// composeOneLine turns each line break in a subject into a single space: a header cannot hold
// them, and a subject with a stray newline is a caller's slip, not an attack worth a 400.
func composeOneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}

// composeMsgID returns id in its header form, "<left@right>". Ids are accepted with or without
// the angle brackets; the "@" is not required, because references copied from real mail
// sometimes lack it.
func composeMsgID(field, id string) (string, error) {
	id = strings.TrimSpace(id)
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	if id == "" {
		return "", composeErrorf(field, "empty message id")
	}
	for _, r := range id {
		if r <= ' ' || r >= 0x7f || r == '<' || r == '>' {
			return "", composeErrorf(field, "message id %q contains %q", id, r)
		}
	}
	return "<" + id + ">", nil
}

// composePart is a node of the MIME tree: a leaf with a body, or a multipart with children.
type composePart struct {
	fields   []composeField
	boundary string // set for multipart
	children []*composePart
	body     []byte // leaf: the decoded content
	encoding string // leaf: "quoted-printable" or "base64"
}

func composeBody(o Outgoing) (*composePart, error) {
	var related, mixed []*composePart
	for i, a := range o.Attachments {
		p, inline, err := composeAttachment(i, a, o.HTML != "")
		if err != nil {
			return nil, err
		}
		if inline {
			related = append(related, p)
		} else {
			mixed = append(mixed, p)
		}
	}

	var text, html *composePart
	if o.Text != "" || o.HTML == "" {
		text = composeTextPart("text/plain", o.Text)
	}
	if o.HTML != "" {
		html = composeTextPart("text/html", o.HTML)
		if len(related) > 0 {
			html = composeMultipart("multipart/related", map[string]string{"type": "text/html"}, append([]*composePart{html}, related...))
		}
	}

	var root *composePart
	switch {
	case text != nil && html != nil:
		root = composeMultipart("multipart/alternative", nil, []*composePart{text, html})
	case html != nil:
		root = html
	default:
		root = text
	}
	if len(mixed) > 0 {
		root = composeMultipart("multipart/mixed", nil, append([]*composePart{root}, mixed...))
	}
	return root, nil
}

func composeTextPart(mediaType, s string) *composePart {
	// One line-break convention; the quoted-printable writer turns "\n" into CRLF.
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return &composePart{
		fields: []composeField{
			{"Content-Type", mediaType + "; charset=utf-8"},
			{"Content-Transfer-Encoding", "quoted-printable"},
		},
		body:     []byte(s),
		encoding: "quoted-printable",
	}
}

func composeMultipart(mediaType string, params map[string]string, children []*composePart) *composePart {
	boundary := composeBoundary()
	all := map[string]string{"boundary": boundary}
	for k, v := range params {
		all[k] = v
	}
	return &composePart{
		fields:   []composeField{{"Content-Type", mime.FormatMediaType(mediaType, all)}},
		boundary: boundary,
		children: children,
	}
}

// composeBoundary returns a random boundary containing "=_", a sequence that cannot occur in
// quoted-printable or base64 output, so it never collides with a part's content.
func composeBoundary() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return "=_" + hex.EncodeToString(b[:])
}

// composeAttachment builds the part for attachment i and reports whether it belongs in the
// multipart/related container of the HTML body.
func composeAttachment(i int, a OutgoingAttachment, hasHTML bool) (*composePart, bool, error) {
	field := func(name string) string { return fmt.Sprintf("attachments[%d].%s", i, name) }

	filename := strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, strings.TrimSpace(a.Filename))

	cid := strings.TrimSpace(a.ContentID)
	cid = strings.TrimSuffix(strings.TrimPrefix(cid, "<"), ">")
	for _, r := range cid {
		if r <= ' ' || r >= 0x7f || r == '<' || r == '>' {
			return nil, false, composeErrorf(field("content_id"), "content id %q contains %q", a.ContentID, r)
		}
	}

	disp := strings.ToLower(strings.TrimSpace(a.ContentDisposition))
	switch disp {
	case "":
		disp = "attachment"
		if cid != "" {
			disp = "inline"
		}
	case "inline", "attachment":
	default:
		return nil, false, composeErrorf(field("content_disposition"), "must be \"inline\" or \"attachment\", not %q", a.ContentDisposition)
	}

	ctype := strings.TrimSpace(a.ContentType)
	if ctype == "" {
		ctype = mime.TypeByExtension(strings.ToLower(path.Ext(filename)))
	}
	if ctype == "" {
		ctype = http.DetectContentType(a.Content)
	}
	mediaType, params, err := mime.ParseMediaType(ctype)
	if err != nil || !strings.Contains(mediaType, "/") {
		return nil, false, composeErrorf(field("content_type"), "%q is not a MIME type", a.ContentType)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		// RFC 2046 §5.1: a multipart entity cannot be base64-encoded.
		return nil, false, composeErrorf(field("content_type"), "%q cannot be attached; use application/octet-stream", mediaType)
	}
	delete(params, "name")

	var fields []composeField
	typeParams := [][2]string{}
	for _, k := range composeSortedKeys(params) {
		typeParams = append(typeParams, [2]string{k, params[k]})
	}
	if filename != "" {
		typeParams = append(typeParams, [2]string{"name", filename})
	}
	fields = append(fields, composeField{"Content-Type", composeParams(mediaType, typeParams)})
	var dispParams [][2]string
	if filename != "" {
		dispParams = append(dispParams, [2]string{"filename", filename})
	}
	fields = append(fields, composeField{"Content-Disposition", composeParams(disp, dispParams)})
	if cid != "" {
		fields = append(fields, composeField{"Content-ID", "<" + cid + ">"})
	}
	fields = append(fields, composeField{"Content-Transfer-Encoding", "base64"})

	p := &composePart{fields: fields, body: a.Content, encoding: "base64"}
	return p, disp == "inline" && cid != "" && hasHTML, nil
}

func composeSortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// writeBody writes the part's body (everything after its header) to w.
func (p *composePart) writeBody(w io.Writer) error {
	if p.children != nil {
		mw := textproto.NewMultipartWriter(w)
		if err := mw.SetBoundary(p.boundary); err != nil {
			return err
		}
		for _, c := range p.children {
			pw, err := mw.CreatePart(composeHeader(c.fields))
			if err != nil {
				return err
			}
			if err := c.writeBody(pw); err != nil {
				return err
			}
		}
		return mw.Close()
	}
	switch p.encoding {
	case "quoted-printable":
		qw := quotedprintable.NewWriter(w)
		if _, err := qw.Write(p.body); err != nil {
			return err
		}
		return qw.Close()
	default:
		return composeBase64(w, p.body)
	}
}

// composeBase64 writes b in base64, 76 characters per line (RFC 2045 §6.8).
func composeBase64(w io.Writer, b []byte) error {
	enc := base64.StdEncoding.EncodeToString(b)
	var buf bytes.Buffer
	buf.Grow(len(enc) + len(enc)/76*2 + 2)
	for len(enc) > 76 {
		buf.WriteString(enc[:76])
		buf.WriteString("\r\n")
		enc = enc[76:]
	}
	buf.WriteString(enc)
	if enc != "" {
		buf.WriteString("\r\n")
	}
	_, err := w.Write(buf.Bytes())
	return err
}
