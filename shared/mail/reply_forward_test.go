package mail

import (
	"strings"
	"testing"
)

func TestForwardBody(t *testing.T) {
	text, html := ForwardBody("Ann Smith <ann@example.com>", "Mon, 2 Mar 2026 at 10:00", "Plans & <ideas>",
		"bob@example.com", "Hi Bob,\nsee below.\n", "<p>Hi Bob,</p>")

	wantText := "---------- Forwarded message ---------\n" +
		"From: Ann Smith <ann@example.com>\n" +
		"Date: Mon, 2 Mar 2026 at 10:00\n" +
		"Subject: Plans & <ideas>\n" +
		"To: bob@example.com\n" +
		"\n" +
		"Hi Bob,\nsee below.\n"
	if text != wantText {
		t.Errorf("text =\n%s\nwant\n%s", text, wantText)
	}
	for _, want := range []string{
		`<div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>`,
		`From: <strong class="gmail_sendername" dir="auto">Ann Smith</strong> <span dir="auto">&lt;ann@example.com&gt;</span><br>`,
		"Subject: Plans &amp; &lt;ideas&gt;<br>",
		"To: bob@example.com<br>",
		"<p>Hi Bob,</p>",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("html lacks %q:\n%s", want, html)
		}
	}
	if !strings.HasSuffix(html, "</div>") {
		t.Errorf("html does not close its div:\n%s", html)
	}
}

func TestForwardBodyLeavesOutEmptyFields(t *testing.T) {
	text, html := ForwardBody("ann@example.com", "", "", "", "body", "")
	if strings.Contains(text, "Date:") || strings.Contains(text, "Subject:") || strings.Contains(text, "To:") {
		t.Errorf("empty fields shown:\n%s", text)
	}
	if !strings.Contains(text, "From: ann@example.com\n\nbody") {
		t.Errorf("text = %q", text)
	}
	if !strings.Contains(html, "From: ann@example.com<br>") {
		t.Errorf("html = %q", html)
	}
}

func TestForwardBodyDerivesTheMissingBody(t *testing.T) {
	// Text only: the HTML block shows the text, escaped, with line breaks.
	_, html := ForwardBody("ann@example.com", "", "s", "", "a < b\nsecond line", "")
	if !strings.Contains(html, "a &lt; b<br>\nsecond line") {
		t.Errorf("html from text = %q", html)
	}
	// HTML only: the text block shows the HTML as text.
	text, _ := ForwardBody("ann@example.com", "", "s", "", "", "<p>Hello <b>there</b></p><p>Bye</p>")
	if !strings.Contains(text, "Hello there") || strings.Contains(text, "<p>") {
		t.Errorf("text from html = %q", text)
	}
}

func TestForwardBodyNestsOnlyTheBodyOfADocument(t *testing.T) {
	doc := `<!DOCTYPE html><html><head><style>body{color:red}</style></head><BODY class="x"><p>Content</p></Body></html>`
	_, html := ForwardBody("ann@example.com", "", "s", "", "Content", doc)
	if strings.Contains(html, "<style>") || strings.Contains(html, "<html>") || !strings.Contains(html, "<p>Content</p>") {
		t.Errorf("html = %q", html)
	}
}
