// Expressions: DynamoDB's condition (and filter), key condition, projection and update
// expression languages. Each expression is tokenized, parsed by recursive descent into a small
// AST once per request, checked, and then evaluated against items as often as needed.
//
// The rules mirrored from DynamoDB:
//
//   - Names are [A-Za-z][A-Za-z0-9_]*; #name and :value placeholders are # or : followed by one
//     or more of [A-Za-z0-9_]. A name on DynamoDB's reserved word list (case-insensitive) is
//     refused ("Attribute name is a reserved keyword; reserved keyword: status"); placeholders
//     are the way around it. A placeholder that is not in ExpressionAttributeNames/Values is
//     refused, and Refs collects the ones used so the server can refuse unused ones.
//   - Keywords (AND OR NOT BETWEEN IN; SET REMOVE ADD DELETE) are case-insensitive, function
//     names are not ("Invalid function name; function: Size").
//   - Syntax errors read `Syntax error; token: "x", near: "a x b"`: the offending token and the
//     text from the token before it to the token after it ("<EOF>" at the end).
//   - Precedence, tightest first: comparisons, BETWEEN and IN; NOT; AND; OR. Literals do not
//     exist: every constant is a :value. A condition wrapped in two pairs of parentheses is
//     refused ("The expression has redundant parentheses;").
//   - Semantic errors are collected while parsing and the first of the most important kind is
//     reported, in DynamoDB's order (for conditions: redundant parentheses, unknown function,
//     misused function, reserved word, undefined placeholder, operand count, operands that are
//     the same path, operand types).
//   - Comparisons: = and <> compare any types (different types are not equal, a missing operand
//     equals nothing, so <> with a missing operand is true); < <= > >= and BETWEEN compare two
//     values of the same scalar type (S by bytes, N by value, B by bytes) and are false
//     otherwise. BETWEEN with two :value bounds of different types, or with lower > upper, is
//     refused when parsed. IN takes at most 100 operands.
//   - Functions: attribute_exists, attribute_not_exists, attribute_type(path, :type),
//     begins_with (S or B), contains (substring of S or B, member of a set, element of a
//     list), size (bytes of S and B, members of sets, lists and maps; on other types it has no
//     value, so comparisons with it are false). Only size may be an operand; a :value of a
//     wrong type for begins_with, size or attribute_type is refused when parsed.
//   - Update expressions: SET, REMOVE, ADD and DELETE sections in any order, each once. Every
//     operand is read from the item as it was before the update; no two actions may touch
//     overlapping paths (a path and a path inside it, or the same path twice) or use one
//     element both as a map key and a list index. SET takes one + or - at most, if_not_exists
//     and list_append; SET past the end of a list appends; REMOVE of list elements refers to
//     the original indexes (the rest shift down); REMOVE of a missing attribute does nothing;
//     ADD adds numbers (a missing attribute counts as 0) and unites sets; DELETE takes members
//     out of a set and removes the set when it becomes empty. A path whose parent is missing or
//     of the wrong type is "invalid for update".
//   - Projections keep the document structure: a.b[1] projects {a: {b: [element]}}; list
//     elements projected from one list keep their order and close up.
//   - Key conditions: the hash key with = and at most one condition on the range key (=, <, <=,
//     >, >=, BETWEEN, begins_with), joined by AND, the key on either side of a comparison.

package dynamo

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Refs collects which #names and :values the expressions of one request used, so the server
// can refuse unused ones as DynamoDB does. The zero value is ready to use.
type Refs struct{ Names, Values map[string]bool }

func (r *Refs) useName(n string) {
	if r.Names == nil {
		r.Names = map[string]bool{}
	}
	r.Names[n] = true
}

func (r *Refs) useValue(v string) {
	if r.Values == nil {
		r.Values = map[string]bool{}
	}
	r.Values[v] = true
}

// CheckUnused refuses ExpressionAttributeNames and ExpressionAttributeValues entries that no
// expression of the request used, names first, with DynamoDB's messages (keys sorted).
func (r *Refs) CheckUnused(names map[string]string, values map[string]Value) error {
	var unused []string
	for k := range names {
		if r == nil || !r.Names[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		slices.Sort(unused)
		return fmt.Errorf("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", strings.Join(unused, ", "))
	}
	for k := range values {
		if r == nil || !r.Values[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		slices.Sort(unused)
		return fmt.Errorf("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", strings.Join(unused, ", "))
	}
	return nil
}

// ---- Tokens ----

type tokKind uint8

const (
	tEOF     tokKind = iota
	tIdent           // a bare name, keyword or function name
	tName            // #placeholder
	tValue           // :placeholder
	tNumber          // digits, only valid as a list index
	tPunct           // ( ) [ ] , . = <> < <= > >= + -
	tIllegal         // any other character, or a lone # or :
)

type token struct {
	kind       tokKind
	text       string
	start, end int // byte offsets in the expression
}

func isLetter(c byte) bool   { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool    { return c >= '0' && c <= '9' }
func isNamePart(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' }
func isSpace(c byte) bool    { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func scan(s string, i int, ok func(byte) bool) int {
	for i < len(s) && ok(s[i]) {
		i++
	}
	return i
}

// lex splits an expression into tokens; the last is always tEOF.
func lex(src string) []token {
	var toks []token
	for i := 0; i < len(src); {
		c := src[i]
		if isSpace(c) {
			i++
			continue
		}
		kind, j := tIllegal, i+1
		switch {
		case isLetter(c):
			kind, j = tIdent, scan(src, i+1, isNamePart)
		case isDigit(c):
			kind, j = tNumber, scan(src, i+1, isDigit)
		case c == '#' || c == ':':
			if j = scan(src, i+1, isNamePart); j > i+1 {
				kind = tName
				if c == ':' {
					kind = tValue
				}
			}
		case strings.HasPrefix(src[i:], "<>") || strings.HasPrefix(src[i:], "<=") || strings.HasPrefix(src[i:], ">="):
			kind, j = tPunct, i+2
		case strings.IndexByte("()[],.=<>+-", c) >= 0:
			kind = tPunct
		default:
			_, size := utf8.DecodeRuneInString(src[i:])
			j = i + size
		}
		toks = append(toks, token{kind: kind, text: src[i:j], start: i, end: j})
		i = j
	}
	return append(toks, token{kind: tEOF, text: "<EOF>", start: len(src), end: len(src)})
}

// ---- Document paths ----

// pathElem is one step of a document path: a map key (or top-level attribute name) or a list
// index.
type pathElem struct {
	name    string
	index   int
	isIndex bool
}

// path is a document path. The first element is always a name.
type path []pathElem

// String writes the path as DynamoDB's error messages do: [a, b, [1]].
func (p path) String() string {
	parts := make([]string, len(p))
	for i, e := range p {
		if e.isIndex {
			parts[i] = "[" + strconv.Itoa(e.index) + "]"
		} else {
			parts[i] = e.name
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (p path) equal(q path) bool { return slices.Equal(p, q) }

// resolve finds the value at the path; ok is false when any step is missing or of the wrong type.
func (p path) resolve(item Item) (Value, bool) {
	v, ok := item[p[0].name]
	if !ok {
		return Value{}, false
	}
	for _, e := range p[1:] {
		if e.isIndex {
			if v.Kind != KindL || e.index >= len(v.L) {
				return Value{}, false
			}
			v = v.L[e.index]
		} else {
			if v.Kind != KindM {
				return Value{}, false
			}
			if v, ok = v.M[e.name]; !ok {
				return Value{}, false
			}
		}
	}
	return v, true
}

// comparePaths orders paths element by element (names before indexes where they differ), so
// that sorting actions puts list elements in index order.
func comparePaths(a, b path) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		switch {
		case x.isIndex != y.isIndex:
			if x.isIndex {
				return 1
			}
			return -1
		case x.isIndex:
			if x.index != y.index {
				return x.index - y.index
			}
		case x.name != y.name:
			return strings.Compare(x.name, y.name)
		}
	}
	return len(a) - len(b)
}

// ---- Parser ----

// exprKind says which language is parsed: it decides the keywords, the functions, and the
// order in which semantic errors are reported.
type exprKind uint8

const (
	kindCondition exprKind = iota // ConditionExpression, FilterExpression, KeyConditionExpression
	kindUpdate
	kindProjection
)

// errCat is a kind of semantic error. DynamoDB reports the first error of the most important
// kind present, whatever their order in the expression.
type errCat uint8

const (
	errParens errCat = iota
	errUnknownFunc
	errMisusedFunc
	errReserved
	errSection
	errName // in conditions, also undefined :values
	errValue
	errOverlap
	errConflict
	errOperand
	errDistinct
	errFunction
)

var errOrder = map[exprKind][]errCat{
	kindCondition:  {errParens, errUnknownFunc, errMisusedFunc, errReserved, errName, errOperand, errDistinct, errFunction},
	kindUpdate:     {errReserved, errUnknownFunc, errSection, errName, errValue, errOverlap, errConflict, errOperand, errFunction},
	kindProjection: {errReserved, errName, errOverlap, errConflict},
}

var keywords = map[exprKind]map[string]bool{
	kindCondition: {"AND": true, "OR": true, "NOT": true, "BETWEEN": true, "IN": true},
	kindUpdate:    {"SET": true, "REMOVE": true, "ADD": true, "DELETE": true},
}

// maxExpressionSize is DynamoDB's limit on an expression's length in bytes.
const maxExpressionSize = 4096

// syntaxError is panicked by the parser and recovered by parser.run.
type syntaxError struct{ msg string }

type parser struct {
	src    string
	toks   []token
	pos    int
	kind   exprKind
	names  map[string]string
	values map[string]Value
	refs   *Refs
	quiet  int               // > 0 while looking ahead: record no errors and no references
	errs   map[errCat]string // the first error of each kind
	paths  []path            // update and projection: the paths so far, for the overlap checks
}

func newParser(kind exprKind, src string, names map[string]string, values map[string]Value, refs *Refs) *parser {
	if refs == nil {
		refs = &Refs{}
	}
	return &parser{src: src, toks: lex(src), kind: kind, names: names, values: values, refs: refs, errs: map[errCat]string{}}
}

// run parses with f and returns DynamoDB's message for the first problem, prefixed by
// "Invalid <what>: ".
func (p *parser) run(what string, f func()) (err error) {
	fail := func(msg string) error { return errors.New("Invalid " + what + ": " + msg) }
	if p.src == "" {
		return fail("The expression can not be empty;")
	}
	if len(p.src) > maxExpressionSize {
		return fail(fmt.Sprintf("Expression size has exceeded the maximum allowed size; expression size: %d", len(p.src)))
	}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(syntaxError)
			if !ok {
				panic(r)
			}
			err = fail(se.msg)
		}
	}()
	f()
	for _, cat := range errOrder[p.kind] {
		if msg, ok := p.errs[cat]; ok {
			return fail(msg)
		}
	}
	return nil
}

func (p *parser) tok() token            { return p.toks[p.pos] }
func (p *parser) peek(n int) token      { return p.toks[min(p.pos+n, len(p.toks)-1)] }
func (p *parser) isPunct(s string) bool { t := p.tok(); return t.kind == tPunct && t.text == s }

func (p *parser) isKeyword(t token, kw string) bool {
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) anyKeyword(t token) bool {
	return t.kind == tIdent && keywords[p.kind][strings.ToUpper(t.text)]
}

// fail records a semantic error; only the first of each kind is kept.
func (p *parser) fail(cat errCat, format string, args ...any) {
	if p.quiet > 0 {
		return
	}
	if _, ok := p.errs[cat]; !ok {
		p.errs[cat] = fmt.Sprintf(format, args...)
	}
}

// syntaxErrorAt stops the parse at token i.
func (p *parser) syntaxErrorAt(i int) {
	t := p.toks[i]
	start, end := t.start, t.end
	if i > 0 {
		start = p.toks[i-1].start
		if t.kind == tEOF {
			end = p.toks[i-1].end
		}
	}
	if t.kind != tEOF && p.toks[i+1].kind != tEOF {
		end = p.toks[i+1].end
	}
	panic(syntaxError{`Syntax error; token: "` + t.text + `", near: "` + p.src[start:end] + `"`})
}

func (p *parser) syntaxErr() { p.syntaxErrorAt(p.pos) }

func (p *parser) expectPunct(s string) {
	if !p.isPunct(s) {
		p.syntaxErr()
	}
	p.pos++
}

// attempt runs f as a look-ahead: nothing is recorded and the position is restored. It reports
// whether f parsed without a syntax error and returned true.
func (p *parser) attempt(f func() bool) (ok bool) {
	save := p.pos
	p.quiet++
	defer func() {
		if r := recover(); r != nil {
			if _, isSyntax := r.(syntaxError); !isSyntax {
				panic(r)
			}
			ok = false
		}
		p.pos = save
		p.quiet--
	}()
	return f()
}

// parsePath reads a document path: name or #name, then .name, .#name or [n] steps.
func (p *parser) parsePath() path {
	out := path{p.parsePathName()}
	for {
		switch {
		case p.isPunct("."):
			p.pos++
			out = append(out, p.parsePathName())
		case p.isPunct("["):
			p.pos++
			t := p.tok()
			n, err := strconv.Atoi(t.text)
			if t.kind != tNumber || err != nil {
				p.syntaxErr()
			}
			p.pos++
			p.expectPunct("]")
			out = append(out, pathElem{index: n, isIndex: true})
		default:
			return out
		}
	}
}

func (p *parser) parsePathName() pathElem {
	t := p.tok()
	switch {
	case t.kind == tIdent && !p.anyKeyword(t):
		p.pos++
		if reservedWords[strings.ToUpper(t.text)] {
			p.fail(errReserved, "Attribute name is a reserved keyword; reserved keyword: %s", t.text)
		}
		return pathElem{name: t.text}
	case t.kind == tName:
		p.pos++
		name, ok := p.names[t.text]
		if !ok {
			p.fail(errName, "An expression attribute name used in the document path is not defined; attribute name: %s", t.text)
			return pathElem{name: t.text}
		}
		if p.quiet == 0 {
			p.refs.useName(t.text)
		}
		return pathElem{name: name}
	}
	p.syntaxErr()
	panic("unreachable")
}

// opKind is what an operand is.
type opKind uint8

const (
	oPath opKind = iota + 1
	oValue
	oFunc // a function call; in update expressions also + and -
)

type operand struct {
	kind   opKind
	path   path
	value  Value // oValue; Kind 0 when the placeholder is undefined
	fn     string
	args   []*operand
	result Kind // oFunc: the type the function returns, when known
	parens int  // how many pairs of parentheses enclose it
	tok    int  // the token it starts at (+ and -: the operator)
}

// typ is the operand's type when known before evaluation: a :value's, or a function result's.
func (o *operand) typ() Kind {
	switch o.kind {
	case oValue:
		return o.value.Kind
	case oFunc:
		return o.result
	}
	return 0
}

func (o *operand) isArith() bool { return o.kind == oFunc && (o.fn == "+" || o.fn == "-") }

// parseOperand reads a path, a :value or a function call.
func (p *parser) parseOperand() *operand {
	t := p.tok()
	start := p.pos
	switch {
	case t.kind == tValue:
		p.pos++
		v, ok := p.values[t.text]
		if !ok {
			cat := errValue
			if p.kind == kindCondition {
				cat = errName
			}
			p.fail(cat, "An expression attribute value used in expression is not defined; attribute value: %s", t.text)
		} else if p.quiet == 0 {
			p.refs.useValue(t.text)
		}
		return &operand{kind: oValue, value: v, tok: start}
	case t.kind == tIdent && !p.anyKeyword(t) && p.peek(1).kind == tPunct && p.peek(1).text == "(":
		p.pos += 2
		f := &operand{kind: oFunc, fn: t.text, tok: start}
		for {
			f.args = append(f.args, p.parseOperandParens())
			if !p.isPunct(",") {
				break
			}
			p.pos++
		}
		p.expectPunct(")")
		if p.kind == kindUpdate {
			p.checkUpdateFunc(f)
		} else {
			p.checkConditionFunc(f)
		}
		return f
	case t.kind == tIdent || t.kind == tName:
		return &operand{kind: oPath, path: p.parsePath(), tok: start}
	}
	p.syntaxErr()
	panic("unreachable")
}

// parseOperandParens reads an operand in any number of parentheses; in conditions, two pairs
// are redundant.
func (p *parser) parseOperandParens() *operand {
	if !p.isPunct("(") {
		return p.parseOperand()
	}
	p.pos++
	o := p.parseOperandParens()
	p.expectPunct(")")
	if o.parens > 0 && p.kind == kindCondition {
		p.fail(errParens, "The expression has redundant parentheses;")
	}
	o.parens++
	return o
}

// checkDistinct refuses an operator or function whose first operand is a path that appears
// again among the other operands (a = a).
func (p *parser) checkDistinct(op string, args []*operand) {
	if len(args) < 2 || args[0].kind != oPath {
		return
	}
	for _, a := range args[1:] {
		if a.kind == oPath && a.path.equal(args[0].path) {
			p.fail(errDistinct, "The first operand must be distinct from the remaining operands for this operator or function; operator: %s, first operand: %s", op, args[0].path)
			return
		}
	}
}

// checkMisused refuses functions other than size where an operand is expected.
func (p *parser) checkMisused(args []*operand) {
	for _, a := range args {
		if a.kind == oFunc && a.fn != "size" {
			p.fail(errMisusedFunc, "The function is not allowed to be used this way in an expression; function: %s", a.fn)
		}
	}
}

// attributeTypes are the type names attribute_type accepts.
var attributeTypes = map[string]bool{"S": true, "N": true, "B": true, "BOOL": true, "NULL": true, "SS": true, "NS": true, "BS": true, "L": true, "M": true}

var conditionFuncs = map[string]int{"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2, "begins_with": 2, "contains": 2, "size": 1}

// checkConditionFunc checks a condition function's name, operands and operand types, and sets
// its result type.
func (p *parser) checkConditionFunc(f *operand) {
	p.checkMisused(f.args)
	n, ok := conditionFuncs[f.fn]
	if !ok {
		p.fail(errUnknownFunc, "Invalid function name; function: %s", f.fn)
		return
	}
	if n != len(f.args) {
		p.fail(errOperand, "Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", f.fn, len(f.args))
		return
	}
	p.checkDistinct(f.fn, f.args)
	badType := func(t string) {
		p.fail(errFunction, "Incorrect operand type for operator or function; operator or function: %s, operand type: %s", f.fn, t)
	}
	f.result = KindBOOL
	switch f.fn {
	case "attribute_exists", "attribute_not_exists":
		if f.args[0].kind != oPath {
			p.fail(errFunction, "Operator or function requires a document path; operator or function: %s", f.fn)
		}
	case "begins_with":
		for _, a := range f.args {
			if t := a.typ(); t != 0 && t != KindS && t != KindB {
				badType(t.String())
				break
			}
		}
	case "attribute_type":
		switch t := f.args[1].typ(); {
		case t == 0:
			badType("{NS,SS,L,BS,N,M,B,BOOL,NULL,S}")
		case t != KindS:
			badType(t.String())
		case !attributeTypes[f.args[1].value.S]:
			p.fail(errFunction, "Invalid attribute type name found; type: %s, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}", f.args[1].value.S)
		}
	case "size":
		if t := f.args[0].typ(); t == KindN || t == KindBOOL || t == KindNULL {
			badType(t.String())
		}
		f.result = KindN
	}
}

// ---- Conditions ----

type condOp uint8

const (
	cAnd condOp = iota + 1
	cOr
	cNot
	cCompare
	cBetween
	cIn
	cFunc
)

type cond struct {
	op     condOp
	cmp    string     // cCompare: = <> < <= > >=
	kids   []*cond    // cAnd, cOr: two; cNot: one
	args   []*operand // cCompare: two; cBetween: three; cIn: the operand then the list; cFunc: the arguments
	fn     string     // cFunc
	parens int
}

func (p *parser) parseOr() *cond {
	c := p.parseAnd()
	for p.isKeyword(p.tok(), "OR") {
		p.pos++
		c = &cond{op: cOr, kids: []*cond{c, p.parseAnd()}}
	}
	return c
}

func (p *parser) parseAnd() *cond {
	c := p.parseNot()
	for p.isKeyword(p.tok(), "AND") {
		p.pos++
		c = &cond{op: cAnd, kids: []*cond{c, p.parseNot()}}
	}
	return c
}

func (p *parser) parseNot() *cond {
	if p.isKeyword(p.tok(), "NOT") {
		p.pos++
		return &cond{op: cNot, kids: []*cond{p.parseNot()}}
	}
	return p.parsePrimary()
}

var comparators = map[string]bool{"=": true, "<>": true, "<": true, "<=": true, ">": true, ">=": true}

// startsComparison says whether the tokens from here are an operand followed by a comparator,
// BETWEEN or IN: it tells "(a) = :v" from "(a = :v)".
func (p *parser) startsComparison() bool {
	return p.attempt(func() bool {
		p.parseOperandParens()
		t := p.tok()
		return t.kind == tPunct && comparators[t.text] || p.isKeyword(t, "BETWEEN") || p.isKeyword(t, "IN")
	})
}

func (p *parser) parsePrimary() *cond {
	if p.isPunct("(") && !p.startsComparison() {
		p.pos++
		c := p.parseOr()
		p.expectPunct(")")
		if c.parens > 0 {
			p.fail(errParens, "The expression has redundant parentheses;")
		}
		c.parens++
		return c
	}
	left := p.parseOperandParens()
	t := p.tok()
	switch {
	case t.kind == tPunct && comparators[t.text]:
		p.pos++
		c := &cond{op: cCompare, cmp: t.text, args: []*operand{left, p.parseOperandParens()}}
		p.checkMisused(c.args)
		p.checkDistinct(t.text, c.args)
		return c
	case p.isKeyword(t, "BETWEEN"):
		p.pos++
		lo := p.parseOperandParens()
		if !p.isKeyword(p.tok(), "AND") {
			p.syntaxErr()
		}
		p.pos++
		c := &cond{op: cBetween, args: []*operand{left, lo, p.parseOperandParens()}}
		p.checkMisused(c.args)
		p.checkDistinct("BETWEEN", c.args)
		p.checkBetween(c.args[1], c.args[2])
		return c
	case p.isKeyword(t, "IN"):
		p.pos++
		p.expectPunct("(")
		c := &cond{op: cIn, args: []*operand{left}}
		for {
			c.args = append(c.args, p.parseOperandParens())
			if !p.isPunct(",") {
				break
			}
			p.pos++
		}
		p.expectPunct(")")
		p.checkMisused(c.args)
		p.checkDistinct("IN", c.args)
		if n := len(c.args) - 1; n > 100 {
			p.fail(errFunction, "The IN operator is provided with too many operands; number of operands: %d", n)
		}
		return c
	case left.kind == oFunc && left.parens == 0:
		if left.fn == "size" {
			p.fail(errMisusedFunc, "The function is not allowed to be used this way in an expression; function: size")
		}
		return &cond{op: cFunc, fn: left.fn, args: left.args}
	}
	p.syntaxErr()
	panic("unreachable")
}

// checkBetween refuses :value bounds of different types, or a lower bound above the upper.
func (p *parser) checkBetween(lo, hi *operand) {
	if lo.kind != oValue || hi.kind != oValue || lo.value.Kind == 0 || hi.value.Kind == 0 {
		return
	}
	bounds := fmt.Sprintf("lower bound operand: AttributeValue: {%s:%s}, upper bound operand: AttributeValue: {%s:%s}",
		lo.value.Kind, scalarText(lo.value), hi.value.Kind, scalarText(hi.value))
	if lo.value.Kind != hi.value.Kind {
		p.fail(errFunction, "The BETWEEN operator requires same data type for lower and upper bounds; %s", bounds)
	} else if c, ok := Compare(lo.value, hi.value); ok && c > 0 {
		p.fail(errFunction, "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; %s", bounds)
	}
}

// scalarText is a value as DynamoDB prints it inside an error message.
func scalarText(v Value) string {
	switch v.Kind {
	case KindS, KindN:
		return v.S
	case KindB:
		return base64.StdEncoding.EncodeToString(v.B)
	case KindBOOL:
		return strconv.FormatBool(v.Bool)
	case KindNULL:
		return "true"
	}
	b, _ := v.MarshalJSON()
	return string(b)
}

// Condition is a parsed ConditionExpression or FilterExpression.
type Condition struct {
	root *cond
	top  []string
}

func parseCondition(what, expr string, names map[string]string, values map[string]Value, refs *Refs) (*Condition, error) {
	p := newParser(kindCondition, expr, names, values, refs)
	var root *cond
	err := p.run(what, func() {
		root = p.parseOr()
		if p.tok().kind != tEOF {
			p.syntaxErr()
		}
	})
	if err != nil {
		return nil, err
	}
	c := &Condition{root: root}
	c.top = topNames(nil, root)
	return c, nil
}

// ParseCondition parses a ConditionExpression; its errors read "Invalid ConditionExpression: …".
func ParseCondition(expr string, names map[string]string, values map[string]Value, refs *Refs) (*Condition, error) {
	return parseCondition("ConditionExpression", expr, names, values, refs)
}

// ParseFilter parses a FilterExpression: the same language as ParseCondition, with errors that
// read "Invalid FilterExpression: …".
func ParseFilter(expr string, names map[string]string, values map[string]Value, refs *Refs) (*Condition, error) {
	return parseCondition("FilterExpression", expr, names, values, refs)
}

// Eval evaluates the condition on item; a nil item is an item that does not exist, on which
// attribute_not_exists is true, = and the other comparisons false, and <> true. The error is
// always nil: DynamoDB evaluates operands of the wrong type to false rather than failing.
func (c *Condition) Eval(item Item) (bool, error) { return c.root.eval(item), nil }

// TopLevelNames lists the top-level attributes the condition refers to, in order, each once
// (Query refuses filters on key attributes).
func (c *Condition) TopLevelNames() []string { return slices.Clone(c.top) }

func topNames(out []string, c *cond) []string {
	for _, k := range c.kids {
		out = topNames(out, k)
	}
	return operandTopNames(out, c.args)
}

func operandTopNames(out []string, args []*operand) []string {
	for _, a := range args {
		if a.kind == oPath && !slices.Contains(out, a.path[0].name) {
			out = append(out, a.path[0].name)
		}
		out = operandTopNames(out, a.args)
	}
	return out
}

func (c *cond) eval(item Item) bool {
	switch c.op {
	case cAnd:
		return c.kids[0].eval(item) && c.kids[1].eval(item)
	case cOr:
		return c.kids[0].eval(item) || c.kids[1].eval(item)
	case cNot:
		return !c.kids[0].eval(item)
	case cCompare:
		a, aok := c.args[0].eval(item)
		b, bok := c.args[1].eval(item)
		switch c.cmp {
		case "=":
			return aok && bok && Equal(a, b)
		case "<>":
			return !(aok && bok && Equal(a, b))
		}
		if !aok || !bok {
			return false
		}
		n, ok := Compare(a, b)
		if !ok {
			return false
		}
		switch c.cmp {
		case "<":
			return n < 0
		case "<=":
			return n <= 0
		case ">":
			return n > 0
		default:
			return n >= 0
		}
	case cBetween:
		v, ok1 := c.args[0].eval(item)
		lo, ok2 := c.args[1].eval(item)
		hi, ok3 := c.args[2].eval(item)
		if !ok1 || !ok2 || !ok3 {
			return false
		}
		a, ok4 := Compare(lo, v)
		b, ok5 := Compare(v, hi)
		return ok4 && ok5 && a <= 0 && b <= 0
	case cIn:
		v, ok := c.args[0].eval(item)
		if !ok {
			return false
		}
		for _, o := range c.args[1:] {
			if w, ok := o.eval(item); ok && Equal(v, w) {
				return true
			}
		}
		return false
	case cFunc:
		return evalPredicate(c.fn, c.args, item)
	}
	return false
}

// eval evaluates a condition operand: a path, a :value, or size.
func (o *operand) eval(item Item) (Value, bool) {
	switch o.kind {
	case oPath:
		return o.path.resolve(item)
	case oValue:
		return o.value, true
	}
	v, ok := o.args[0].eval(item)
	if !ok {
		return Value{}, false
	}
	var n int
	switch v.Kind {
	case KindS:
		n = len(v.S)
	case KindB:
		n = len(v.B)
	case KindSS, KindNS:
		n = len(v.Strings)
	case KindBS:
		n = len(v.Binaries)
	case KindL:
		n = len(v.L)
	case KindM:
		n = len(v.M)
	default:
		return Value{}, false
	}
	return Num(strconv.Itoa(n)), true
}

func evalPredicate(fn string, args []*operand, item Item) bool {
	a, aok := args[0].eval(item)
	switch fn {
	case "attribute_exists":
		return aok
	case "attribute_not_exists":
		return !aok
	}
	b, bok := args[1].eval(item)
	if !aok || !bok {
		return false
	}
	switch fn {
	case "attribute_type":
		return b.Kind == KindS && a.Kind.String() == b.S
	case "begins_with":
		switch {
		case a.Kind == KindS && b.Kind == KindS:
			return strings.HasPrefix(a.S, b.S)
		case a.Kind == KindB && b.Kind == KindB:
			return bytes.HasPrefix(a.B, b.B)
		}
	case "contains":
		switch {
		case a.Kind == KindS && b.Kind == KindS:
			return strings.Contains(a.S, b.S)
		case a.Kind == KindB && b.Kind == KindB:
			return bytes.Contains(a.B, b.B)
		case a.Kind == KindSS && b.Kind == KindS:
			return slices.Contains(a.Strings, b.S)
		case a.Kind == KindNS && b.Kind == KindN:
			return slices.ContainsFunc(a.Strings, func(n string) bool { return compareNumbers(n, b.S) == 0 })
		case a.Kind == KindBS && b.Kind == KindB:
			return slices.ContainsFunc(a.Binaries, func(x []byte) bool { return bytes.Equal(x, b.B) })
		case a.Kind == KindL:
			return slices.ContainsFunc(a.L, func(e Value) bool { return Equal(e, b) })
		}
	}
	return false
}

// ---- Key conditions ----

// KeyCondition is a parsed KeyConditionExpression against the given key schema.
type KeyCondition struct {
	Hash  Value
	Range *RangeCondition // nil: hash only
}

// RangeCondition is the condition on the range key, with the key as the left operand.
type RangeCondition struct {
	Op     string  // "=", "<", "<=", ">", ">=", "BETWEEN", "BEGINS_WITH"
	Values []Value // one, or two for BETWEEN
}

type keyPart struct {
	attr   string
	op     string
	values []Value
}

// flipped is the comparison with its operands swapped (:v < sk is sk > :v).
var flipped = map[string]string{"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

// ParseKeyCondition parses a KeyConditionExpression for a table or index whose keys are
// hashKey and rangeKey ("" when there is none). Errors in the expression read "Invalid
// KeyConditionExpression: …"; conditions DynamoDB cannot use as a key condition get its other
// messages ("Query condition missed key schema element: pk", "Query key condition not
// supported", …). Checking the values' types against the key schema is left to the caller.
func ParseKeyCondition(expr string, names map[string]string, values map[string]Value, refs *Refs, hashKey, rangeKey string) (*KeyCondition, error) {
	c, err := parseCondition("KeyConditionExpression", expr, names, values, refs)
	if err != nil {
		return nil, err
	}
	var parts []keyPart
	if msg := keyParts(c.root, &parts); msg != "" {
		return nil, errors.New(msg)
	}
	if len(parts) > 2 {
		return nil, errors.New("Conditions can be of length 1 or 2 only")
	}
	var hash, rng *keyPart
	for i := range parts {
		switch parts[i].attr {
		case hashKey:
			hash = &parts[i]
		case rangeKey:
			rng = &parts[i]
		}
	}
	switch {
	case hash == nil:
		return nil, fmt.Errorf("Query condition missed key schema element: %s", hashKey)
	case len(parts) == 2 && rangeKey == "":
		return nil, errors.New("Query key condition not supported")
	case len(parts) == 2 && rng == nil:
		return nil, fmt.Errorf("Query condition missed key schema element: %s", rangeKey)
	case hash.op != "=":
		return nil, errors.New("Query key condition not supported")
	}
	kc := &KeyCondition{Hash: hash.values[0]}
	if rng != nil {
		kc.Range = &RangeCondition{Op: rng.op, Values: rng.values}
	}
	return kc, nil
}

// keyParts splits a key condition into its conditions on single key attributes, or returns
// DynamoDB's message for what a key condition cannot hold.
func keyParts(c *cond, out *[]keyPart) string {
	switch c.op {
	case cAnd:
		if msg := keyParts(c.kids[0], out); msg != "" {
			return msg
		}
		return keyParts(c.kids[1], out)
	case cOr:
		return "Invalid operator used in KeyConditionExpression: OR"
	case cNot:
		return "Invalid operator used in KeyConditionExpression: NOT"
	case cIn:
		return "Invalid operator used in KeyConditionExpression: IN"
	case cCompare:
		if c.cmp == "<>" {
			return "Invalid operator used in KeyConditionExpression: <>"
		}
	case cFunc:
		if c.fn != "begins_with" {
			return "Invalid operator used in KeyConditionExpression: " + c.fn
		}
	}
	if (c.op == cBetween || c.op == cFunc) && c.args[0].kind != oPath {
		name := "BETWEEN"
		if c.op == cFunc {
			name = c.fn
		}
		return "Invalid condition in KeyConditionExpression: " + name + " operator must have the key attribute as its first operand"
	}
	attr, attrIx := "", 0
	var vals []Value
	for i, a := range c.args {
		switch a.kind {
		case oPath:
			if attr != "" {
				return "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"
			}
			if len(a.path) > 1 {
				return "KeyConditionExpressions cannot have conditions on nested attributes"
			}
			attr, attrIx = a.path[0].name, i
		case oFunc:
			return "KeyConditionExpressions cannot contain nested operations"
		default:
			vals = append(vals, a.value)
		}
	}
	if attr == "" {
		return "Invalid condition in KeyConditionExpression: No key attribute specified"
	}
	for _, k := range *out {
		if k.attr == attr {
			return "KeyConditionExpressions must only contain one condition per key"
		}
	}
	op := "BETWEEN"
	switch c.op {
	case cCompare:
		op = c.cmp
		if attrIx != 0 {
			op = flipped[op]
		}
	case cFunc:
		op = "BEGINS_WITH"
	}
	*out = append(*out, keyPart{attr: attr, op: op, values: vals})
	return ""
}

// ---- Projections ----

// Projection is a parsed ProjectionExpression.
type Projection struct{ paths []path }

// ParseProjection parses a ProjectionExpression; its errors read "Invalid
// ProjectionExpression: …".
func ParseProjection(expr string, names map[string]string, refs *Refs) (*Projection, error) {
	p := newParser(kindProjection, expr, names, nil, refs)
	var paths []path
	err := p.run("ProjectionExpression", func() {
		for {
			paths = append(paths, p.parsePath())
			if !p.isPunct(",") {
				break
			}
			p.pos++
		}
		if p.tok().kind != tEOF {
			p.syntaxErr()
		}
		for _, pa := range paths {
			p.checkPath(pa)
		}
	})
	if err != nil {
		return nil, err
	}
	return &Projection{paths: paths}, nil
}

// checkPath refuses a path that overlaps or conflicts with one before it.
func (p *parser) checkPath(np path) {
	for _, old := range p.paths {
		for i := 0; ; i++ {
			if i == len(old) || i == len(np) {
				p.fail(errOverlap, "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", old, np)
				return
			}
			if old[i].isIndex != np[i].isIndex {
				p.fail(errConflict, "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", old, np)
				break
			}
			if old[i] != np[i] {
				break
			}
		}
	}
	p.paths = append(p.paths, np)
}

// TopLevelNames lists the top-level attributes the projection reads, in order, each once.
func (p *Projection) TopLevelNames() []string { return pathTopNames(p.paths) }

func pathTopNames(paths []path) []string {
	var out []string
	for _, pa := range paths {
		if !slices.Contains(out, pa[0].name) {
			out = append(out, pa[0].name)
		}
	}
	return out
}

// projNode is one level of a projected document: a value, or the map keys or list elements
// projected below it.
type projNode struct {
	value  *Value
	fields map[string]*projNode
	elems  map[int]*projNode
}

// Apply returns a new item with only the projected paths of item (deep copies). Nested paths
// keep their structure, and list elements projected from one list keep their order and close
// up: a[3], a[1] projects {a: [a[1], a[3]]}. Missing paths are left out. A nil item (no
// item) stays nil.
func (p *Projection) Apply(item Item) Item {
	if item == nil {
		return nil
	}
	root := &projNode{fields: map[string]*projNode{}}
	for _, pa := range p.paths {
		v, ok := pa.resolve(item)
		if !ok {
			continue
		}
		n := root
		for _, e := range pa {
			var next *projNode
			if e.isIndex {
				if n.elems == nil {
					n.elems = map[int]*projNode{}
				}
				if next = n.elems[e.index]; next == nil {
					next = &projNode{}
					n.elems[e.index] = next
				}
			} else {
				if n.fields == nil {
					n.fields = map[string]*projNode{}
				}
				if next = n.fields[e.name]; next == nil {
					next = &projNode{}
					n.fields[e.name] = next
				}
			}
			n = next
		}
		v = v.Clone()
		n.value = &v
	}
	out := Item{}
	for k, n := range root.fields {
		out[k] = n.build()
	}
	return out
}

func (n *projNode) build() Value {
	switch {
	case n.value != nil:
		return *n.value
	case n.elems != nil:
		idx := make([]int, 0, len(n.elems))
		for i := range n.elems {
			idx = append(idx, i)
		}
		slices.Sort(idx)
		v := Value{Kind: KindL, L: make([]Value, len(idx))}
		for j, i := range idx {
			v.L[j] = n.elems[i].build()
		}
		return v
	default:
		v := Value{Kind: KindM, M: make(map[string]Value, len(n.fields))}
		for k, c := range n.fields {
			v.M[k] = c.build()
		}
		return v
	}
}

// ---- Reserved words ----

// reservedWords are DynamoDB's reserved words, which cannot be used as bare attribute names in
// expressions (compared in upper case).
var reservedWords = func() map[string]bool {
	m := make(map[string]bool, len(reservedWordList))
	for _, w := range reservedWordList {
		m[w] = true
	}
	return m
}()

var reservedWordList = [...]string{
	"ABORT", "ABSOLUTE", "ACTION", "ADD", "AFTER", "AGENT", "AGGREGATE", "ALL", "ALLOCATE", "ALTER",
	"ANALYZE", "AND", "ANY", "ARCHIVE", "ARE", "ARRAY", "AS", "ASC", "ASCII", "ASENSITIVE",
	"ASSERTION", "ASYMMETRIC", "AT", "ATOMIC", "ATTACH", "ATTRIBUTE", "AUTH", "AUTHORIZATION",
	"AUTHORIZE", "AUTO", "AVG", "BACK", "BACKUP", "BASE", "BATCH", "BEFORE", "BEGIN", "BETWEEN",
	"BIGINT", "BINARY", "BIT", "BLOB", "BLOCK", "BOOLEAN", "BOTH", "BREADTH", "BUCKET", "BULK", "BY",
	"BYTE", "CALL", "CALLED", "CALLING", "CAPACITY", "CASCADE", "CASCADED", "CASE", "CAST", "CATALOG",
	"CHAR", "CHARACTER", "CHECK", "CLASS", "CLOB", "CLOSE", "CLUSTER", "CLUSTERED", "CLUSTERING",
	"CLUSTERS", "COALESCE", "COLLATE", "COLLATION", "COLLECTION", "COLUMN", "COLUMNS", "COMBINE",
	"COMMENT", "COMMIT", "COMPACT", "COMPILE", "COMPRESS", "CONDITION", "CONFLICT", "CONNECT",
	"CONNECTION", "CONSISTENCY", "CONSISTENT", "CONSTRAINT", "CONSTRAINTS", "CONSTRUCTOR", "CONSUMED",
	"CONTINUE", "CONVERT", "COPY", "CORRESPONDING", "COUNT", "COUNTER", "CREATE", "CROSS", "CUBE",
	"CURRENT", "CURSOR", "CYCLE", "DATA", "DATABASE", "DATE", "DATETIME", "DAY", "DEALLOCATE", "DEC",
	"DECIMAL", "DECLARE", "DEFAULT", "DEFERRABLE", "DEFERRED", "DEFINE", "DEFINED", "DEFINITION",
	"DELETE", "DELIMITED", "DEPTH", "DEREF", "DESC", "DESCRIBE", "DESCRIPTOR", "DETACH",
	"DETERMINISTIC", "DIAGNOSTICS", "DIRECTORIES", "DISABLE", "DISCONNECT", "DISTINCT", "DISTRIBUTE",
	"DO", "DOMAIN", "DOUBLE", "DROP", "DUMP", "DURATION", "DYNAMIC", "EACH", "ELEMENT", "ELSE",
	"ELSEIF", "EMPTY", "ENABLE", "END", "EQUAL", "EQUALS", "ERROR", "ESCAPE", "ESCAPED", "EVAL",
	"EVALUATE", "EXCEEDED", "EXCEPT", "EXCEPTION", "EXCEPTIONS", "EXCLUSIVE", "EXEC", "EXECUTE",
	"EXISTS", "EXIT", "EXPLAIN", "EXPLODE", "EXPORT", "EXPRESSION", "EXTENDED", "EXTERNAL", "EXTRACT",
	"FAIL", "FALSE", "FAMILY", "FETCH", "FIELDS", "FILE", "FILTER", "FILTERING", "FINAL", "FINISH",
	"FIRST", "FIXED", "FLATTERN", "FLOAT", "FOR", "FORCE", "FOREIGN", "FORMAT", "FORWARD", "FOUND",
	"FREE", "FROM", "FULL", "FUNCTION", "FUNCTIONS", "GENERAL", "GENERATE", "GET", "GLOB", "GLOBAL",
	"GO", "GOTO", "GRANT", "GREATER", "GROUP", "GROUPING", "HANDLER", "HASH", "HAVE", "HAVING",
	"HEAP", "HIDDEN", "HOLD", "HOUR", "IDENTIFIED", "IDENTITY", "IF", "IGNORE", "IMMEDIATE", "IMPORT",
	"IN", "INCLUDING", "INCLUSIVE", "INCREMENT", "INCREMENTAL", "INDEX", "INDEXED", "INDEXES",
	"INDICATOR", "INFINITE", "INITIALLY", "INLINE", "INNER", "INNTER", "INOUT", "INPUT",
	"INSENSITIVE", "INSERT", "INSTEAD", "INT", "INTEGER", "INTERSECT", "INTERVAL", "INTO",
	"INVALIDATE", "IS", "ISOLATION", "ITEM", "ITEMS", "ITERATE", "JOIN", "KEY", "KEYS", "LAG",
	"LANGUAGE", "LARGE", "LAST", "LATERAL", "LEAD", "LEADING", "LEAVE", "LEFT", "LENGTH", "LESS",
	"LEVEL", "LIKE", "LIMIT", "LIMITED", "LINES", "LIST", "LOAD", "LOCAL", "LOCALTIME",
	"LOCALTIMESTAMP", "LOCATION", "LOCATOR", "LOCK", "LOCKS", "LOG", "LOGED", "LONG", "LOOP", "LOWER",
	"MAP", "MATCH", "MATERIALIZED", "MAX", "MAXLEN", "MEMBER", "MERGE", "METHOD", "METRICS", "MIN",
	"MINUS", "MINUTE", "MISSING", "MOD", "MODE", "MODIFIES", "MODIFY", "MODULE", "MONTH", "MULTI",
	"MULTISET", "NAME", "NAMES", "NATIONAL", "NATURAL", "NCHAR", "NCLOB", "NEW", "NEXT", "NO", "NONE",
	"NOT", "NULL", "NULLIF", "NUMBER", "NUMERIC", "OBJECT", "OF", "OFFLINE", "OFFSET", "OLD", "ON",
	"ONLINE", "ONLY", "OPAQUE", "OPEN", "OPERATOR", "OPTION", "OR", "ORDER", "ORDINALITY", "OTHER",
	"OTHERS", "OUT", "OUTER", "OUTPUT", "OVER", "OVERLAPS", "OVERRIDE", "OWNER", "PAD", "PARALLEL",
	"PARAMETER", "PARAMETERS", "PARTIAL", "PARTITION", "PARTITIONED", "PARTITIONS", "PATH", "PERCENT",
	"PERCENTILE", "PERMISSION", "PERMISSIONS", "PIPE", "PIPELINED", "PLAN", "POOL", "POSITION",
	"PRECISION", "PREPARE", "PRESERVE", "PRIMARY", "PRIOR", "PRIVATE", "PRIVILEGES", "PROCEDURE",
	"PROCESSED", "PROJECT", "PROJECTION", "PROPERTY", "PROVISIONING", "PUBLIC", "PUT", "QUERY",
	"QUIT", "QUORUM", "RAISE", "RANDOM", "RANGE", "RANK", "RAW", "READ", "READS", "REAL", "REBUILD",
	"RECORD", "RECURSIVE", "REDUCE", "REF", "REFERENCE", "REFERENCES", "REFERENCING", "REGEXP",
	"REGION", "REINDEX", "RELATIVE", "RELEASE", "REMAINDER", "RENAME", "REPEAT", "REPLACE", "REQUEST",
	"RESET", "RESIGNAL", "RESOURCE", "RESPONSE", "RESTORE", "RESTRICT", "RESULT", "RETURN",
	"RETURNING", "RETURNS", "REVERSE", "REVOKE", "RIGHT", "ROLE", "ROLES", "ROLLBACK", "ROLLUP",
	"ROUTINE", "ROW", "ROWS", "RULE", "RULES", "SAMPLE", "SATISFIES", "SAVE", "SAVEPOINT", "SCAN",
	"SCHEMA", "SCOPE", "SCROLL", "SEARCH", "SECOND", "SECTION", "SEGMENT", "SEGMENTS", "SELECT",
	"SELF", "SEMI", "SENSITIVE", "SEPARATE", "SEQUENCE", "SERIALIZABLE", "SESSION", "SET", "SETS",
	"SHARD", "SHARE", "SHARED", "SHORT", "SHOW", "SIGNAL", "SIMILAR", "SIZE", "SKEWED", "SMALLINT",
	"SNAPSHOT", "SOME", "SOURCE", "SPACE", "SPACES", "SPARSE", "SPECIFIC", "SPECIFICTYPE", "SPLIT",
	"SQL", "SQLCODE", "SQLERROR", "SQLEXCEPTION", "SQLSTATE", "SQLWARNING", "START", "STATE",
	"STATIC", "STATUS", "STORAGE", "STORE", "STORED", "STREAM", "STRING", "STRUCT", "STYLE", "SUB",
	"SUBMULTISET", "SUBPARTITION", "SUBSTRING", "SUBTYPE", "SUM", "SUPER", "SYMMETRIC", "SYNONYM",
	"SYSTEM", "TABLE", "TABLESAMPLE", "TEMP", "TEMPORARY", "TERMINATED", "TEXT", "THAN", "THEN",
	"THROUGHPUT", "TIME", "TIMESTAMP", "TIMEZONE", "TINYINT", "TO", "TOKEN", "TOTAL", "TOUCH",
	"TRAILING", "TRANSACTION", "TRANSFORM", "TRANSLATE", "TRANSLATION", "TREAT", "TRIGGER", "TRIM",
	"TRUE", "TRUNCATE", "TTL", "TUPLE", "TYPE", "UNDER", "UNDO", "UNION", "UNIQUE", "UNIT", "UNKNOWN",
	"UNLOGGED", "UNNEST", "UNPROCESSED", "UNSIGNED", "UNTIL", "UPDATE", "UPPER", "URL", "USAGE",
	"USE", "USER", "USERS", "USING", "UUID", "VACUUM", "VALUE", "VALUED", "VALUES", "VARCHAR",
	"VARIABLE", "VARIANCE", "VARINT", "VARYING", "VIEW", "VIEWS", "VIRTUAL", "VOID", "WAIT", "WHEN",
	"WHENEVER", "WHERE", "WHILE", "WINDOW", "WITH", "WITHIN", "WITHOUT", "WORK", "WRAPPED", "WRITE",
	"YEAR", "ZONE",
}
