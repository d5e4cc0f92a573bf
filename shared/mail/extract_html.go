package mail

import (
	"bytes"
	"encoding/binary"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Extracting the new content of an HTML reply with golang.org/x/net/html.
//
// Removed where found:
//   - Gmail: <div class="gmail_quote"> (attribution and quote), gmail_extra, gmail_signature;
//   - Apple Mail and Thunderbird: <blockquote type="cite">, with the attribution line above it
//     (Thunderbird's <div class="moz-cite-prefix">) and moz-signature;
//   - Yahoo: yahoo_quoted; Outlook on the web: <div id="Signature">;
//   - any <blockquote> directly under an "On … wrote:" line.
//
// Cut, together with everything after it in the document:
//   - Outlook: <div id="divRplyFwdMsg"> (the history follows it as siblings, not children),
//     or a <div>/<p> whose text starts "From: … Sent: … Subject:" (desktop Outlook);
//   - "-----Original Message-----" and a "--" signature separator line.
//
// As in plain text, forwarded messages (Gmail's "Forwarded message", Outlook's "Subject: FW:")
// are content and stay.

// quoteHints are lower-case strings one of which appears in any HTML extractHTML changes
// (together with hasSignatureSeparator and the Outlook header test below); HTML without them
// is returned as it is, unparsed.
var quoteHints = []string{"gmail_", "cite", "divrplyfwdmsg", "yahoo_quoted", "moz-", "signature", "original message", "wrote", "schrieb", "écrit"}

// mayHaveQuote reports whether lower-cased HTML can contain anything extractHTML removes.
func mayHaveQuote(lower []byte) bool {
	for _, h := range quoteHints {
		if bytes.Contains(lower, []byte(h)) {
			return true
		}
	}
	if bytes.Contains(lower, []byte("from:")) && bytes.Contains(lower, []byte("subject:")) {
		return true
	}
	return hasSignatureSeparator(lower)
}

// hasSignatureSeparator reports whether html has "--" alone between two tags, as in
// "<br>-- <br>"; "--" elsewhere (comments, text) does not count.
func hasSignatureSeparator(html []byte) bool {
	for i := 0; ; {
		j := bytes.Index(html[i:], []byte("--"))
		if j < 0 {
			return false
		}
		j += i
		before := bytes.TrimRight(html[:j], " \t\r\n")
		after := bytes.TrimLeft(bytes.TrimPrefix(bytes.TrimLeft(html[j+2:], " \t"), []byte("&nbsp;")), " \t\r\n")
		if bytes.HasSuffix(before, []byte(">")) && !bytes.HasSuffix(before, []byte("-->")) && bytes.HasPrefix(after, []byte("<")) {
			return true
		}
		i = j + 2
	}
}

// extractHTML returns the new content of an HTML body.
func extractHTML(src string) string {
	return extractStrippedHTML(src, withoutRawText(src))
}

// extractStrippedHTML is extractHTML given stripped, withoutRawText(src), which the caller
// needs as well.
func extractStrippedHTML(src, stripped string) string {
	lower := asciiLower(stripped)
	if !mayHaveQuote(lower) {
		return src
	}
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return src
	}
	pr := &pruner{}
	pr.visit(doc)
	if len(pr.remove) == 0 && pr.cut == nil {
		return src
	}
	for _, n := range pr.remove {
		if n.Parent != nil {
			n.Parent.RemoveChild(n)
		}
	}
	if pr.cut != nil {
		truncateFrom(pr.cut, pr.cutKeep)
	}
	body := findBody(doc)
	trimTrailing(body)
	var b strings.Builder
	if bytes.Contains(lower, []byte("<html")) || body == nil {
		_ = html.Render(&b, doc)
	} else {
		for c := body.FirstChild; c != nil; c = c.NextSibling {
			_ = html.Render(&b, c)
		}
	}
	return b.String()
}

// asciiLower returns s with its ASCII letters lower-cased and every other byte left alone;
// unlike strings.ToLower it stays fast on non-ASCII text. It works on eight bytes at a time.
func asciiLower(s string) []byte {
	b := []byte(s)
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		low7 := w &^ highs
		atLeastA := low7 + (0x80-'A')*ones // high bit set in bytes >= 'A'
		aboveZ := low7 + (0x80-'Z'-1)*ones // high bit set in bytes > 'Z'
		if upper := atLeastA &^ aboveZ &^ w & highs; upper != 0 {
			binary.LittleEndian.PutUint64(b[i:], w|upper>>2)
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}

// pruner walks a document and records what to remove and where to cut.
type pruner struct {
	remove  []*html.Node
	cut     *html.Node
	cutKeep string // for a cut inside a text node: the text before the marker
}

// visit walks n's children in document order; it returns true once a cut is found, since
// everything after a cut goes anyway.
func (pr *pruner) visit(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case html.ElementNode:
			switch c.DataAtom {
			case atom.Head, atom.Script, atom.Style, atom.Title:
				continue
			}
			if pr.element(c) {
				return true
			}
		case html.TextNode:
			if pr.text(c) {
				return true
			}
		}
	}
	return false
}

// element classifies an element: it is removed, it is a cut, or its children are visited.
func (pr *pruner) element(n *html.Node) bool {
	switch {
	case hasClass(n, "gmail_quote", "gmail_quote_container", "gmail_extra"):
		if !strings.Contains(strings.ToLower(textPrefix(n, 200)), "forwarded message") {
			pr.remove = append(pr.remove, n)
			return false
		}
	case hasClass(n, "gmail_signature", "moz-signature", "moz-cite-prefix", "yahoo_quoted") || attr(n, "id") == "Signature":
		pr.remove = append(pr.remove, n)
		return false
	case n.DataAtom == atom.Blockquote:
		if strings.EqualFold(attr(n, "type"), "cite") {
			pr.removeAttributionBefore(n)
			pr.remove = append(pr.remove, n)
			return false
		}
		if pr.removeAttributionBefore(n) {
			pr.remove = append(pr.remove, n)
			return false
		}
	case attr(n, "id") == "divRplyFwdMsg":
		if !isForwardHeader(textPrefix(n, 600)) {
			pr.cut = n
			return true
		}
	case n.DataAtom == atom.Div || n.DataAtom == atom.P:
		if t := textPrefix(n, 600); hasFieldPrefix(t, "from") && isReplyHeaderText(t) {
			pr.cut = n
			return true
		}
	}
	return pr.visit(n)
}

// text looks for the separators that appear as text: "-----Original Message-----" and "--".
func (pr *pruner) text(n *html.Node) bool {
	t := strings.TrimSpace(strings.ReplaceAll(n.Data, "\u00a0", " "))
	if t == "--" {
		pr.cut = n
		return true
	}
	for _, line := range strings.Split(n.Data, "\n") {
		if originalMessageRe.MatchString(strings.TrimSpace(line)) {
			i := strings.Index(n.Data, line)
			pr.cut, pr.cutKeep = n, n.Data[:i]
			return true
		}
	}
	return false
}

// removeAttributionBefore removes the "On … wrote:" line just above a quote, skipping blank
// text and <br>s, and reports whether there was one.
func (pr *pruner) removeAttributionBefore(n *html.Node) bool {
	for s := n.PrevSibling; s != nil; s = s.PrevSibling {
		switch {
		case s.Type == html.TextNode && strings.TrimSpace(s.Data) == "",
			s.Type == html.ElementNode && s.DataAtom == atom.Br,
			s.Type == html.CommentNode:
			continue
		}
		t := strings.Join(strings.Fields(textPrefix(s, 400)), " ")
		if attributionRe.MatchString(t) || (strings.HasSuffix(t, "wrote:") && len(t) < 300) {
			pr.remove = append(pr.remove, s)
			return true
		}
		return false
	}
	return false
}

// isReplyHeaderText reports whether the text of an Outlook header block is a reply's: it has
// Sent or Date and a Subject, and the Subject is not a forward's.
func isReplyHeaderText(t string) bool {
	l := strings.ToLower(t)
	return (strings.Contains(l, "sent:") || strings.Contains(l, "date:")) && strings.Contains(l, "subject:") && !isForwardHeader(t)
}

func isForwardHeader(t string) bool {
	l := strings.ToLower(strings.Join(strings.Fields(t), " "))
	return strings.Contains(l, "subject: fw:") || strings.Contains(l, "subject: fwd:") || strings.Contains(l, "forwarded message")
}

// truncateFrom removes n and everything after it in document order, up to the end of <body>.
// A text node keeps its text before the cut, keep.
func truncateFrom(n *html.Node, keep string) {
	for cur := n; cur.Parent != nil && cur.DataAtom != atom.Body && cur.DataAtom != atom.Html; cur = cur.Parent {
		for s := cur.NextSibling; s != nil; {
			next := s.NextSibling
			cur.Parent.RemoveChild(s)
			s = next
		}
	}
	if n.Type == html.TextNode && strings.TrimSpace(keep) != "" {
		n.Data = keep
		return
	}
	if n.Parent != nil {
		n.Parent.RemoveChild(n)
	}
}

// trimTrailing removes what a removal leaves dangling at the end of the body: blank text,
// <br>, <hr> (Outlook's rule above the history) and elements left empty.
func trimTrailing(n *html.Node) {
	for n != nil {
		last := n.LastChild
		if last == nil {
			return
		}
		switch {
		case last.Type == html.TextNode && strings.TrimSpace(strings.ReplaceAll(last.Data, "\u00a0", " ")) == "",
			last.Type == html.CommentNode,
			last.Type == html.ElementNode && (last.DataAtom == atom.Br || last.DataAtom == atom.Hr):
			n.RemoveChild(last)
		case last.Type == html.ElementNode && isEmptyElement(last):
			n.RemoveChild(last)
		case last.Type == html.ElementNode:
			trimTrailing(last)
			return
		default:
			return
		}
	}
}

// isEmptyElement reports whether n shows nothing: no text and no image or other embedded content.
func isEmptyElement(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Img, atom.Table, atom.Iframe, atom.Object, atom.Video, atom.Audio, atom.Svg, atom.Input:
		return false
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case html.TextNode:
			if strings.TrimSpace(strings.ReplaceAll(c.Data, "\u00a0", " ")) != "" {
				return false
			}
		case html.ElementNode:
			if !isEmptyElement(c) {
				return false
			}
		}
	}
	return true
}

func findBody(n *html.Node) *html.Node {
	if n.Type == html.ElementNode && n.DataAtom == atom.Body {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if b := findBody(c); b != nil {
			return b
		}
	}
	return nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// hasClass reports whether n's class attribute lists one of names.
func hasClass(n *html.Node, names ...string) bool {
	class := attr(n, "class")
	if class == "" {
		return false
	}
	for _, c := range strings.Fields(class) {
		for _, name := range names {
			if c == name {
				return true
			}
		}
	}
	return false
}

// textPrefix returns about the first max bytes of n's text, blocks separated by newlines.
func textPrefix(n *html.Node, max int) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if b.Len() >= max {
			return
		}
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
		case html.ElementNode:
			switch n.DataAtom {
			case atom.Script, atom.Style, atom.Head:
				return
			case atom.Br, atom.P, atom.Div:
				b.WriteByte('\n')
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(strings.ReplaceAll(b.String(), "\u00a0", " "))
}
