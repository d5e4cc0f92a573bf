package mail

import (
	"mime"
	"slices"
	"strconv"
	"strings"
)

// Header parameters: Content-Type and Content-Disposition values such as
// `attachment; filename*=iso-8859-1''r%E9sum%E9.pdf`. mime.ParseMediaType does the well-formed
// case. It rejects the rest outright (unquoted spaces, a missing ";", duplicate names) and drops
// RFC 2231 values in charsets other than UTF-8 and US-ASCII, so those go through parseParamsLenient.

// parseParamHeader splits a parameterised header value into its lower-cased value and
// parameters (lower-cased names, decoded values). lenient reports that the value was malformed
// and had to be read leniently.
func parseParamHeader(v string) (value string, params map[string]string, lenient bool) {
	if v == "" {
		return "", map[string]string{}, false
	}
	if !strings.Contains(v, "*") {
		if value, params, err := mime.ParseMediaType(v); err == nil {
			return value, params, false
		}
		value, params = parseParamsLenient(v)
		return value, params, true
	}
	// RFC 2231 extended parameters: read them ourselves, which handles every charset.
	value, params = parseParamsLenient(v)
	return value, params, false
}

// rfc2231Piece is one section of a parameter: name*N or name*N* (RFC 2231 §3 and §4).
type rfc2231Piece struct {
	index   int
	encoded bool
	value   string
}

// parseParamsLenient reads `value; a=b; c="d e"` however broken it is: segments without "="
// are skipped, quotes may be missing or unbalanced, and RFC 2231 continuations and
// charset'lang'%XX values are joined and decoded.
func parseParamsLenient(v string) (string, map[string]string) {
	value, rest, _ := strings.Cut(v, ";")
	value = strings.ToLower(strings.TrimSpace(value))
	if i := strings.IndexAny(value, " \t"); i >= 0 {
		value = value[:i]
	}
	params := map[string]string{}
	extended := map[string][]rfc2231Piece{}
	for rest != "" {
		var seg string
		seg, rest = nextParam(rest)
		k, val, ok := strings.Cut(seg, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = unquoteParam(strings.TrimSpace(val))
		if k == "" {
			continue
		}
		name, section, isExt := strings.Cut(k, "*")
		if !isExt {
			if _, dup := params[k]; !dup {
				params[k] = val
			}
			continue
		}
		piece := rfc2231Piece{value: val}
		switch {
		case section == "": // name*=charset'lang'value
			piece.encoded = true
		default:
			num, enc := strings.CutSuffix(section, "*")
			n, err := strconv.Atoi(num)
			if err != nil || n < 0 || n > 1000 {
				continue
			}
			piece.index, piece.encoded = n, enc
		}
		extended[name] = append(extended[name], piece)
	}
	for name, pieces := range extended {
		params[name] = joinRFC2231(pieces)
	}
	return value, params
}

// joinRFC2231 orders the sections of one parameter, percent-decodes the encoded ones and
// converts the result from the charset named by the first section.
func joinRFC2231(pieces []rfc2231Piece) string {
	slices.SortStableFunc(pieces, func(a, b rfc2231Piece) int { return a.index - b.index })
	var raw []byte
	label := ""
	for i, p := range pieces {
		v := p.value
		if p.encoded && i == 0 {
			if cs, rest, ok := strings.Cut(v, "'"); ok {
				if _, after, ok := strings.Cut(rest, "'"); ok {
					label, v = cs, after
				}
			}
		}
		if p.encoded {
			raw = append(raw, percentDecode(v)...)
		} else {
			raw = append(raw, v...)
		}
	}
	s, _ := decodeText(raw, label)
	return s
}

func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

// nextParam returns the text up to the next ";" outside a quoted string, and the rest.
func nextParam(s string) (seg, rest string) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if inQuote {
				i++
			}
		case '"':
			inQuote = !inQuote
		case ';':
			if !inQuote {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// unquoteParam removes the quotes of a quoted-string and its backslash escapes; an unbalanced
// quote is simply dropped.
func unquoteParam(v string) string {
	if !strings.HasPrefix(v, `"`) {
		return v
	}
	v = v[1:]
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			if i+1 < len(v) {
				i++
				b.WriteByte(v[i])
			}
		case '"':
			return b.String()
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
