package mail

import (
	"strings"
	"unicode"
)

// previewRunes is the length of a preview, in runes.
const previewRunes = 200

// preview returns the start of s as one line: whitespace runs collapsed to a space, cut to at
// most previewRunes runes, at a word boundary when one is near enough.
func preview(s string) string {
	var b strings.Builder
	runes, space := 0, false
	for _, r := range s {
		if unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' {
			space = b.Len() > 0
			continue
		}
		if space {
			if runes+1 >= previewRunes {
				break
			}
			b.WriteByte(' ')
			runes++
			space = false
		}
		if runes >= previewRunes {
			return cutAtWord(b.String())
		}
		b.WriteRune(r)
		runes++
	}
	return strings.TrimSpace(b.String())
}

// cutAtWord drops a partial last word when a space is close to the end.
func cutAtWord(s string) string {
	if i := strings.LastIndexByte(s, ' '); i >= 0 && len(s)-i < 40 {
		return s[:i]
	}
	return s
}
