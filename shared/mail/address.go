package mail

import (
	netmail "net/mail"
	"strings"
	"unicode/utf8"
)

// Addresses (RFC 5322 §3.4) as the wire wants them: "Name <user@domain>" or "user@domain".
// net/mail parses well-formed lists, decoding encoded-word display names; a list it rejects
// (an unquoted comma or dot in a name, a missing ">", "a@b; c@d") is split at top-level commas
// and semicolons and each piece is read on its own, so one bad entry costs only itself.

var addressParser = netmail.AddressParser{WordDecoder: wordDecoder}

// parseAddressList returns the addresses in a header value; lenient reports that the value was
// malformed and some of it may have been skipped.
func parseAddressList(v string) (addrs []string, lenient bool) {
	v = strings.TrimSpace(toUTF8(v))
	addrs = []string{}
	if v == "" {
		return addrs, false
	}
	if list, err := addressParser.ParseList(v); err == nil {
		for _, a := range list {
			addrs = append(addrs, formatAddress(decodeHeaderText(a.Name), a.Address))
		}
		return addrs, false
	}
	for _, piece := range splitAddressList(v) {
		if a := parseAddressLenient(piece); a != "" {
			addrs = append(addrs, a)
		}
	}
	return addrs, true
}

// parseAddressLenient reads one address however it is written, or returns "".
func parseAddressLenient(s string) string {
	s = strings.TrimSpace(s)
	if name, rest, ok := strings.Cut(s, ":"); ok && !strings.ContainsAny(name, "<@\"") {
		s = strings.TrimSpace(rest) // "Group: a@b" — the group name is not an address
	}
	if s == "" {
		return ""
	}
	if a, err := addressParser.Parse(s); err == nil {
		return formatAddress(decodeHeaderText(a.Name), a.Address)
	}
	if lt := strings.LastIndexByte(s, '<'); lt >= 0 {
		addr, _, _ := strings.Cut(s[lt+1:], ">")
		addr = strings.TrimSpace(addr)
		name := strings.TrimSpace(s[:lt])
		if strings.HasPrefix(name, `"`) {
			name = unquoteParam(name)
		}
		if addr != "" {
			return formatAddress(decodeHeaderText(name), addr)
		}
	}
	fields := strings.Fields(stripComments(s))
	for i, f := range fields {
		if strings.Contains(f, "@") {
			name := strings.Join(append(fields[:i:i], fields[i+1:]...), " ")
			return formatAddress(decodeHeaderText(strings.Trim(name, `"'`)), strings.Trim(f, `<>"'`))
		}
	}
	return ""
}

// splitAddressList splits at commas and semicolons outside quoted strings and comments. A
// quote that is never closed is not a quote: the list is split as if it were not there.
func splitAddressList(s string) []string {
	out, balanced := splitAddresses(s, true)
	if !balanced {
		out, _ = splitAddresses(s, false)
	}
	return out
}

func splitAddresses(s string, quotes bool) (out []string, balanced bool) {
	depth, inQuote, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && (inQuote || depth > 0):
			i++
		case c == '"' && quotes && depth == 0:
			inQuote = !inQuote
		case inQuote:
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == ',' || c == ';':
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:]), !inQuote
}

// formatAddress renders an address the way the wire shows it. A display name with characters
// that would make it ambiguous to re-parse (a comma, say) is quoted.
func formatAddress(name, addr string) string {
	if !isSpaceCollapsed(name) {
		name = strings.Join(strings.Fields(name), " ")
	}
	if name == "" || name == addr {
		return addr
	}
	if strings.ContainsAny(name, `,;<>@:"()[]\.`) {
		name = `"` + quotedStringEscaper.Replace(name) + `"`
	}
	return name + " <" + addr + ">"
}

// isSpaceCollapsed reports whether s is ASCII with single spaces between words and none around
// them, which strings.Join(strings.Fields(s), " ") leaves as it is.
func isSpaceCollapsed(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r':
			return false
		case c == ' ' && (i == 0 || i == len(s)-1 || s[i+1] == ' '):
			return false
		}
	}
	return true
}

// quotedStringEscaper escapes a display name for a quoted-string.
var quotedStringEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// stripComments removes RFC 5322 comments "(like this)", nesting included.
func stripComments(s string) string {
	if !strings.Contains(s, "(") {
		return s
	}
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && depth > 0:
			i++
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}
