package mail

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTML to plain text, for the extracted text and preview of HTML-only mail. It runs the
// golang.org/x/net/html tokenizer without building a tree (a third of the cost of html.Parse
// on large newsletters): block elements break lines, <br> breaks a line, list items get "- ",
// table cells are separated by spaces, whitespace collapses as a browser collapses it (except
// in <pre>), and script, style and title are skipped. github.com/k3a/html2text does much the
// same with a tokenizer of its own; this one shares the HTML parser of extract_html.go.

// htmlToText returns the text of an HTML document or fragment.
func htmlToText(src string) string {
	return strippedHTMLToText(withoutRawText(src))
}

// strippedHTMLToText is htmlToText of a document already passed through withoutRawText.
func strippedHTMLToText(src string) string {
	w := &textWriter{}
	z := html.NewTokenizer(strings.NewReader(src))
	skip, pre := 0, 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return strings.TrimSpace(w.b.String())
		case html.TextToken:
			switch {
			case skip > 0:
			case pre > 0:
				w.raw(string(z.Text()))
			default:
				w.text(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			start := tt != html.EndTagToken
			switch a {
			case atom.Script, atom.Style, atom.Title, atom.Template, atom.Noscript, atom.Svg, atom.Object:
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
				continue
			case atom.Br:
				if start || tt == html.EndTagToken { // browsers treat </br> as <br>
					w.breakLine(w.nl + 1)
				}
				continue
			case atom.Pre:
				if tt == html.StartTagToken {
					pre++
				} else if tt == html.EndTagToken && pre > 0 {
					pre--
				}
			}
			w.tag(a, start)
		}
	}
}

// textWriter accumulates text with pending line breaks and spaces, so that nothing leads or
// trails and blank lines never pile up.
type textWriter struct {
	b     strings.Builder
	nl    int  // line breaks owed before the next word (at most 2: one blank line)
	space bool // a space owed before the next word
}

// tag applies the line breaks an element's start or end implies.
func (w *textWriter) tag(a atom.Atom, start bool) {
	switch a {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Table, atom.Blockquote, atom.Ul, atom.Ol, atom.Pre:
		w.breakLine(2)
	case atom.Li:
		w.breakLine(1)
		if start {
			w.word("-")
			w.space = true
		}
	case atom.Td, atom.Th:
		w.space = true
	default:
		if isBlock(a) {
			w.breakLine(1)
		}
	}
}

func isBlock(a atom.Atom) bool {
	switch a {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Center, atom.Dd, atom.Div, atom.Dl, atom.Dt,
		atom.Fieldset, atom.Figure, atom.Figcaption, atom.Footer, atom.Form, atom.H1, atom.H2, atom.H3, atom.H4,
		atom.H5, atom.H6, atom.Header, atom.Hr, atom.Li, atom.Main, atom.Nav, atom.Ol, atom.P, atom.Pre,
		atom.Section, atom.Table, atom.Tr, atom.Ul, atom.Body, atom.Caption:
		return true
	}
	return false
}

func (w *textWriter) breakLine(n int) {
	if n > 2 {
		n = 2
	}
	if n > w.nl {
		w.nl = n
	}
}

// text writes collapsed text: its words (as strings.Fields splits them; a no-break space
// separates words too) with single spaces between them.
func (w *textWriter) text(s []byte) {
	if len(s) == 0 {
		return
	}
	if isSpaceByte(s[0]) || bytes.HasPrefix(s, nbsp) {
		w.space = true
	}
	trailing := isSpaceByte(s[len(s)-1]) || bytes.HasSuffix(s, nbsp)
	for i := 0; ; i++ {
		s = trimLeftUnicodeSpace(s)
		if len(s) == 0 {
			break
		}
		end := indexUnicodeSpace(s)
		if i > 0 {
			w.space = true
		}
		w.wordBytes(s[:end])
		s = s[end:]
	}
	if trailing {
		w.space = true
	}
}

var nbsp = []byte("\u00a0")

// trimLeftUnicodeSpace drops the white space (unicode.IsSpace) that s starts with.
func trimLeftUnicodeSpace(s []byte) []byte {
	for len(s) > 0 {
		if c := s[0]; c < utf8.RuneSelf {
			if !isASCIISpace(c) {
				return s
			}
			s = s[1:]
			continue
		}
		r, n := utf8.DecodeRune(s)
		if !unicode.IsSpace(r) {
			return s
		}
		s = s[n:]
	}
	return s
}

// indexUnicodeSpace returns the index of the first white space (unicode.IsSpace) in s, or len(s).
func indexUnicodeSpace(s []byte) int {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if isASCIISpace(c) {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if unicode.IsSpace(r) {
			return i
		}
		i += n
	}
	return len(s)
}

// isASCIISpace is unicode.IsSpace for ASCII.
func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// raw writes preformatted text as it is, line breaks included.
func (w *textWriter) raw(s string) {
	for i, l := range strings.Split(s, "\n") {
		if i > 0 {
			w.breakLine(w.nl + 1)
		}
		if l = strings.TrimRight(l, " \t\r"); l != "" {
			w.word(l)
		}
	}
}

func (w *textWriter) word(s string) {
	w.sep()
	w.b.WriteString(s)
}

func (w *textWriter) wordBytes(s []byte) {
	w.sep()
	w.b.Write(s)
}

// sep writes the line breaks or space owed before a word.
func (w *textWriter) sep() {
	switch {
	case w.nl > 0:
		if w.b.Len() > 0 {
			w.b.WriteString("\n\n"[:w.nl])
		}
	case w.space && w.b.Len() > 0:
		w.b.WriteByte(' ')
	}
	w.nl, w.space = 0, false
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// rawTextElements hold text that is never shown. The tokenizer reads them a byte at a time, so
// withoutRawText cuts them out first: junk mail with a megabyte <title> is not rare.
var rawTextElements = []string{"title", "style", "script"}

// withoutRawText returns s without the rawTextElements and their content. An element that is
// never closed runs to the end, as it does in a browser.
func withoutRawText(s string) string {
	var keep [][2]int // the parts of s that stay, when something goes
	done := 0         // s[:done] is decided
	for i := 0; i < len(s); {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			break
		}
		lt += i
		name := rawTextElementAt(s, lt+1)
		if name == "" {
			i = lt + 1
			continue
		}
		keep = append(keep, [2]int{done, lt})
		done, i = len(s), len(s)
		for j := lt + 1; j < len(s); {
			c := indexEndTagOpen(s[j:])
			if c < 0 {
				break
			}
			c += j
			if rawTextElementAt(s, c+2) == name {
				if gt := strings.IndexByte(s[c:], '>'); gt >= 0 {
					done, i = c+gt+1, c+gt+1
				}
				break
			}
			j = c + 2
		}
	}
	if len(keep) == 0 {
		return s
	}
	keep = append(keep, [2]int{done, len(s)})
	n := 0
	for _, k := range keep {
		n += k[1] - k[0]
	}
	var out strings.Builder
	out.Grow(n)
	for _, k := range keep {
		out.WriteString(s[k[0]:k[1]])
	}
	return out.String()
}

// indexEndTagOpen returns the index of the first "</" in s, or -1. Raw text (a stylesheet, or
// junk in a <title>) can have a "<" every few bytes, on which strings.Index, looking for the
// "<" first, spends a call each; on windows of up to 64 bytes it compares all at once instead.
func indexEndTagOpen(s string) int {
	const window = 64
	for off := 0; off < len(s); off += window - 1 {
		if i := strings.Index(s[off:min(off+window, len(s))], "</"); i >= 0 {
			return off + i
		}
	}
	return -1
}

// rawTextElementAt returns the raw-text element whose name starts s[i:], or "".
func rawTextElementAt(s string, i int) string {
	if i >= len(s) || s[i]|0x20 != 't' && s[i]|0x20 != 's' {
		return "" // the quick answer for nearly every tag
	}
	for _, name := range rawTextElements {
		end := i + len(name)
		if end <= len(s) && strings.EqualFold(s[i:end], name) && (end == len(s) || strings.IndexByte(" \t\r\n/>", s[end]) >= 0) {
			return name
		}
	}
	return ""
}
