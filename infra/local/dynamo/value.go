package dynamo

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// Kind is the type of an attribute value: its DynamoDB JSON tag.
type Kind uint8

// The ten attribute value types.
const (
	KindS Kind = iota + 1
	KindN
	KindB
	KindBOOL
	KindNULL
	KindSS
	KindNS
	KindBS
	KindL
	KindM
)

var kindNames = [...]string{KindS: "S", KindN: "N", KindB: "B", KindBOOL: "BOOL", KindNULL: "NULL", KindSS: "SS", KindNS: "NS", KindBS: "BS", KindL: "L", KindM: "M"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "?"
}

// Value is one attribute value. Kind says which fields hold it: S for S and N (N keeps the
// decimal text as sent), B for B, Bool for BOOL, Strings for SS and NS, Binaries for BS, L and M
// for lists and maps. NULL carries nothing.
type Value struct {
	Kind     Kind
	S        string
	B        []byte
	Bool     bool
	Strings  []string
	Binaries [][]byte
	L        []Value
	M        map[string]Value
}

// Item is one item: attribute name → value.
type Item map[string]Value

// Str and Num build S and N values.
func Str(s string) Value { return Value{Kind: KindS, S: s} }
func Num(n string) Value { return Value{Kind: KindN, S: n} }

// UnmarshalJSON reads DynamoDB JSON: an object with exactly one type tag (value_json.go).
func (v *Value) UnmarshalJSON(data []byte) error {
	out, rest, err := parseValue(data)
	if err != nil {
		return err
	}
	if len(skipSpace(rest)) > 0 {
		return errSyntax
	}
	*v = out
	return nil
}

// UnmarshalJSON reads a DynamoDB JSON map of attribute values.
func (it *Item) UnmarshalJSON(data []byte) error {
	if s := skipSpace(data); len(s) >= 4 && string(s[:4]) == "null" {
		*it = nil
		return nil
	}
	out, rest, err := parseItem(data)
	if err != nil {
		return err
	}
	if len(skipSpace(rest)) > 0 {
		return errSyntax
	}
	*it = out
	return nil
}

func checkSetDuplicates(v Value) error {
	seen := map[string]bool{}
	for _, k := range setKeys(v) {
		if seen[k] {
			return fmt.Errorf("Input collection contains duplicates")
		}
		seen[k] = true
	}
	return nil
}

// setKeys are the members of a set in a comparable form (numbers canonical).
func setKeys(v Value) []string {
	switch v.Kind {
	case KindNS:
		out := make([]string, len(v.Strings))
		for i, n := range v.Strings {
			out[i] = canonicalNumber(n)
		}
		return out
	case KindBS:
		out := make([]string, len(v.Binaries))
		for i, b := range v.Binaries {
			out[i] = string(b)
		}
		return out
	default:
		return v.Strings
	}
}

// MarshalJSON writes DynamoDB JSON.
func (v Value) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	v.appendJSON(&buf)
	return buf.Bytes(), nil
}

func (v Value) appendJSON(buf *bytes.Buffer) {
	str := func(s string) {
		b, _ := json.Marshal(s)
		buf.Write(b)
	}
	buf.WriteString(`{"` + v.Kind.String() + `":`)
	switch v.Kind {
	case KindS, KindN:
		str(v.S)
	case KindB:
		buf.WriteByte('"')
		buf.WriteString(base64.StdEncoding.EncodeToString(v.B))
		buf.WriteByte('"')
	case KindBOOL:
		if v.Bool {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case KindNULL:
		buf.WriteString("true")
	case KindSS, KindNS:
		buf.WriteByte('[')
		for i, s := range v.Strings {
			if i > 0 {
				buf.WriteByte(',')
			}
			str(s)
		}
		buf.WriteByte(']')
	case KindBS:
		buf.WriteByte('[')
		for i, b := range v.Binaries {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteByte('"')
			buf.WriteString(base64.StdEncoding.EncodeToString(b))
			buf.WriteByte('"')
		}
		buf.WriteByte(']')
	case KindL:
		buf.WriteByte('[')
		for i, e := range v.L {
			if i > 0 {
				buf.WriteByte(',')
			}
			e.appendJSON(buf)
		}
		buf.WriteByte(']')
	case KindM:
		appendMapJSON(buf, v.M)
	default:
		buf.WriteString("null")
	}
	buf.WriteByte('}')
}

func appendMapJSON(buf *bytes.Buffer, m map[string]Value) {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	buf.WriteByte('{')
	for i, k := range names {
		if i > 0 {
			buf.WriteByte(',')
		}
		b, _ := json.Marshal(k)
		buf.Write(b)
		buf.WriteByte(':')
		m[k].appendJSON(buf)
	}
	buf.WriteByte('}')
}

// MarshalJSON writes the item as a DynamoDB JSON map, names sorted.
func (it Item) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	appendMapJSON(&buf, it)
	return buf.Bytes(), nil
}

// Clone is a deep copy of the item.
func (it Item) Clone() Item {
	if it == nil {
		return nil
	}
	out := make(Item, len(it))
	for k, v := range it {
		out[k] = v.Clone()
	}
	return out
}

// Clone is a deep copy of the value.
func (v Value) Clone() Value {
	out := v
	out.B = bytes.Clone(v.B)
	out.Strings = slices.Clone(v.Strings)
	if v.Binaries != nil {
		out.Binaries = make([][]byte, len(v.Binaries))
		for i, b := range v.Binaries {
			out.Binaries[i] = bytes.Clone(b)
		}
	}
	if v.L != nil {
		out.L = make([]Value, len(v.L))
		for i, e := range v.L {
			out.L[i] = e.Clone()
		}
	}
	if v.M != nil {
		out.M = make(map[string]Value, len(v.M))
		for k, e := range v.M {
			out.M[k] = e.Clone()
		}
	}
	return out
}

// Equal says whether two values are the same as DynamoDB compares them: numbers by value,
// sets regardless of order, lists in order, maps by their members.
func Equal(a, b Value) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case KindS:
		return a.S == b.S
	case KindN:
		return compareNumbers(a.S, b.S) == 0
	case KindB:
		return bytes.Equal(a.B, b.B)
	case KindBOOL:
		return a.Bool == b.Bool
	case KindNULL:
		return true
	case KindSS, KindNS, KindBS:
		ka, kb := setKeys(a), setKeys(b)
		if len(ka) != len(kb) {
			return false
		}
		slices.Sort(ka)
		slices.Sort(kb)
		return slices.Equal(ka, kb)
	case KindL:
		if len(a.L) != len(b.L) {
			return false
		}
		for i := range a.L {
			if !Equal(a.L[i], b.L[i]) {
				return false
			}
		}
		return true
	case KindM:
		if len(a.M) != len(b.M) {
			return false
		}
		for k, av := range a.M {
			bv, ok := b.M[k]
			if !ok || !Equal(av, bv) {
				return false
			}
		}
		return true
	}
	return false
}

// Compare orders two scalar values of the same kind (S by UTF-8 bytes, N by value, B by bytes);
// ok is false when they are not comparable.
func Compare(a, b Value) (c int, ok bool) {
	if a.Kind != b.Kind {
		return 0, false
	}
	switch a.Kind {
	case KindS:
		return strings.Compare(a.S, b.S), true
	case KindN:
		return compareNumbers(a.S, b.S), true
	case KindB:
		return bytes.Compare(a.B, b.B), true
	}
	return 0, false
}

// parseNumber reads a DynamoDB number (at most 38 significant digits).
func parseNumber(s string) (*big.Rat, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

func compareNumbers(a, b string) int {
	ra, oka := parseNumber(a)
	rb, okb := parseNumber(b)
	if !oka || !okb {
		return strings.Compare(a, b)
	}
	return ra.Cmp(rb)
}

// canonicalNumber is the shortest exact decimal text of a number, as DynamoDB returns it.
func canonicalNumber(s string) string {
	r, ok := parseNumber(s)
	if !ok {
		return s
	}
	return formatRat(r)
}

// formatRat writes r as a plain decimal; DynamoDB numbers are decimals, so the denominator of
// any result of their sums is a power of ten times what FloatString's precision captures.
func formatRat(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	out := r.FloatString(40)
	out = strings.TrimRight(out, "0")
	return strings.TrimSuffix(out, ".")
}

// Size is the value's size as DynamoDB counts it towards the 400 KB item limit: string and
// binary lengths, numbers by their digits, one byte for BOOL and NULL, three bytes of overhead
// for each list or map plus one per element.
func (v Value) Size() int {
	switch v.Kind {
	case KindS:
		return len(v.S)
	case KindN:
		return numberSize(v.S)
	case KindB:
		return len(v.B)
	case KindBOOL, KindNULL:
		return 1
	case KindSS:
		n := 0
		for _, s := range v.Strings {
			n += len(s)
		}
		return n
	case KindNS:
		n := 0
		for _, s := range v.Strings {
			n += numberSize(s)
		}
		return n
	case KindBS:
		n := 0
		for _, b := range v.Binaries {
			n += len(b)
		}
		return n
	case KindL:
		n := 3
		for _, e := range v.L {
			n += 1 + e.Size()
		}
		return n
	case KindM:
		n := 3
		for k, e := range v.M {
			n += 1 + len(k) + e.Size()
		}
		return n
	}
	return 0
}

func numberSize(s string) int {
	digits := 0
	for _, c := range strings.TrimLeft(strings.TrimSpace(s), "-+0") {
		if c >= '0' && c <= '9' {
			digits++
		} else if c == 'e' || c == 'E' {
			break
		}
	}
	return (digits+1)/2 + 1
}

// Size is the item's size: each attribute's name plus its value.
func (it Item) Size() int {
	n := 0
	for k, v := range it {
		n += len(k) + v.Size()
	}
	return n
}
