package mail

import "strings"

// Message identifiers (RFC 5322 §3.6.4): Message-ID, In-Reply-To and References.
// In the wild ids come folded in the middle ("<abc@\r\n example.com>"), separated by commas
// or by nothing, wrapped in comments, prefixed with text ("Your message of … <id>"), and
// sometimes without angle brackets at all.

// ParseMessageIDs returns the msg-ids in a References or In-Reply-To value, each with its
// angle brackets and with any whitespace folded into it removed. Text between ids is
// ignored. A value without any "<" is read as whitespace- or comma-separated ids, keeping
// those that contain "@".
func ParseMessageIDs(s string) []string {
	ids := []string{}
	if !strings.Contains(s, "<") {
		for _, f := range strings.FieldsFunc(stripComments(s), func(r rune) bool {
			return r == ',' || r == ' ' || r == '\t' || r == '\r' || r == '\n'
		}) {
			if strings.Contains(f, "@") {
				ids = append(ids, "<"+f+">")
			}
		}
		return ids
	}
	for {
		lt := strings.IndexByte(s, '<')
		if lt < 0 {
			return ids
		}
		s = s[lt+1:]
		gt := strings.IndexByte(s, '>')
		if gt < 0 {
			gt = len(s)
		}
		// A "<" before the ">" means the first "<" was junk: start over from the later one.
		if nlt := strings.IndexByte(s[:gt], '<'); nlt >= 0 {
			s = s[nlt:]
			continue
		}
		if id := removeSpace(s[:gt]); id != "" {
			ids = append(ids, "<"+id+">")
		}
		if gt == len(s) {
			return ids
		}
		s = s[gt+1:]
	}
}

// messageIDAsWritten returns a Message-ID header value as written: its first <...> token when
// it has one, otherwise the trimmed value.
func messageIDAsWritten(v string) string {
	if ids := ParseMessageIDs(v); len(ids) > 0 && strings.Contains(v, "<") {
		return ids[0]
	}
	return removeSpace(stripComments(v))
}

// CanonicalMessageID returns the form of a message id used to match messages into threads:
// comments and all whitespace removed, exactly one pair of angle brackets, and the domain
// (the part after the last "@") lower-cased. The local part keeps its case: RFC 5322 makes it
// case-sensitive and generators use mixed-case random ids, while domains are rewritten in
// case by some relays. Returns "" for an empty id.
func CanonicalMessageID(id string) string {
	id = strings.TrimSpace(stripComments(id))
	if i := strings.IndexByte(id, '<'); i >= 0 {
		id = id[i+1:]
		if j := strings.IndexByte(id, '>'); j >= 0 {
			id = id[:j]
		}
	}
	id = strings.Trim(removeSpace(id), "<>")
	if id == "" {
		return ""
	}
	if at := strings.LastIndexByte(id, '@'); at >= 0 {
		id = id[:at] + strings.ToLower(id[at:])
	}
	return "<" + id + ">"
}

// removeSpace deletes all ASCII whitespace, as folding may have put some inside an id.
func removeSpace(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}
