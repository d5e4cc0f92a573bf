package dynamo

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// A DynamoDB JSON reader of its own: encoding/json validates a document again at every level
// that has an UnmarshalJSON method, which for nested attribute values (and every stored item
// read back) costs more than the rest of a request. This reader walks the bytes once; what it
// does not expect, it refuses with the same messages as the encoding/json path did.

var errSyntax = errors.New("invalid DynamoDB JSON")

func skipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

func expect(b []byte, c byte) ([]byte, error) {
	b = skipSpace(b)
	if len(b) == 0 || b[0] != c {
		return nil, errSyntax
	}
	return b[1:], nil
}

// parseString reads a JSON string; the fast path has no escapes.
func parseString(b []byte) (string, []byte, error) {
	b = skipSpace(b)
	if len(b) == 0 || b[0] != '"' {
		return "", nil, errSyntax
	}
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			s := b[1:i]
			if !utf8.Valid(s) {
				var out string
				if err := json.Unmarshal(b[:i+1], &out); err != nil {
					return "", nil, err
				}
				return out, b[i+1:], nil
			}
			return string(s), b[i+1:], nil
		case c == '\\':
			// Escapes: find the end, then let encoding/json unquote.
			for j := i; j < len(b); j++ {
				if b[j] == '\\' {
					j++
					continue
				}
				if b[j] == '"' {
					var out string
					if err := json.Unmarshal(b[:j+1], &out); err != nil {
						return "", nil, err
					}
					return out, b[j+1:], nil
				}
			}
			return "", nil, errSyntax
		case c < 0x20:
			return "", nil, errSyntax
		}
	}
	return "", nil, errSyntax
}

func parseStrings(b []byte) ([]string, []byte, error) {
	b, err := expect(b, '[')
	if err != nil {
		return nil, nil, err
	}
	out := []string{}
	if r := skipSpace(b); len(r) > 0 && r[0] == ']' {
		return out, r[1:], nil
	}
	for {
		var s string
		if s, b, err = parseString(b); err != nil {
			return nil, nil, err
		}
		out = append(out, s)
		b = skipSpace(b)
		if len(b) == 0 {
			return nil, nil, errSyntax
		}
		if b[0] == ']' {
			return out, b[1:], nil
		}
		if b[0] != ',' {
			return nil, nil, errSyntax
		}
		b = b[1:]
	}
}

func parseBool(b []byte) (bool, []byte, error) {
	b = skipSpace(b)
	switch {
	case len(b) >= 4 && string(b[:4]) == "true":
		return true, b[4:], nil
	case len(b) >= 5 && string(b[:5]) == "false":
		return false, b[5:], nil
	}
	return false, nil, errSyntax
}

// parseItem reads a map of attribute values.
func parseItem(b []byte) (Item, []byte, error) {
	b, err := expect(b, '{')
	if err != nil {
		return nil, nil, err
	}
	out := Item{}
	if r := skipSpace(b); len(r) > 0 && r[0] == '}' {
		return out, r[1:], nil
	}
	for {
		var name string
		if name, b, err = parseString(b); err != nil {
			return nil, nil, err
		}
		if b, err = expect(b, ':'); err != nil {
			return nil, nil, err
		}
		var v Value
		if v, b, err = parseValue(b); err != nil {
			return nil, nil, err
		}
		out[name] = v
		b = skipSpace(b)
		if len(b) == 0 {
			return nil, nil, errSyntax
		}
		if b[0] == '}' {
			return out, b[1:], nil
		}
		if b[0] != ',' {
			return nil, nil, errSyntax
		}
		b = b[1:]
	}
}

// parseValue reads one attribute value: an object with exactly one type tag.
func parseValue(b []byte) (Value, []byte, error) {
	var v Value
	b, err := expect(b, '{')
	if err != nil {
		return v, nil, err
	}
	if r := skipSpace(b); len(r) > 0 && r[0] == '}' {
		return v, nil, fmt.Errorf("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	}
	tag, b, err := parseString(b)
	if err != nil {
		return v, nil, err
	}
	if b, err = expect(b, ':'); err != nil {
		return v, nil, err
	}
	switch tag {
	case "S":
		v.Kind = KindS
		v.S, b, err = parseString(b)
	case "N":
		v.Kind = KindN
		if v.S, b, err = parseString(b); err == nil {
			if _, ok := parseNumber(v.S); !ok {
				err = fmt.Errorf("The parameter cannot be converted to a numeric value: %s", v.S)
			}
		}
	case "B":
		v.Kind = KindB
		var s string
		if s, b, err = parseString(b); err == nil {
			v.B, err = base64.StdEncoding.DecodeString(s)
		}
	case "BOOL":
		v.Kind = KindBOOL
		v.Bool, b, err = parseBool(b)
	case "NULL":
		v.Kind = KindNULL
		var t bool
		if t, b, err = parseBool(b); err == nil && !t {
			err = fmt.Errorf("Null attribute value types must have the value of true")
		}
	case "SS", "NS":
		v.Kind = KindSS
		if tag == "NS" {
			v.Kind = KindNS
		}
		if v.Strings, b, err = parseStrings(b); err == nil {
			err = checkSet(v)
		}
	case "BS":
		v.Kind = KindBS
		var ss []string
		if ss, b, err = parseStrings(b); err == nil {
			for _, s := range ss {
				d, derr := base64.StdEncoding.DecodeString(s)
				if derr != nil {
					err = derr
					break
				}
				v.Binaries = append(v.Binaries, d)
			}
			if err == nil {
				err = checkSet(v)
			}
		}
	case "L":
		v.Kind = KindL
		v.L, b, err = parseList(b)
	case "M":
		v.Kind = KindM
		var m Item
		m, b, err = parseItem(b)
		v.M = m
	default:
		return v, nil, fmt.Errorf("unknown attribute value type %q", tag)
	}
	if err != nil {
		return v, nil, err
	}
	b = skipSpace(b)
	if len(b) > 0 && b[0] == ',' {
		return v, nil, fmt.Errorf("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
	}
	b, err = expect(b, '}')
	return v, b, err
}

func parseList(b []byte) ([]Value, []byte, error) {
	b, err := expect(b, '[')
	if err != nil {
		return nil, nil, err
	}
	out := []Value{}
	if r := skipSpace(b); len(r) > 0 && r[0] == ']' {
		return out, r[1:], nil
	}
	for {
		var v Value
		if v, b, err = parseValue(b); err != nil {
			return nil, nil, err
		}
		out = append(out, v)
		b = skipSpace(b)
		if len(b) == 0 {
			return nil, nil, errSyntax
		}
		if b[0] == ']' {
			return out, b[1:], nil
		}
		if b[0] != ',' {
			return nil, nil, errSyntax
		}
		b = b[1:]
	}
}

// checkSet refuses empty sets and duplicate members, as DynamoDB does.
func checkSet(v Value) error {
	if len(v.Strings) == 0 && len(v.Binaries) == 0 {
		switch v.Kind {
		case KindSS:
			return fmt.Errorf("One or more parameter values were invalid: An string set  may not be empty")
		case KindNS:
			return fmt.Errorf("One or more parameter values were invalid: An number set  may not be empty")
		default:
			return fmt.Errorf("One or more parameter values were invalid: Binary sets should not be empty")
		}
	}
	return checkSetDuplicates(v)
}
