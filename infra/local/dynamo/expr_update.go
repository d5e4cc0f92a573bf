package dynamo

import (
	"bytes"
	"errors"
	"math/big"
	"slices"
	"strings"
)

// The errors of Update.Apply, with DynamoDB's messages (ValidationException).
var (
	errUpdatePath    = errors.New("The document path provided in the update expression is invalid for update")
	errUpdateType    = errors.New("An operand in the update expression has an incorrect data type")
	errUpdateMissing = errors.New("The provided expression refers to an attribute that does not exist in the item")
)

type actKind uint8

const (
	actSet actKind = iota + 1
	actRemove
	actAdd
	actDelete
)

type updateAction struct {
	kind  actKind
	path  path
	value *operand // SET: the value; ADD, DELETE: the :value; REMOVE: nil
}

// Update is a parsed UpdateExpression.
type Update struct {
	actions []updateAction
	paths   []path
}

// ParseUpdate parses an UpdateExpression; its errors read "Invalid UpdateExpression: …".
func ParseUpdate(expr string, names map[string]string, values map[string]Value, refs *Refs) (*Update, error) {
	p := newParser(kindUpdate, expr, names, values, refs)
	var acts []updateAction
	err := p.run("UpdateExpression", func() { acts = p.parseUpdate() })
	if err != nil {
		return nil, err
	}
	u := &Update{actions: acts}
	for _, a := range acts {
		u.paths = append(u.paths, a.path)
	}
	return u, nil
}

// TopLevelNames lists the top-level attributes the update touches, in order, each once (for
// ReturnValues and the server's check that keys are not updated).
func (u *Update) TopLevelNames() []string { return pathTopNames(u.paths) }

// UpdatedPaths is the projection of exactly the paths the update writes or removes: applied to
// the old and the new item it gives ReturnValues UPDATED_OLD and UPDATED_NEW.
func (u *Update) UpdatedPaths() *Projection { return &Projection{paths: u.paths} }

func (p *parser) parseUpdate() []updateAction {
	var acts []updateAction
	seen := map[string]bool{}
	for {
		t := p.tok()
		if !p.anyKeyword(t) {
			p.syntaxErr()
		}
		p.pos++
		section := strings.ToUpper(t.text)
		for {
			acts = append(acts, p.parseAction(section))
			if !p.isPunct(",") {
				break
			}
			p.pos++
		}
		if seen[section] {
			p.fail(errSection, `The "%s" section can only be used once in an update expression;`, section)
		}
		seen[section] = true
		if p.tok().kind == tEOF {
			return acts
		}
	}
}

func (p *parser) parseAction(section string) updateAction {
	a := updateAction{path: p.parsePath()}
	switch section {
	case "SET":
		a.kind = actSet
		p.expectPunct("=")
		a.value = p.parseSetValue()
	case "REMOVE":
		a.kind = actRemove
	default:
		a.kind = actAdd
		if section == "DELETE" {
			a.kind = actDelete
		}
		if p.tok().kind != tValue {
			p.syntaxErr()
		}
		a.value = p.parseOperand()
		p.checkSetOperand(section, a.value.value)
	}
	p.checkPath(a.path)
	return a
}

// parseSetValue reads the right-hand side of a SET action: an operand, or two joined by + or -,
// either in parentheses. DynamoDB takes one operator at most.
func (p *parser) parseSetValue() *operand {
	first := p.parseSetTerm()
	t := p.tok()
	if t.kind != tPunct || t.text != "+" && t.text != "-" {
		return first
	}
	if first.isArith() {
		p.syntaxErr()
	}
	op := p.pos
	p.pos++
	second := p.parseSetTerm()
	if second.isArith() {
		p.syntaxErrorAt(second.tok)
	}
	o := &operand{kind: oFunc, fn: t.text, args: []*operand{first, second}, tok: op}
	p.checkUpdateFunc(o)
	return o
}

func (p *parser) parseSetTerm() *operand {
	if !p.isPunct("(") {
		return p.parseOperand()
	}
	p.pos++
	o := p.parseSetValue()
	p.expectPunct(")")
	o.parens++
	return o
}

// typeNames are the type names of ADD and DELETE's operand type errors.
var typeNames = map[Kind]string{KindS: "STRING", KindN: "NUMBER", KindB: "BINARY", KindNULL: "NULL", KindBOOL: "BOOLEAN", KindL: "LIST", KindM: "MAP"}

// checkSetOperand refuses ADD operands that are neither numbers nor sets, and DELETE operands
// that are not sets.
func (p *parser) checkSetOperand(section string, v Value) {
	if name, ok := typeNames[v.Kind]; ok && !(section == "ADD" && v.Kind == KindN) {
		p.fail(errOperand, "Incorrect operand type for operator or function; operator: %s, operand type: %s", section, name)
	}
}

var updateFuncs = map[string]int{"if_not_exists": 2, "list_append": 2, "+": 2, "-": 2}

// checkUpdateFunc checks an update function's (or + and -'s) name and operands, and sets its
// result type. Only :values are type-checked here; paths and nested functions are checked when
// the update is applied.
func (p *parser) checkUpdateFunc(f *operand) {
	n, ok := updateFuncs[f.fn]
	if !ok {
		p.fail(errUnknownFunc, "Invalid function name; function: %s", f.fn)
		return
	}
	if n != len(f.args) {
		p.fail(errFunction, "Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", f.fn, len(f.args))
		return
	}
	want := KindN
	switch f.fn {
	case "if_not_exists":
		if f.args[0].kind != oPath {
			p.fail(errFunction, "Operator or function requires a document path; operator or function: %s", f.fn)
		}
		f.result = f.args[1].typ()
		return
	case "list_append":
		want = KindL
	}
	f.result = want
	for _, a := range f.args {
		if a.kind == oValue && a.value.Kind != 0 && a.value.Kind != want {
			p.fail(errFunction, "Incorrect operand type for operator or function; operator or function: %s, operand type: %s", f.fn, a.value.Kind)
			return
		}
	}
}

// write is one change Apply makes: a value put at a path, or (remove) the path deleted.
type write struct {
	path   path
	value  Value
	remove bool
}

// Apply returns the item after the update; item (nil when there is none yet) is not changed.
// Every operand is read from item as it is before the update. The values are written first, in
// path order (so several elements set past the end of one list are appended in index order),
// then the removals, last path first (so REMOVE a[1], a[3] removes the original elements 1
// and 3).
func (u *Update) Apply(item Item) (Item, error) {
	var writes []write
	for _, a := range u.actions {
		if !parentExists(item, a.path) {
			return nil, errUpdatePath
		}
		cur, exists := a.path.resolve(item)
		switch a.kind {
		case actSet:
			v, err := a.value.evalUpdate(item)
			if err != nil {
				return nil, err
			}
			writes = append(writes, write{path: a.path, value: v})
		case actRemove:
			writes = append(writes, write{path: a.path, remove: true})
		case actAdd:
			v := a.value.value
			if exists && cur.Kind != v.Kind {
				return nil, errUpdateType
			}
			switch {
			case v.Kind == KindN:
				sum, err := arith("+", cur, v, exists)
				if err != nil {
					return nil, err
				}
				writes = append(writes, write{path: a.path, value: sum})
			case exists:
				writes = append(writes, write{path: a.path, value: setUnion(cur, v)})
			default:
				writes = append(writes, write{path: a.path, value: v.Clone()})
			}
		case actDelete:
			v := a.value.value
			if !exists {
				continue
			}
			if cur.Kind != v.Kind {
				return nil, errUpdateType
			}
			if rest := setDifference(cur, v); setLen(rest) > 0 {
				writes = append(writes, write{path: a.path, value: rest})
			} else {
				writes = append(writes, write{path: a.path, remove: true})
			}
		}
	}
	slices.SortStableFunc(writes, func(a, b write) int {
		switch {
		case a.remove != b.remove:
			if a.remove {
				return 1
			}
			return -1
		case a.remove:
			return comparePaths(b.path, a.path)
		}
		return comparePaths(a.path, b.path)
	})
	out := item.Clone()
	if out == nil {
		out = Item{}
	}
	for _, w := range writes {
		name := w.path[0].name
		switch {
		case len(w.path) > 1:
			if cur, ok := out[name]; ok {
				out[name] = putPath(cur, w.path[1:], w.value, w.remove)
			}
		case w.remove:
			delete(out, name)
		default:
			out[name] = w.value
		}
	}
	return out, nil
}

// parentExists says whether the container a path writes into exists: the item itself for a
// top-level attribute, else a map (for a key) or a list (for an index).
func parentExists(item Item, p path) bool {
	if len(p) == 1 {
		return true
	}
	parent, ok := p[:len(p)-1].resolve(item)
	if p[len(p)-1].isIndex {
		return ok && parent.Kind == KindL
	}
	return ok && parent.Kind == KindM
}

// putPath returns cur (a deep copy, changed in place) with v put at p below it, or p removed.
// An index past the end of a list appends; removing a list element shifts the rest down.
func putPath(cur Value, p path, v Value, remove bool) Value {
	e := p[0]
	if e.isIndex {
		if cur.Kind != KindL {
			return cur
		}
		switch {
		case len(p) > 1:
			if e.index < len(cur.L) {
				cur.L[e.index] = putPath(cur.L[e.index], p[1:], v, remove)
			}
		case remove:
			if e.index < len(cur.L) {
				cur.L = slices.Delete(cur.L, e.index, e.index+1)
			}
		case e.index < len(cur.L):
			cur.L[e.index] = v
		default:
			cur.L = append(cur.L, v)
		}
		return cur
	}
	if cur.Kind != KindM {
		return cur
	}
	if cur.M == nil {
		cur.M = map[string]Value{}
	}
	switch {
	case len(p) > 1:
		if child, ok := cur.M[e.name]; ok {
			cur.M[e.name] = putPath(child, p[1:], v, remove)
		}
	case remove:
		delete(cur.M, e.name)
	default:
		cur.M[e.name] = v
	}
	return cur
}

// evalUpdate evaluates a SET operand against the item before the update; the result is a copy.
func (o *operand) evalUpdate(item Item) (Value, error) {
	switch o.kind {
	case oValue:
		return o.value.Clone(), nil
	case oPath:
		v, ok := o.path.resolve(item)
		if !ok {
			return Value{}, errUpdateMissing
		}
		return v.Clone(), nil
	}
	if o.fn == "if_not_exists" {
		if v, ok := o.args[0].path.resolve(item); ok {
			return v.Clone(), nil
		}
		return o.args[1].evalUpdate(item)
	}
	a, err := o.args[0].evalUpdate(item)
	if err != nil {
		return Value{}, err
	}
	b, err := o.args[1].evalUpdate(item)
	if err != nil {
		return Value{}, err
	}
	if o.fn == "list_append" {
		if a.Kind != KindL || b.Kind != KindL {
			return Value{}, errUpdateType
		}
		return Value{Kind: KindL, L: append(a.L, b.L...)}, nil
	}
	return arith(o.fn, a, b, true)
}

// arith is a + b or a - b on numbers; a counts as 0 when it does not exist (ADD). The result is
// in DynamoDB's canonical form.
func arith(op string, a, b Value, aExists bool) (Value, error) {
	if aExists && a.Kind != KindN || b.Kind != KindN {
		return Value{}, errUpdateType
	}
	x := new(big.Rat)
	if aExists {
		r, ok := parseNumber(a.S)
		if !ok {
			return Value{}, errUpdateType
		}
		x.Set(r)
	}
	y, ok := parseNumber(b.S)
	if !ok {
		return Value{}, errUpdateType
	}
	if op == "-" {
		x.Sub(x, y)
	} else {
		x.Add(x, y)
	}
	return Num(formatRat(x)), nil
}

func setLen(v Value) int {
	if v.Kind == KindBS {
		return len(v.Binaries)
	}
	return len(v.Strings)
}

// setUnion is a with the members of b (of the same set type) it lacks added at the end.
func setUnion(a, b Value) Value {
	out := a.Clone()
	have := map[string]bool{}
	for _, k := range setKeys(a) {
		have[k] = true
	}
	for i, k := range setKeys(b) {
		if have[k] {
			continue
		}
		have[k] = true
		if b.Kind == KindBS {
			out.Binaries = append(out.Binaries, bytes.Clone(b.Binaries[i]))
		} else {
			out.Strings = append(out.Strings, b.Strings[i])
		}
	}
	return out
}

// setDifference is a without the members of b (of the same set type); it may be empty.
func setDifference(a, b Value) Value {
	drop := map[string]bool{}
	for _, k := range setKeys(b) {
		drop[k] = true
	}
	out := Value{Kind: a.Kind}
	for i, k := range setKeys(a) {
		if drop[k] {
			continue
		}
		if a.Kind == KindBS {
			out.Binaries = append(out.Binaries, bytes.Clone(a.Binaries[i]))
		} else {
			out.Strings = append(out.Strings, a.Strings[i])
		}
	}
	return out
}
