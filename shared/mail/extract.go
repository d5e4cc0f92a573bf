package mail

import (
	"regexp"
	"slices"
	"strings"
)

// Extracting the new content of a plain-text reply: quoted history and signature removed.
//
// Recognised, in the order a reader meets them:
//   - an attribution line introducing the quote: Gmail and Apple Mail "On <date>, <who> wrote:"
//     (Gmail wraps it over two or three lines), its translations, and "<who> wrote:" directly
//     above ">" lines;
//   - Outlook: "-----Original Message-----", or a "From:" line followed within a few lines by
//     "Sent:"/"Date:" and "To:"/"Subject:" (often under a line of underscores);
//   - ">"-quoted lines, wherever they are (inline answers between them are kept);
//   - the "-- " signature separator (RFC 3676 §4.3; also without its trailing space), and
//     "Sent from my iPhone"-style lines ending the message.
//
// Forwards are content, not history: a header block right under "Forwarded message" or whose
// Subject starts with "Fw:"/"Fwd:" is kept.

// attributionRe matches an attribution line ("On Mon, 1 Jan 2024, Ann <a@b> wrote:").
var attributionRe = regexp.MustCompile(`(?i)^(on|am|le|el|il|op|em|den|dne) \S.{0,300}(wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu|skrev|napsal)(\s.{0,200})?\s*:$`)

// originalMessageRe matches Outlook's and others' "-----Original Message-----" separators.
var originalMessageRe = regexp.MustCompile(`(?i)^-{3,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original)\s*-{3,}$`)

// mobileSignatureRe matches the one-line signatures mobile clients append.
var mobileSignatureRe = regexp.MustCompile(`(?i)^(sent from my \w.*|sent from (mail|outlook) for \w.*|get outlook for (ios|android)|sent from yahoo mail.*)$`)

// extractText returns the new content of a plain-text body.
func extractText(s string) string {
	lines := strings.Split(s, "\n")
	cut := len(lines)
	var skip []int // attribution lines above ">" quotes
scan:
	for i := 0; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		switch {
		case t == "":
		case t == "--" && strings.TrimRight(lines[i], " ") == "--":
			cut = i
			break scan
		case t[0] == '-' && originalMessageRe.MatchString(t):
			cut = i
			break scan
		case t[0] == '_' && isUnderscoreRule(t) && i+1 < len(lines) && isHeaderBlock(lines, i+1):
			cut = i
			break scan
		case (t[0]|0x20 == 'f' || t[0] == '*') && isHeaderBlock(lines, i):
			cut = i
			break scan
		case mayStartAttribution(t):
			n := attributionLines(lines, i)
			if n == 0 {
				continue
			}
			if next := nextNonBlank(lines, i+n); next < 0 || isQuoted(lines[next]) {
				for k := i; k < i+n; k++ {
					skip = append(skip, k)
				}
				i += n - 1
				continue
			}
			cut = i // the history below is not ">"-quoted: all of it goes
			break scan
		}
	}
	end := cut // the last lines go when blank, quoted, an attribution or a mobile signature
	for end > 0 {
		last := strings.TrimSpace(lines[end-1])
		if last != "" && !isQuoted(last) && !slices.Contains(skip, end-1) && !mobileSignatureRe.MatchString(last) {
			break
		}
		end--
	}
	for len(skip) > 0 && skip[len(skip)-1] >= end {
		skip = skip[:len(skip)-1]
	}
	if len(skip) == 0 && !slices.ContainsFunc(lines[:end], isQuoted) {
		// Nothing inside removed: the result is a prefix of s, no copy needed.
		n := 0
		for _, l := range lines[:end] {
			n += len(l) + 1
		}
		return strings.TrimSpace(s[:min(n, len(s))])
	}
	var b strings.Builder
	for i, l := range lines[:end] {
		if len(skip) > 0 && skip[0] == i {
			skip = skip[1:]
			continue
		}
		if isQuoted(l) {
			continue
		}
		b.WriteString(strings.TrimRight(l, " \t\r"))
		b.WriteByte('\n')
	}
	return strings.TrimSpace(b.String())
}

// isQuoted reports whether line starts with ">" after blanks.
func isQuoted(line string) bool {
	for i := 0; i < len(line); i++ {
		if c := line[i]; c != ' ' && c != '\t' {
			return c == '>'
		}
	}
	return false
}

func nextNonBlank(lines []string, i int) int {
	for ; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "" {
			return i
		}
	}
	return -1
}

// attributionWords are the words an attribution line can start with (see attributionRe);
// checking them first keeps the regular expression off nearly every line.
var attributionWords = []string{"on", "am", "le", "el", "il", "op", "em", "den", "dne"}

// mayStartAttribution is a cheap test that rules out most lines before attributionLines runs:
// an attribution starts with one of attributionWords or ends with a colon.
func mayStartAttribution(t string) bool {
	switch t[0] | 0x20 {
	case 'o', 'a', 'l', 'e', 'i', 'd':
		return true
	}
	return t[len(t)-1] == ':'
}

// attributionLines returns how many lines (1 to 3) starting at i form an attribution, or 0.
func attributionLines(lines []string, i int) int {
	t := strings.TrimSpace(lines[i])
	if strings.HasSuffix(t, "wrote:") || strings.HasSuffix(t, "writes:") {
		if next := nextNonBlank(lines, i+1); next >= 0 && isQuoted(lines[next]) {
			return 1
		}
	}
	first, _, _ := strings.Cut(t, " ")
	if !slices.ContainsFunc(attributionWords, func(w string) bool { return strings.EqualFold(w, first) }) {
		return 0
	}
	joined := t
	for n := 1; n <= 3 && i+n <= len(lines); n++ {
		if n > 1 {
			joined += " " + strings.TrimSpace(lines[i+n-1])
		}
		if len(joined) > 400 {
			return 0
		}
		if strings.HasSuffix(joined, ":") && attributionRe.MatchString(joined) {
			return n
		}
	}
	return 0
}

func isUnderscoreRule(t string) bool {
	return len(t) >= 20 && strings.Trim(t, "_") == ""
}

// isHeaderBlock reports whether lines[i] starts the header block Outlook puts above quoted
// history ("From: …" then "Sent: …", "To: …", "Subject: …"), and it is not a forward.
func isHeaderBlock(lines []string, i int) bool {
	if !hasFieldPrefix(lines[i], "from") {
		return false
	}
	var date, other bool
	for k := i + 1; k < len(lines) && k <= i+6; k++ {
		l := lines[k]
		switch {
		case hasFieldPrefix(l, "sent"), hasFieldPrefix(l, "date"):
			date = true
		case hasFieldPrefix(l, "subject"):
			other = true
			if v := strings.ToLower(fieldValue(l)); strings.HasPrefix(v, "fw:") || strings.HasPrefix(v, "fwd:") {
				return false
			}
		case hasFieldPrefix(l, "to"), hasFieldPrefix(l, "cc"):
			other = true
		}
	}
	if !date || !other {
		return false
	}
	if prev := previousNonBlank(lines, i); prev >= 0 && strings.Contains(strings.ToLower(lines[prev]), "forwarded message") {
		return false
	}
	return true
}

// hasFieldPrefix reports whether line starts with "Name:", also in Outlook's bold "*Name:*".
func hasFieldPrefix(line, name string) bool {
	t := strings.TrimLeft(line, " \t*")
	if len(t) <= len(name) || !strings.EqualFold(t[:len(name)], name) {
		return false
	}
	rest := strings.TrimLeft(t[len(name):], " *")
	return strings.HasPrefix(rest, ":")
}

func fieldValue(line string) string {
	_, v, _ := strings.Cut(line, ":")
	return strings.TrimSpace(strings.TrimLeft(v, "* "))
}

func previousNonBlank(lines []string, i int) int {
	for i--; i >= 0; i-- {
		if strings.TrimSpace(lines[i]) != "" {
			return i
		}
	}
	return -1
}
