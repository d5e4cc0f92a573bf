package mail

import "testing"

func TestHTMLToText(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<p>One</p><p>Two</p>`, "One\n\nTwo"},
		{`<div>a</div><div><br></div><div>b</div>`, "a\n\nb"},
		{`Line<br>break`, "Line\nbreak"},
		{`<ul><li>x</li><li>y</li></ul>`, "- x\n- y"},
		{`<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>`, "a b\nc"},
		{"<p>  lots \n of   space&nbsp;here </p>", "lots of space here"},
		{"<pre>a\n  b</pre>", "a\n  b"},
		{"a<br/>b</br>c", "a\nb\nc"},
		{"<p>unclosed<p>paragraphs", "unclosed\n\nparagraphs"},
		{`<head><title>T</title><style>p{}</style></head><body><script>x()</script>Body &amp; soul</body>`, "Body & soul"},
		{`<b>bold</b><i>italic</i> <a href="x">link</a>`, "bolditalic link"},
	}
	for _, tt := range tests {
		if got := htmlToText(tt.in); got != tt.want {
			t.Errorf("htmlToText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWithoutRawText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a<style>x</style>b", "ab"},
		{"a<STYLE type=x>x</Style >b<script>y</script>c", "abc"},
		{"a<title>never closed", "a"},
		{"<styles>kept</styles>", "<styles>kept</styles>"},
		{"no raw text", "no raw text"},
		{"a<style>x</script></style>b", "ab"},
		{"a <b>x</b> c", "a <b>x</b> c"},
	}
	for _, tt := range tests {
		if got := withoutRawText(tt.in); got != tt.want {
			t.Errorf("withoutRawText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
