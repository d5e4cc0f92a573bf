// Package mail reads raw inbound mail (RFC 5322 and MIME) into the fields of an AgentMail v0
// Message: addresses, subject, bodies, the new content of replies, a preview, attachments,
// threading ids and headers.
//
// Parse never fails. Roughly one real-world message in five breaks a strict MIME parser
// (go-message refuses it outright); here every kind of breakage degrades locally instead: a
// bad header line is dropped, a truncated multipart keeps the parts read so far, an unknown
// transfer encoding keeps its raw bytes, an unknown charset is decoded best-effort. What
// degraded is listed in Message.Problems for logs and metrics. The raw message itself is
// stored by the caller, so nothing is ever lost.
package mail

import (
	"fmt"
	"strings"
	"time"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Message is what Parse reads from a raw message, named after the wire fields it fills.
type Message struct {
	MessageID     string   // Message-ID as written, with its <>; "" when missing
	From          string   // "Name <a@b>" or "a@b"; Sender when From is unusable; "" if neither
	ReplyTo       []string // address strings as for From; never nil
	To            []string // never nil
	Cc            []string // never nil
	Bcc           []string // never nil
	Subject       string   // RFC 2047 decoded
	Text          string   // first text/plain body, UTF-8, LF line ends; "" for HTML-only mail
	HTML          string   // first text/html body, UTF-8, LF line ends
	ExtractedText string   // new content of Text (or of HTML as text): quotes and signature removed
	ExtractedHTML string   // HTML with quoted replies and signatures removed
	Preview       string   // start of ExtractedText, whitespace collapsed, at most previewRunes runes
	Attachments   []Attachment
	InReplyTo     string            // first msg-id of In-Reply-To, with <>
	References    []string          // msg-ids of References, with <>; never nil
	Headers       map[string]string // decoded values; a repeated field keeps its first occurrence (see headerMap)
	Size          int64             // len(raw)
	Date          time.Time         // the Date header; zero when missing or unparseable
	Timestamp     time.Time         // Date when plausible, else the receive time; UTC
	Problems      []string          // what had to be degraded or guessed, for logs and metrics
	Fingerprint   string            // "sha256:<hex>" of the fields the author wrote and the body: equal for copies of one mail
}

// Attachment is an attachment with its decoded content. Content may share memory with the raw
// message passed to Parse.
type Attachment struct {
	wire.Attachment
	Content []byte
}

// Parse reads raw RFC 5322 mail received at receivedAt (now when zero). It never fails and
// never panics: a broken part degrades to what can be read, and Problems says what happened.
func Parse(raw []byte, receivedAt time.Time) (m *Message) {
	if receivedAt.IsZero() {
		receivedAt = time.Now()
	}
	m = &Message{
		ReplyTo: []string{}, To: []string{}, Cc: []string{}, Bcc: []string{},
		References: []string{}, Attachments: []Attachment{}, Headers: map[string]string{},
		Size: int64(len(raw)), Timestamp: receivedAt.UTC(),
	}
	p := &parser{m: m}
	defer func() {
		// A last line of defence: the parser is written not to panic, but if a library does,
		// the fields read so far are kept.
		if r := recover(); r != nil {
			p.problemf(panicProblem+": %v", r)
		}
	}()
	content, stripped := stripMboxFrom(raw)
	if stripped {
		p.problemf("leading mbox From line stripped")
	}
	h, body, problems := readHeader(content)
	m.Problems = append(m.Problems, problems...)
	m.Fingerprint = fingerprint(h, body)
	p.readEnvelope(h, receivedAt)
	p.readBody(h, body)
	p.extract()
	return m
}

// panicProblem begins the problem Parse records when it recovered a panic: a bug to fix,
// which the fuzz test fails on.
const panicProblem = "parser panic"

// parser carries the state of one Parse call.
type parser struct {
	m                  *Message
	haveText, haveHTML bool
	entities           int // parts visited, bounded against hostile input
}

func (p *parser) problemf(format string, args ...any) {
	p.m.Problems = append(p.m.Problems, fmt.Sprintf(format, args...))
}

// readEnvelope fills the fields that come from the top-level header.
func (p *parser) readEnvelope(h header, receivedAt time.Time) {
	m := p.m
	m.Headers = headerMap(h)
	m.Subject = strings.TrimSpace(decodeHeaderText(h.Get("Subject")))
	m.MessageID = messageIDAsWritten(h.Get("Message-Id"))
	if ids := ParseMessageIDs(h.Get("In-Reply-To")); len(ids) > 0 {
		m.InReplyTo = ids[0]
	}
	m.References = ParseMessageIDs(h.Get("References"))

	from := p.addresses(h, "From")
	if len(from) == 0 {
		from = p.addresses(h, "Sender")
	}
	if len(from) > 0 {
		m.From = from[0]
	}
	m.ReplyTo = p.addresses(h, "Reply-To")
	m.To = p.addresses(h, "To")
	m.Cc = p.addresses(h, "Cc")
	m.Bcc = p.addresses(h, "Bcc")

	if v := h.Get("Date"); v != "" {
		t, ok := parseDate(v)
		switch {
		case !ok:
			p.problemf("date: unparseable %s: using receive time", quoteShort(v))
		case !plausibleDate(t, receivedAt):
			m.Date = t
			p.problemf("date: implausible %s: using receive time", quoteShort(v))
		default:
			m.Date = t
			m.Timestamp = t.UTC()
		}
	}
}

// addresses parses the address list in the header field key, noting a malformed one.
func (p *parser) addresses(h header, key string) []string {
	addrs, lenient := parseAddressList(h.Get(key))
	if lenient {
		p.problemf("%s: malformed address list read leniently", strings.ToLower(key))
	}
	return addrs
}

// extract derives the extracted bodies and the preview from the bodies. HTML-only mail gets
// its extracted text and preview from the extracted HTML converted to text.
func (p *parser) extract() {
	m := p.m
	var stripped, htmlText string // withoutRawText(m.HTML) and htmlToText(m.HTML), once known
	haveHTMLText := false
	if m.HTML != "" {
		stripped = withoutRawText(m.HTML)
		m.ExtractedHTML = extractStrippedHTML(m.HTML, stripped)
	}
	full := m.Text
	if full != "" {
		m.ExtractedText = extractText(full)
	} else if m.HTML != "" {
		if m.ExtractedHTML == m.HTML { // nothing extracted: the text of the whole HTML
			htmlText, haveHTMLText = strippedHTMLToText(stripped), true
			m.ExtractedText = extractText(htmlText)
		} else {
			m.ExtractedText = extractText(htmlToText(m.ExtractedHTML))
		}
	}
	m.Preview = preview(m.ExtractedText)
	if m.Preview == "" && m.HTML != "" && full == "" {
		if !haveHTMLText {
			htmlText = strippedHTMLToText(stripped)
		}
		full = htmlText
	}
	if m.Preview == "" {
		m.Preview = preview(full)
	}
}
