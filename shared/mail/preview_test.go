package mail

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPreview(t *testing.T) {
	if got := preview("  Hello\n\n  world\t!  "); got != "Hello world !" {
		t.Errorf("collapse: got %q", got)
	}
	long := strings.Repeat("word ", 100)
	got := preview(long)
	if n := utf8.RuneCountInString(got); n > previewRunes || n < previewRunes-40 {
		t.Errorf("long preview has %d runes", n)
	}
	if strings.HasSuffix(got, " ") || !strings.HasSuffix(got, "word") {
		t.Errorf("long preview not cut at a word: %q", got)
	}
	ja := strings.Repeat("日本語", 100)
	if got := preview(ja); utf8.RuneCountInString(got) != previewRunes || !utf8.ValidString(got) {
		t.Errorf("preview of text without spaces: %d runes", utf8.RuneCountInString(got))
	}
	if got := preview(""); got != "" {
		t.Errorf("empty: %q", got)
	}
}
