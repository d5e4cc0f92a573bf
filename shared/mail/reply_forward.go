package mail

import (
	"html"
	"regexp"
	"strings"

	"github.com/k3a/html2text"
)

// forwardRule is the line that opens a forwarded message, spelt as Gmail spells it (nine dashes
// after the words), so that clients and quote strippers that know Gmail's forwards know ours.
const forwardRule = "---------- Forwarded message ---------"

// ForwardBody returns the forwarded-message blocks that follow the forwarder's own words: a
// header block (From, Date, Subject, To of the original; empty ones left out) and the original
// body, once as plain text and once as HTML, in Gmail's layout:
//
//	---------- Forwarded message ---------
//	From: Ann <ann@example.com>
//	Date: Mon, 2 Jan 2006 at 15:04
//	Subject: Plans
//	To: bob@example.com
//
//	<original text>
//
// The HTML block is a div of class "gmail_quote" holding a "gmail_attr" header div, which is
// what Gmail and quote strippers recognise. When the original has only one of text and HTML,
// the other is derived from it (HTML to text with html2text, text to HTML escaped with <br>),
// so a forward can always carry both. origDate is shown as given. The caller appends these
// blocks to its own text and HTML and re-attaches the original's attachments.
func ForwardBody(origFrom, origDate, origSubject, origTo, text, htmlBody string) (textOut, htmlOut string) {
	fields := [][2]string{{"From", origFrom}, {"Date", origDate}, {"Subject", origSubject}, {"To", origTo}}

	if text == "" && htmlBody != "" {
		text = html2text.HTML2TextWithOptions(htmlBody, html2text.WithUnixLineBreaks(), html2text.WithLinksInnerText())
	}
	var t strings.Builder
	t.WriteString(forwardRule + "\n")
	for _, f := range fields {
		if v := strings.TrimSpace(f[1]); v != "" {
			t.WriteString(f[0] + ": " + v + "\n")
		}
	}
	t.WriteString("\n")
	t.WriteString(text)

	inner := forwardHTMLInner(htmlBody)
	if htmlBody == "" {
		inner = strings.ReplaceAll(html.EscapeString(strings.ReplaceAll(text, "\r\n", "\n")), "\n", "<br>\n")
	}
	var h strings.Builder
	h.WriteString(`<div class="gmail_quote"><div dir="ltr" class="gmail_attr">` + forwardRule + "<br>\n")
	for _, f := range fields {
		v := strings.TrimSpace(f[1])
		if v == "" {
			continue
		}
		if f[0] == "From" {
			h.WriteString("From: " + forwardHTMLFrom(v) + "<br>\n")
			continue
		}
		h.WriteString(f[0] + ": " + html.EscapeString(v) + "<br>\n")
	}
	h.WriteString("</div><br><br>\n")
	h.WriteString(inner)
	h.WriteString("\n</div>")
	return t.String(), h.String()
}

// forwardHTMLFrom shows the sender as Gmail does: the name in bold, then the address.
func forwardHTMLFrom(from string) string {
	a, err := composeAddressParser.Parse(from)
	if err != nil || a.Name == "" {
		return html.EscapeString(from)
	}
	return `<strong class="gmail_sendername" dir="auto">` + html.EscapeString(a.Name) + `</strong> <span dir="auto">&lt;` +
		html.EscapeString(a.Address) + `&gt;</span>`
}

var (
	forwardBodyOpen  = regexp.MustCompile(`(?is)<body[^>]*>`)
	forwardBodyClose = regexp.MustCompile(`(?is)</body\s*>`)
)

// forwardHTMLInner returns what can be nested in a div: the content of <body> when the original
// is a whole document (its <head> and styles would otherwise leak into the forward's page), the
// fragment itself otherwise.
func forwardHTMLInner(doc string) string {
	open := forwardBodyOpen.FindStringIndex(doc)
	if open == nil {
		return doc
	}
	rest := doc[open[1]:]
	if end := forwardBodyClose.FindStringIndex(rest); end != nil {
		rest = rest[:end[0]]
	}
	return strings.TrimSpace(rest)
}
