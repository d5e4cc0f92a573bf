package dynamo

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func exprItem(t *testing.T, js string) Item {
	t.Helper()
	var it Item
	if err := json.Unmarshal([]byte(js), &it); err != nil {
		t.Fatalf("bad item %s: %v", js, err)
	}
	return it
}

func exprValues(t *testing.T, js string) map[string]Value {
	t.Helper()
	return map[string]Value(exprItem(t, js))
}

func exprJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const exprTestItem = `{
	"s": {"S": "hello"}, "u": {"S": "é"}, "n": {"N": "10"}, "f": {"N": "2.5"}, "e": {"N": "1e2"},
	"b": {"B": "AAEC"}, "t": {"BOOL": true}, "z": {"NULL": true},
	"ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.0"]}, "bs": {"BS": ["AAE="]},
	"l": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"k": {"S": "v"}}}]},
	"m": {"M": {"a": {"M": {"b": {"L": [{"N": "0"}, {"N": "1"}, {"M": {"c": {"S": "deep"}}}]}}}, "status": {"S": "on"}}},
	"em": {"M": {}}, "el": {"L": []}, "a.b": {"S": "dotted"}
}`

const exprTestValues = `{
	":hello": {"S": "hello"}, ":he": {"S": "he"}, ":ell": {"S": "ell"}, ":x": {"S": "x"}, ":a": {"S": "a"},
	":zz": {"S": "zz"}, ":on": {"S": "on"}, ":deep": {"S": "deep"}, ":dotted": {"S": "dotted"},
	":zero": {"N": "0"}, ":one": {"N": "1"}, ":two": {"N": "2"}, ":three": {"N": "3"}, ":five": {"N": "5"},
	":ten": {"N": "10"}, ":tenf": {"N": "10.00"}, ":1e1": {"N": "1E1"}, ":hundred": {"N": "100"},
	":b0": {"B": "AA=="}, ":b1": {"B": "AQ=="}, ":bsub": {"B": "AQI="}, ":b01": {"B": "AAE="},
	":true": {"BOOL": true}, ":null": {"NULL": true}, ":ss": {"SS": ["b", "a"]}, ":map": {"M": {"k": {"S": "v"}}},
	":tS": {"S": "S"}, ":tN": {"S": "N"}, ":tSS": {"S": "SS"}, ":tNS": {"S": "NS"}, ":tL": {"S": "L"},
	":tM": {"S": "M"}, ":tB": {"S": "B"}, ":tBOOL": {"S": "BOOL"}, ":tNULL": {"S": "NULL"}, ":tBS": {"S": "BS"}
}`

var exprTestNames = map[string]string{"#m": "m", "#a": "a", "#st": "status", "#dot": "a.b", "#s": "s"}

func TestExprConditionEval(t *testing.T) {
	item := exprItem(t, exprTestItem)
	values := exprValues(t, exprTestValues)
	cases := []struct {
		expr string
		want bool
	}{
		// = and <>: any types, numbers by value, different types unequal, absent equals nothing.
		{"s = :hello", true},
		{"s <> :hello", false},
		{"s = :ten", false},
		{"s <> :ten", true},
		{"absent = :hello", false},
		{"absent <> :hello", true},
		{"n = :tenf", true},
		{"n = :1e1", true},
		{"e = :hundred", true},
		{"ss = :ss", true},
		{"l[2] = :map", true},
		{"t = :true", true},
		{"z = :null", true},
		{":one = :one", true},
		// Ordering: S by bytes, N by value, B by bytes; other types or mixed types are false.
		{"f < :three", true},
		{"f > :three", false},
		{"n > :two", true},
		{"n >= :ten", true},
		{"n <= :tenf", true},
		{"n < :tenf", false},
		{"s > :he", true},
		{"s < :zz", true},
		{"b > :b0", true},
		{"b < :b1", true},
		{"s < :ten", false},
		{"s > :ten", false},
		{"ss < :ss", false},
		{"t <= :true", false},
		{"absent < :ten", false},
		// BETWEEN and IN.
		{"n BETWEEN :two AND :ten", true},
		{"n BETWEEN :ten AND :tenf", true},
		{"n BETWEEN :two AND :five", false},
		{"s BETWEEN :he AND :zz", true},
		{"s BETWEEN :two AND :ten", false},
		{"absent BETWEEN :two AND :ten", false},
		{"n IN (:two, :tenf)", true},
		{"n IN (:two)", false},
		{"s IN (:ten, :hello)", true},
		{"absent IN (:ten)", false},
		// Document paths.
		{"m.a.b[2].c = :deep", true},
		{"#m.#a.b[2].c = :deep", true},
		{"m.#st = :on", true},
		{"l[0] = :x", true},
		{"l[2].k = :x", false},
		{"#dot = :dotted", true},
		{"m . a . b [ 1 ] = :one", true},
		{"attribute_exists(m.a.b[2].c)", true},
		{"attribute_exists(m.a.b[3])", false},
		{"attribute_exists(s.x)", false},
		{"attribute_exists(l.x)", false},
		{"attribute_exists(m[0])", false},
		{"attribute_exists(em)", true},
		{"attribute_not_exists(absent)", true},
		{"attribute_not_exists(s)", false},
		// attribute_type, begins_with, contains, size.
		{"attribute_type(s, :tS)", true},
		{"attribute_type(n, :tN)", true},
		{"attribute_type(ss, :tSS)", true},
		{"attribute_type(ns, :tNS)", true},
		{"attribute_type(bs, :tBS)", true},
		{"attribute_type(b, :tB)", true},
		{"attribute_type(t, :tBOOL)", true},
		{"attribute_type(z, :tNULL)", true},
		{"attribute_type(l, :tL)", true},
		{"attribute_type(em, :tM)", true},
		{"attribute_type(n, :tS)", false},
		{"attribute_type(absent, :tS)", false},
		{"begins_with(s, :he)", true},
		{"begins_with(s, :ell)", false},
		{"begins_with(b, :b01)", true},
		{"begins_with(b, :b1)", false},
		{"begins_with(absent, :he)", false},
		{"begins_with(ss, :a)", false},
		{"contains(s, :ell)", true},
		{"contains(s, :zz)", false},
		{"contains(b, :bsub)", true},
		{"contains(ss, :a)", true},
		{"contains(ss, :zz)", false},
		{"contains(ns, :two)", true},
		{"contains(ns, :three)", false},
		{"contains(bs, :b01)", true},
		{"contains(l, :x)", true},
		{"contains(l, :one)", true},
		{"contains(l, :map)", true},
		{"contains(l, :zz)", false},
		{"contains(m, :a)", false},
		{"contains(n, :one)", false},
		{"contains(absent, :a)", false},
		{"size(s) = :five", true},
		{"size(u) = :two", true}, // bytes, not characters
		{"size(b) = :three", true},
		{"size(ss) = :two", true},
		{"size(ns) = :two", true},
		{"size(bs) = :one", true},
		{"size(l) = :three", true},
		{"size(m) = :two", true},
		{"size(em) = :zero", true},
		{"size(el) = :zero", true},
		{"size(m.a.b) > :two", true},
		{"size(n) = :two", false},
		{"size(n) <> :two", true},
		{"size(t) >= :zero", false},
		{"size(absent) = :zero", false},
		{":five = size(s)", true},
		{"size(s) BETWEEN :one AND :five", true},
		{"size(s) IN (:one, :five)", true},
		// Precedence: comparisons, then NOT, then AND, then OR.
		{"NOT n = :ten AND s = :ten", false},
		{"s = :hello OR n = :two AND s = :ten", true},
		{"(s = :hello OR n = :two) AND s = :ten", false},
		{"NOT (s = :hello OR n = :two)", false},
		{"NOT NOT s = :hello", true},
		{"NOT s = :ten OR n = :two", true},
		{"n BETWEEN :two AND :ten AND s = :hello", true},
		{"n IN (:ten) AND NOT contains(ss, :zz)", true},
		{"s = :hello and not n = :two", true},
		{"s = :hello Or n = :two", true},
		{"(s = :hello) AND (n = :ten)", true},
		{"((s = :hello) AND n = :ten)", true},
		{"(s) = :hello", true},
		{"s = (:hello)", true},
		{"(size(s)) = :five", true},
		{"(begins_with(s, :he))", true},
		{"NOT (begins_with(s, :he))", false},
		{"attribute_exists(s) AND attribute_not_exists(absent) AND size(l) > :one", true},
		{"\ts\n=\r:hello ", true},
	}
	for _, c := range cases {
		cond, err := ParseCondition(c.expr, exprTestNames, values, nil)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		got, err := cond.Eval(item)
		if err != nil || got != c.want {
			t.Errorf("%q = %v, %v; want %v", c.expr, got, err, c.want)
		}
	}
}

func TestExprConditionNoItem(t *testing.T) {
	values := exprValues(t, exprTestValues)
	cases := []struct {
		expr string
		want bool
	}{
		{"attribute_not_exists(s)", true},
		{"attribute_exists(s)", false},
		{"s = :hello", false},
		{"s <> :hello", true},
		{"s < :hello", false},
		{"size(s) > :zero", false},
		{"s IN (:hello)", false},
		{"NOT s = :hello", true},
		{"contains(s, :he)", false},
		{":one = :one", true},
	}
	for _, c := range cases {
		cond, err := ParseCondition(c.expr, nil, values, nil)
		if err != nil {
			t.Fatalf("%q: %v", c.expr, err)
		}
		if got, _ := cond.Eval(nil); got != c.want {
			t.Errorf("%q on no item = %v, want %v", c.expr, got, c.want)
		}
	}
}

func TestExprConditionErrors(t *testing.T) {
	values := exprValues(t, exprTestValues)
	many := make([]string, 101)
	for i := range many {
		many[i] = ":one"
	}
	cases := []struct{ expr, want string }{
		{"", "The expression can not be empty;"},
		{"s =", `Syntax error; token: "<EOF>", near: "="`},
		{"s = ", `Syntax error; token: "<EOF>", near: "="`},
		{"s = 5", `Syntax error; token: "5", near: "= 5"`},
		{"s = :hello t", `Syntax error; token: "t", near: ":hello t"`},
		{"s = :hello AND", `Syntax error; token: "<EOF>", near: "AND"`},
		{"__typename = :hello", `Syntax error; token: "_", near: "__"`},
		{"s = :hello AND __t = :hello", `Syntax error; token: "_", near: "AND __"`},
		{"a-b = :hello", `Syntax error; token: "-", near: "a-b"`},
		{"s == :hello", `Syntax error; token: "=", near: "== :hello"`},
		{"s != :hello", `Syntax error; token: "!", near: "s !="`},
		{"s = : hello", `Syntax error; token: ":", near: "= : hello"`},
		{"s", `Syntax error; token: "<EOF>", near: "s"`},
		{"and = :hello", `Syntax error; token: "and", near: "and ="`},
		{"s = :hello AND OR n = :one", `Syntax error; token: "OR", near: "AND OR n"`},
		{"l[x] = :one", `Syntax error; token: "x", near: "[x]"`},
		{"l[-1] = :one", `Syntax error; token: "-", near: "[-1"`},
		{"m.1 = :one", `Syntax error; token: "1", near: ".1 ="`},
		{"s IN :hello", `Syntax error; token: ":hello", near: "IN :hello"`},
		{"s BETWEEN :one OR :two", `Syntax error; token: "OR", near: ":one OR :two"`},
		{"size() > :one", `Syntax error; token: ")", near: "() >"`},
		{"(s = :hello", `Syntax error; token: "<EOF>", near: ":hello"`},
		{"status = :on", "Attribute name is a reserved keyword; reserved keyword: status"},
		{"m.status = :on", "Attribute name is a reserved keyword; reserved keyword: status"},
		{"l[0].Name = :on", "Attribute name is a reserved keyword; reserved keyword: Name"},
		{"attribute_exists(size)", "Attribute name is a reserved keyword; reserved keyword: size"},
		{"#x = :hello", "An expression attribute name used in the document path is not defined; attribute name: #x"},
		{"s = :nope", "An expression attribute value used in expression is not defined; attribute value: :nope"},
		{"foo(s)", "Invalid function name; function: foo"},
		{"Size(s) = :one", "Invalid function name; function: Size"},
		{"if_not_exists(s, :one) = :one", "Invalid function name; function: if_not_exists"},
		{"attribute_exists(s) = :true", "The function is not allowed to be used this way in an expression; function: attribute_exists"},
		{"s IN (:one, contains(s, :a))", "The function is not allowed to be used this way in an expression; function: contains"},
		{"begins_with(attribute_type(s, :tS), :a)", "The function is not allowed to be used this way in an expression; function: attribute_type"},
		{"size(s)", "The function is not allowed to be used this way in an expression; function: size"},
		{"size(s, n) > :one", "Incorrect number of operands for operator or function; operator or function: size, number of operands: 2"},
		{"begins_with(s)", "Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1"},
		{"attribute_exists(:hello)", "Operator or function requires a document path; operator or function: attribute_exists"},
		{"attribute_not_exists(size(s))", "Operator or function requires a document path; operator or function: attribute_not_exists"},
		{"begins_with(s, :one)", "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"},
		{"begins_with(s, :ss)", "Incorrect operand type for operator or function; operator or function: begins_with, operand type: SS"},
		{"begins_with(size(s), :he)", "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"},
		{"size(:one) > :one", "Incorrect operand type for operator or function; operator or function: size, operand type: N"},
		{"size(:true) > :one", "Incorrect operand type for operator or function; operator or function: size, operand type: BOOL"},
		{"attribute_type(s, :one)", "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N"},
		{"attribute_type(s, :hello)", "Invalid attribute type name found; type: hello, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"},
		{"s = s", "The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [s]"},
		{"m.a.b[1] < m.a.b[1]", "The first operand must be distinct from the remaining operands for this operator or function; operator: <, first operand: [m, a, b, [1]]"},
		{"begins_with(#m.a, m.#a)", "The first operand must be distinct from the remaining operands for this operator or function; operator: begins_with, first operand: [m, a]"},
		{"s BETWEEN :a AND s", "The first operand must be distinct from the remaining operands for this operator or function; operator: BETWEEN, first operand: [s]"},
		{"s IN (:a, #s)", "The first operand must be distinct from the remaining operands for this operator or function; operator: IN, first operand: [s]"},
		{"n BETWEEN :ten AND :two", "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:10}, upper bound operand: AttributeValue: {N:2}"},
		{"n BETWEEN :two AND :hello", "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:2}, upper bound operand: AttributeValue: {S:hello}"},
		{"s IN (" + strings.Join(many, ", ") + ")", "The IN operator is provided with too many operands; number of operands: 101"},
		{"((s = :hello))", "The expression has redundant parentheses;"},
		{"((s)) = :hello", "The expression has redundant parentheses;"},
		{"s = :hello AND ((n = :one))", "The expression has redundant parentheses;"},
		{"((begins_with(s, :he)))", "The expression has redundant parentheses;"},
		// The most important kind of error wins, wherever it is.
		{"s = :nope AND status = :on", "Attribute name is a reserved keyword; reserved keyword: status"},
		{"status = :on AND foo(s)", "Invalid function name; function: foo"},
		{"#x = :hello AND size(s, n) > :one", "An expression attribute name used in the document path is not defined; attribute name: #x"},
		{"s = :nope AND #x = :hello", "An expression attribute value used in expression is not defined; attribute value: :nope"},
		{"s = s AND begins_with(s, :one)", "The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [s]"},
		{"((status = :on))", "The expression has redundant parentheses;"},
		{"status = ", `Syntax error; token: "<EOF>", near: "="`},
	}
	for _, c := range cases {
		_, err := ParseCondition(c.expr, exprTestNames, values, nil)
		want := "Invalid ConditionExpression: " + c.want
		if err == nil || err.Error() != want {
			t.Errorf("%q:\n got %v\nwant %s", c.expr, err, want)
		}
	}
	for _, ok := range []string{
		"s IN (" + strings.Join(many[1:], ", ") + ")", // 100 operands
		"(s = :hello) AND (n = :ten)",
		"NOT (s = :hello)",
		"n BETWEEN :two AND :two",
		"n BETWEEN f AND :one", // bounds are only checked when both are :values
		"attribute_type(s, :tS) AND begins_with(b, :b0) AND contains(ss, s)",
	} {
		if _, err := ParseCondition(ok, exprTestNames, values, nil); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	long := "s = :hello" + strings.Repeat(" ", 4087)
	if _, err := ParseCondition(long, nil, values, nil); err == nil || err.Error() != "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097" {
		t.Errorf("long expression: %v", err)
	}
	if _, err := ParseCondition(long[:4096], nil, values, nil); err != nil {
		t.Errorf("4096 bytes: %v", err)
	}
	if _, err := ParseFilter("status = :on", nil, values, nil); err == nil || err.Error() != "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: status" {
		t.Errorf("filter prefix: %v", err)
	}
}

func TestExprReservedWords(t *testing.T) {
	if n := len(reservedWordList); n != 573 {
		t.Errorf("%d reserved words, DynamoDB has 573", n)
	}
	for _, w := range []string{"status", "NAME", "Count", "data", "key", "value", "size", "ttl", "timestamp", "user", "year", "zone", "abort"} {
		_, err := ParseCondition(w+" = :v", nil, map[string]Value{":v": Str("x")}, nil)
		want := "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: " + w
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v", w, err)
		}
	}
	for _, w := range []string{"statuses", "named", "pk", "sk", "body", "owner_id", "gsi1pk", "expiresAt"} {
		if _, err := ParseCondition(w+" = :v", nil, map[string]Value{":v": Str("x")}, nil); err != nil {
			t.Errorf("%s: %v", w, err)
		}
	}
	// Placeholders are the way around reserved words.
	if _, err := ParseCondition("#s = :v", map[string]string{"#s": "status"}, map[string]Value{":v": Str("x")}, nil); err != nil {
		t.Error(err)
	}
}

func TestExprRefs(t *testing.T) {
	values := exprValues(t, `{":x": {"S": "x"}, ":y": {"S": "y"}, ":z": {"N": "1"}}`)
	names := map[string]string{"#a": "a", "#b": "b", "#c": "c"}

	var refs Refs
	if _, err := ParseCondition("#a = :x", names, values, &refs); err != nil {
		t.Fatal(err)
	}
	err := refs.CheckUnused(names, values)
	if err == nil || err.Error() != "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b, #c}" {
		t.Errorf("names: %v", err)
	}
	if _, err := ParseUpdate("SET #b = :y ADD #c :z", names, values, &refs); err != nil {
		t.Fatal(err)
	}
	if err := refs.CheckUnused(names, values); err != nil {
		t.Errorf("all used: %v", err)
	}
	delete(names, "#c")
	var refs2 Refs
	if _, err := ParseProjection("#a, #b", names, &refs2); err != nil {
		t.Fatal(err)
	}
	err = refs2.CheckUnused(names, values)
	if err == nil || err.Error() != "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x, :y, :z}" {
		t.Errorf("values: %v", err)
	}
	if err := refs2.CheckUnused(names, nil); err != nil {
		t.Error(err)
	}
	// An undefined placeholder is not a use; a nil Refs used nothing.
	var refs3 Refs
	if _, err := ParseCondition("#nope = :x", names, values, &refs3); err == nil {
		t.Fatal("undefined name accepted")
	}
	if refs3.Names["#nope"] {
		t.Error("undefined name counted as used")
	}
	var none *Refs
	if err := none.CheckUnused(names, nil); err == nil || err.Error() != "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}" {
		t.Errorf("nil refs: %v", err)
	}
	// Look-ahead (for "(a) = :v" against "(a = :v)") records nothing twice or wrongly.
	var refs4 Refs
	if _, err := ParseCondition("(#a) = :x AND (#b = :y)", names, values, &refs4); err != nil {
		t.Fatal(err)
	}
	if err := refs4.CheckUnused(names, map[string]Value{":x": values[":x"], ":y": values[":y"]}); err != nil {
		t.Error(err)
	}
}

func TestExprTopLevelNames(t *testing.T) {
	values := exprValues(t, exprTestValues)
	c, err := ParseCondition("#m.a = :one AND size(l) > :one OR contains(ss, s) AND m.b = :one", exprTestNames, values, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.TopLevelNames(); !slices.Equal(got, []string{"m", "l", "ss", "s"}) {
		t.Errorf("condition: %v", got)
	}
	u, err := ParseUpdate("SET m.a = :one, x = s REMOVE m.b, l[0] ADD n :one DELETE ss :ss", nil, values, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.TopLevelNames(); !slices.Equal(got, []string{"m", "x", "l", "n", "ss"}) {
		t.Errorf("update: %v", got)
	}
	p, err := ParseProjection("m.a, l[1], m.b, s", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.TopLevelNames(); !slices.Equal(got, []string{"m", "l", "s"}) {
		t.Errorf("projection: %v", got)
	}
}

func TestExprKeyCondition(t *testing.T) {
	values := exprValues(t, `{":h": {"S": "h"}, ":h2": {"S": "h2"}, ":r": {"S": "r"}, ":a": {"S": "a"}, ":b": {"S": "b"}, ":n": {"N": "1"}}`)
	names := map[string]string{"#p": "pk", "#s": "sk"}
	type rc = RangeCondition
	cases := []struct {
		expr  string
		hash  string
		rng   *rc
		noRng bool // the table has no range key
	}{
		{expr: "pk = :h", hash: "h"},
		{expr: ":h = pk", hash: "h"},
		{expr: "pk = :h", hash: "h", noRng: true},
		{expr: "#p = :h AND #s <= :r", hash: "h", rng: &rc{"<=", []Value{Str("r")}}},
		{expr: "pk = :h AND sk = :r", hash: "h", rng: &rc{"=", []Value{Str("r")}}},
		{expr: "pk = :h AND sk < :r", hash: "h", rng: &rc{"<", []Value{Str("r")}}},
		{expr: "pk = :h AND sk > :r", hash: "h", rng: &rc{">", []Value{Str("r")}}},
		{expr: "pk = :h AND sk >= :r", hash: "h", rng: &rc{">=", []Value{Str("r")}}},
		{expr: "sk > :r AND pk = :h", hash: "h", rng: &rc{">", []Value{Str("r")}}},
		{expr: ":r < sk AND :h = pk", hash: "h", rng: &rc{">", []Value{Str("r")}}},
		{expr: ":r >= sk and pk = :h", hash: "h", rng: &rc{"<=", []Value{Str("r")}}},
		{expr: "pk = :h AND sk BETWEEN :a AND :b", hash: "h", rng: &rc{"BETWEEN", []Value{Str("a"), Str("b")}}},
		{expr: "(pk = :h) AND (begins_with(sk, :a))", hash: "h", rng: &rc{"BEGINS_WITH", []Value{Str("a")}}},
		{expr: "(pk = :h AND begins_with(#s, :a))", hash: "h", rng: &rc{"BEGINS_WITH", []Value{Str("a")}}},
	}
	for _, c := range cases {
		rangeKey := "sk"
		if c.noRng {
			rangeKey = ""
		}
		var refs Refs
		kc, err := ParseKeyCondition(c.expr, names, values, &refs, "pk", rangeKey)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		if !Equal(kc.Hash, Str(c.hash)) {
			t.Errorf("%q: hash %v", c.expr, kc.Hash)
		}
		if exprJSON(t, kc.Range) != exprJSON(t, c.rng) {
			t.Errorf("%q: range %s, want %s", c.expr, exprJSON(t, kc.Range), exprJSON(t, c.rng))
		}
	}

	errs := []struct{ expr, want string }{
		{"", "Invalid KeyConditionExpression: The expression can not be empty;"},
		{"pk = ", `Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: "="`},
		{"pk = :h AND status = :r", "Invalid KeyConditionExpression: Attribute name is a reserved keyword; reserved keyword: status"},
		{"pk = :nope", "Invalid KeyConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope"},
		{"pk = :h AND begins_with(sk, :n)", "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"},
		{"pk = :h AND sk BETWEEN :b AND :a", "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {S:b}, upper bound operand: AttributeValue: {S:a}"},
		{"pk = :h OR sk = :r", "Invalid operator used in KeyConditionExpression: OR"},
		{"NOT pk = :h", "Invalid operator used in KeyConditionExpression: NOT"},
		{"pk IN (:h, :h2)", "Invalid operator used in KeyConditionExpression: IN"},
		{"pk <> :h", "Invalid operator used in KeyConditionExpression: <>"},
		{"pk = :h AND attribute_exists(sk)", "Invalid operator used in KeyConditionExpression: attribute_exists"},
		{"pk = :h AND contains(sk, :a)", "Invalid operator used in KeyConditionExpression: contains"},
		{"pk = :h AND size(sk) > :n", "KeyConditionExpressions cannot contain nested operations"},
		{"pk.x = :h", "KeyConditionExpressions cannot have conditions on nested attributes"},
		{"pk = :h AND sk = o", "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"},
		{"pk = :h AND :a = :b", "Invalid condition in KeyConditionExpression: No key attribute specified"},
		{"pk = :h AND :a BETWEEN sk AND :b", "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand"},
		{"pk = :h AND begins_with(:a, sk)", "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand"},
		{"pk = :h AND pk = :h2", "KeyConditionExpressions must only contain one condition per key"},
		{"pk = :h AND sk > :a AND sk < :b", "KeyConditionExpressions must only contain one condition per key"},
		{"pk = :h AND sk > :a AND x = :b", "Conditions can be of length 1 or 2 only"},
		{"sk = :r", "Query condition missed key schema element: pk"},
		{"o = :h", "Query condition missed key schema element: pk"},
		{"sk = :r AND o = :h", "Query condition missed key schema element: pk"},
		{"pk = :h AND o = :r", "Query condition missed key schema element: sk"},
		{"pk > :h", "Query key condition not supported"},
		{"begins_with(pk, :h)", "Query key condition not supported"},
		{"pk BETWEEN :a AND :b AND sk = :r", "Query key condition not supported"},
	}
	for _, c := range errs {
		_, err := ParseKeyCondition(c.expr, names, values, nil, "pk", "sk")
		if err == nil || err.Error() != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.expr, err, c.want)
		}
	}
	if _, err := ParseKeyCondition("pk = :h AND sk = :r", nil, values, nil, "pk", ""); err == nil || err.Error() != "Query key condition not supported" {
		t.Errorf("range condition on a hash-only table: %v", err)
	}
}

func TestExprProjection(t *testing.T) {
	item := exprItem(t, exprTestItem)
	cases := []struct{ expr, want string }{
		{"s, n", `{"n":{"N":"10"},"s":{"S":"hello"}}`},
		{"m.a.b[2].c", `{"m":{"M":{"a":{"M":{"b":{"L":[{"M":{"c":{"S":"deep"}}}]}}}}}}`},
		{"m.a.b[1], m.a.b[0]", `{"m":{"M":{"a":{"M":{"b":{"L":[{"N":"0"},{"N":"1"}]}}}}}}`},
		{"l[2].k, l[0]", `{"l":{"L":[{"S":"x"},{"M":{"k":{"S":"v"}}}]}}`},
		{"#m.#st, m.a.b[0]", `{"m":{"M":{"a":{"M":{"b":{"L":[{"N":"0"}]}}},"status":{"S":"on"}}}}`},
		{"absent, s, m.nope, l[9], s2.x", `{"s":{"S":"hello"}}`},
		{"l[9]", `{}`},
		{"s.x, l.k, m[0]", `{}`},
		{"em, el", `{"el":{"L":[]},"em":{"M":{}}}`},
		{"#dot", `{"a.b":{"S":"dotted"}}`},
		{"ss, ns, bs, t, z", `{"bs":{"BS":["AAE="]},"ns":{"NS":["1","2.0"]},"ss":{"SS":["a","b"]},"t":{"BOOL":true},"z":{"NULL":true}}`},
	}
	for _, c := range cases {
		p, err := ParseProjection(c.expr, exprTestNames, nil)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		if got := exprJSON(t, p.Apply(item)); got != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.expr, got, c.want)
		}
	}

	before := exprJSON(t, item)
	p, _ := ParseProjection("m, l", nil, nil)
	out := p.Apply(item)
	out["m"].M["a"].M["b"].L[0] = Str("changed")
	out["l"].L[0].S = "changed"
	if exprJSON(t, item) != before {
		t.Error("projection aliases the item")
	}
	if p.Apply(nil) != nil {
		t.Error("projection of no item is an item")
	}

	errs := []struct{ expr, want string }{
		{"", "The expression can not be empty;"},
		{"s,", `Syntax error; token: "<EOF>", near: ","`},
		{"s t", `Syntax error; token: "t", near: "s t"`},
		{"size(s)", `Syntax error; token: "(", near: "size(s"`},
		{"s = :v", `Syntax error; token: "=", near: "s = :v"`},
		{"status", "Attribute name is a reserved keyword; reserved keyword: status"},
		{"#x", "An expression attribute name used in the document path is not defined; attribute name: #x"},
		{"s, s", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [s], path two: [s]"},
		{"m, m.a", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [m], path two: [m, a]"},
		{"m.a.b[1], #m.a", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [m, a, b, [1]], path two: [m, a]"},
		{"l[0], l.x", "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [l, [0]], path two: [l, x]"},
		{"l[0], l.x, l, #x", "An expression attribute name used in the document path is not defined; attribute name: #x"},
		{"l[0], l.x, l", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [l, [0]], path two: [l]"},
	}
	for _, c := range errs {
		_, err := ParseProjection(c.expr, exprTestNames, nil)
		want := "Invalid ProjectionExpression: " + c.want
		if err == nil || err.Error() != want {
			t.Errorf("%q:\n got %v\nwant %s", c.expr, err, want)
		}
	}
}

const exprUpdateItem = `{
	"pk": {"S": "k"}, "n": {"N": "5"}, "s": {"S": "x"},
	"l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}, {"N": "3"}]},
	"m": {"M": {"a": {"N": "1"}, "b": {"M": {"c": {"S": "d"}}}}},
	"ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": ["AQ==", "Ag=="]},
	"lm": {"L": [{"M": {"x": {"N": "1"}, "y": {"L": [{"S": "p"}, {"S": "q"}]}}}, {"M": {"x": {"N": "3"}}}]}
}`

const exprUpdateValues = `{
	":v": {"S": "v"}, ":w": {"S": "w"}, ":zero": {"N": "0"}, ":one": {"N": "1"}, ":half": {"N": "0.5"},
	":p1": {"N": "0.1"}, ":p2": {"N": "0.2"}, ":e2": {"N": "1e2"}, ":big": {"N": "1E+30"}, ":neg": {"N": "-6.5"},
	":small": {"N": "1.5e-3"}, ":l2": {"L": [{"S": "y"}, {"S": "z"}]}, ":empty": {"M": {}}, ":el": {"L": []},
	":ss2": {"SS": ["b", "c"]}, ":ssa": {"SS": ["a"]}, ":ssab": {"SS": ["b", "a"]}, ":ns2": {"NS": ["2.0", "3"]},
	":ns1": {"NS": ["1.00"]}, ":bs2": {"BS": ["Ag==", "Aw=="]}, ":bs1": {"BS": ["AQ=="]},
	":m": {"M": {"x": {"L": [{"NULL": true}]}}}, ":t": {"BOOL": false}, ":null": {"NULL": true}, ":b": {"B": "AAE="}
}`

func TestExprUpdateApply(t *testing.T) {
	base := exprItem(t, exprUpdateItem)
	values := exprValues(t, exprUpdateValues)
	names := map[string]string{"#n": "n", "#m": "m", "#st": "status", "#dot": "a.b"}
	cases := []struct {
		expr string
		want map[string]string // top-level attribute → its JSON, "" when removed; the rest unchanged
	}{
		// SET values, arithmetic (canonical decimal results), functions.
		{"SET s = :v", map[string]string{"s": `{"S":"v"}`}},
		{"SET #st = :v, #dot = :w", map[string]string{"status": `{"S":"v"}`, "a.b": `{"S":"w"}`}},
		{"SET n = n + :one", map[string]string{"n": `{"N":"6"}`}},
		{"SET n = n - :half", map[string]string{"n": `{"N":"4.5"}`}},
		{"SET q = :p1 + :p2", map[string]string{"q": `{"N":"0.3"}`}},
		{"SET n = #n + :e2", map[string]string{"n": `{"N":"105"}`}},
		{"SET n = :big + :one", map[string]string{"n": `{"N":"1000000000000000000000000000001"}`}},
		{"SET n = n + :neg", map[string]string{"n": `{"N":"-1.5"}`}},
		{"SET n = :small - :small", map[string]string{"n": `{"N":"0"}`}},
		{"SET n = n + :small", map[string]string{"n": `{"N":"5.0015"}`}},
		{"SET n = (n + :one)", map[string]string{"n": `{"N":"6"}`}},
		{"SET n = (n) - (:one)", map[string]string{"n": `{"N":"4"}`}},
		{"SET q = if_not_exists(q, :zero) + :one", map[string]string{"q": `{"N":"1"}`}},
		{"SET n = if_not_exists(n, :zero) + :one", map[string]string{"n": `{"N":"6"}`}},
		{"SET q = if_not_exists(q, s)", map[string]string{"q": `{"S":"x"}`}},
		{"SET l = list_append(l, :l2)", map[string]string{"l": `{"L":[{"N":"0"},{"N":"1"},{"N":"2"},{"N":"3"},{"S":"y"},{"S":"z"}]}`}},
		{"SET l = list_append(:l2, l)", map[string]string{"l": `{"L":[{"S":"y"},{"S":"z"},{"N":"0"},{"N":"1"},{"N":"2"},{"N":"3"}]}`}},
		{"SET q = list_append(if_not_exists(q, :el), :l2)", map[string]string{"q": `{"L":[{"S":"y"},{"S":"z"}]}`}},
		{"SET q = list_append(:el, :el)", map[string]string{"q": `{"L":[]}`}},
		// Every operand reads the item as it was before the update.
		{"SET a = s, s = :v", map[string]string{"a": `{"S":"x"}`, "s": `{"S":"v"}`}},
		{"SET s = :v, a = s", map[string]string{"a": `{"S":"x"}`, "s": `{"S":"v"}`}},
		{"SET n = n + :one, q = n", map[string]string{"n": `{"N":"6"}`, "q": `{"N":"5"}`}},
		{"SET dup = m, m.a = :v", map[string]string{"dup": `{"M":{"a":{"N":"1"},"b":{"M":{"c":{"S":"d"}}}}}`, "m": `{"M":{"a":{"S":"v"},"b":{"M":{"c":{"S":"d"}}}}}`}},
		// Nested paths and list indexes; SET past the end appends, in index order.
		{"SET m.a = :v", map[string]string{"m": `{"M":{"a":{"S":"v"},"b":{"M":{"c":{"S":"d"}}}}}`}},
		{"SET #m.b.c = :v, m.added = :m", map[string]string{"m": `{"M":{"a":{"N":"1"},"b":{"M":{"c":{"S":"v"}}},"added":{"M":{"x":{"L":[{"NULL":true}]}}}}}`}},
		{"SET l[1] = :v", map[string]string{"l": `{"L":[{"N":"0"},{"S":"v"},{"N":"2"},{"N":"3"}]}`}},
		{"SET l[10] = :v", map[string]string{"l": `{"L":[{"N":"0"},{"N":"1"},{"N":"2"},{"N":"3"},{"S":"v"}]}`}},
		{"SET l[4] = :v", map[string]string{"l": `{"L":[{"N":"0"},{"N":"1"},{"N":"2"},{"N":"3"},{"S":"v"}]}`}},
		{"SET l[11] = :w, l[10] = :v", map[string]string{"l": `{"L":[{"N":"0"},{"N":"1"},{"N":"2"},{"N":"3"},{"S":"v"},{"S":"w"}]}`}},
		{"SET l[10] = :v, l[11] = :w", map[string]string{"l": `{"L":[{"N":"0"},{"N":"1"},{"N":"2"},{"N":"3"},{"S":"v"},{"S":"w"}]}`}},
		// Empty maps and lists are values like any other.
		{"SET e = :empty, f = :el", map[string]string{"e": `{"M":{}}`, "f": `{"L":[]}`}},
		{"SET e = :empty, e2 = :el, t = :t, z = :null, b = :b", map[string]string{"e": `{"M":{}}`, "e2": `{"L":[]}`, "t": `{"BOOL":false}`, "z": `{"NULL":true}`, "b": `{"B":"AAE="}`}},
		// REMOVE: absent is fine, list elements shift, maps may become empty.
		{"REMOVE s", map[string]string{"s": ""}},
		{"REMOVE absent", nil},
		{"REMOVE m.absent, l[9]", nil},
		{"REMOVE l[1]", map[string]string{"l": `{"L":[{"N":"0"},{"N":"2"},{"N":"3"}]}`}},
		{"REMOVE l[1], l[3]", map[string]string{"l": `{"L":[{"N":"0"},{"N":"2"}]}`}},
		{"REMOVE l[3], l[1], l[0]", map[string]string{"l": `{"L":[{"N":"2"}]}`}},
		{"REMOVE l[0], l[1], l[2], l[3]", map[string]string{"l": `{"L":[]}`}},
		{"REMOVE l[1] SET l[2] = :v", map[string]string{"l": `{"L":[{"N":"0"},{"S":"v"},{"N":"3"}]}`}},
		{"SET l[2] = :v REMOVE l[1]", map[string]string{"l": `{"L":[{"N":"0"},{"S":"v"},{"N":"3"}]}`}},
		{"REMOVE m.a", map[string]string{"m": `{"M":{"b":{"M":{"c":{"S":"d"}}}}}`}},
		{"REMOVE m.b.c", map[string]string{"m": `{"M":{"a":{"N":"1"},"b":{"M":{}}}}`}},
		{"REMOVE m.a, m.b", map[string]string{"m": `{"M":{}}`}},
		{"REMOVE s, n, l, m, ss, ns, bs, lm", map[string]string{"s": "", "n": "", "l": "", "m": "", "ss": "", "ns": "", "bs": "", "lm": ""}},
		// Maps in lists and lists in maps.
		{"REMOVE lm[0].x", map[string]string{"lm": `{"L":[{"M":{"y":{"L":[{"S":"p"},{"S":"q"}]}}},{"M":{"x":{"N":"3"}}}]}`}},
		{"REMOVE lm[1].x", map[string]string{"lm": `{"L":[{"M":{"x":{"N":"1"},"y":{"L":[{"S":"p"},{"S":"q"}]}}},{"M":{}}]}`}},
		{"REMOVE lm[0].y[0]", map[string]string{"lm": `{"L":[{"M":{"x":{"N":"1"},"y":{"L":[{"S":"q"}]}}},{"M":{"x":{"N":"3"}}}]}`}},
		{"REMOVE lm[0].x, lm[1]", map[string]string{"lm": `{"L":[{"M":{"y":{"L":[{"S":"p"},{"S":"q"}]}}}]}`}},
		{"REMOVE lm[0], lm[1].x", map[string]string{"lm": `{"L":[{"M":{}}]}`}},
		{"SET lm[1].z = :v, lm[0].y[5] = :w", map[string]string{"lm": `{"L":[{"M":{"x":{"N":"1"},"y":{"L":[{"S":"p"},{"S":"q"},{"S":"w"}]}}},{"M":{"x":{"N":"3"},"z":{"S":"v"}}}]}`}},
		{"ADD lm[1].x :one, lm[0].s :ss2", map[string]string{"lm": `{"L":[{"M":{"s":{"SS":["b","c"]},"x":{"N":"1"},"y":{"L":[{"S":"p"},{"S":"q"}]}}},{"M":{"x":{"N":"4"}}}]}`}},
		// ADD: numbers (absent is 0) and set union.
		{"ADD n :one", map[string]string{"n": `{"N":"6"}`}},
		{"ADD n :neg", map[string]string{"n": `{"N":"-1.5"}`}},
		{"ADD q :half", map[string]string{"q": `{"N":"0.5"}`}},
		{"ADD m.cnt :one, l[1] :one", map[string]string{"m": `{"M":{"a":{"N":"1"},"b":{"M":{"c":{"S":"d"}}},"cnt":{"N":"1"}}}`, "l": `{"L":[{"N":"0"},{"N":"2"},{"N":"2"},{"N":"3"}]}`}},
		{"ADD ss :ss2", map[string]string{"ss": `{"SS":["a","b","c"]}`}},
		{"ADD q :ss2", map[string]string{"q": `{"SS":["b","c"]}`}},
		{"ADD ns :ns2", map[string]string{"ns": `{"NS":["1","2","3"]}`}},
		{"ADD bs :bs2", map[string]string{"bs": `{"BS":["AQ==","Ag==","Aw=="]}`}},
		// DELETE: set difference; an empty set is removed.
		{"DELETE ss :ssa", map[string]string{"ss": `{"SS":["b"]}`}},
		{"DELETE ss :ssab", map[string]string{"ss": ""}},
		{"DELETE ss :ss2", map[string]string{"ss": `{"SS":["a"]}`}},
		{"DELETE ns :ns1", map[string]string{"ns": `{"NS":["2"]}`}},
		{"DELETE bs :bs1", map[string]string{"bs": `{"BS":["Ag=="]}`}},
		{"DELETE absent :ss2", nil},
		// Clauses in any order, keywords in any case.
		{"SET a = :v REMOVE s ADD n :one DELETE ss :ssa", map[string]string{"a": `{"S":"v"}`, "s": "", "n": `{"N":"6"}`, "ss": `{"SS":["b"]}`}},
		{"delete ss :ssa add n :one remove s set a = :v", map[string]string{"a": `{"S":"v"}`, "s": "", "n": `{"N":"6"}`, "ss": `{"SS":["b"]}`}},
		{"Set a = :v, b = :w Remove s, n", map[string]string{"a": `{"S":"v"}`, "b": `{"S":"w"}`, "s": "", "n": ""}},
	}
	baseJSON := exprJSON(t, base)
	for _, c := range cases {
		u, err := ParseUpdate(c.expr, names, values, nil)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		got, err := u.Apply(base)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		want := base.Clone()
		for k, js := range c.want {
			if js == "" {
				delete(want, k)
			} else {
				var v Value
				if err := json.Unmarshal([]byte(js), &v); err != nil {
					t.Fatal(err)
				}
				want[k] = v
			}
		}
		if g, w := exprJSON(t, got), exprJSON(t, want); g != w {
			t.Errorf("%q:\n got %s\nwant %s", c.expr, g, w)
		}
		if exprJSON(t, base) != baseJSON {
			t.Fatalf("%q changed its input", c.expr)
		}
	}
}

func TestExprUpdateApplyNoItem(t *testing.T) {
	values := exprValues(t, exprUpdateValues)
	cases := []struct{ expr, want string }{
		{"SET a = :v", `{"a":{"S":"v"}}`},
		{"ADD c :one, s :ss2", `{"c":{"N":"1"},"s":{"SS":["b","c"]}}`},
		{"REMOVE x DELETE y :ss2", `{}`},
		{"SET q = if_not_exists(q, :l2)", `{"q":{"L":[{"S":"y"},{"S":"z"}]}}`},
	}
	for _, c := range cases {
		u, err := ParseUpdate(c.expr, nil, values, nil)
		if err != nil {
			t.Fatalf("%q: %v", c.expr, err)
		}
		got, err := u.Apply(nil)
		if err != nil || exprJSON(t, got) != c.want {
			t.Errorf("%q on no item = %s, %v; want %s", c.expr, exprJSON(t, got), err, c.want)
		}
	}
}

func TestExprUpdateApplyErrors(t *testing.T) {
	base := exprItem(t, exprUpdateItem)
	values := exprValues(t, exprUpdateValues)
	const (
		badPath = "The document path provided in the update expression is invalid for update"
		badType = "An operand in the update expression has an incorrect data type"
		noAttr  = "The provided expression refers to an attribute that does not exist in the item"
	)
	cases := []struct {
		expr string
		item Item
		want string
	}{
		{"SET a.b = :v", base, badPath},
		{"SET a.b = :v", nil, badPath},
		{"SET a[0] = :v", nil, badPath},
		{"SET m.x.y = :v", base, badPath},
		{"SET s.x = :v", base, badPath},
		{"SET l.x = :v", base, badPath},
		{"SET m[0] = :v", base, badPath},
		{"SET l[7].x = :v", base, badPath},
		{"REMOVE absent.x", base, badPath},
		{"REMOVE s.x", base, badPath},
		{"REMOVE s[0]", base, badPath},
		{"ADD m.x.y :one", base, badPath},
		{"DELETE m.x.y :ss2", base, badPath},
		{"SET a = absent", base, noAttr},
		{"SET a = m.nope", base, noAttr},
		{"SET a = absent + :one", base, noAttr},
		{"SET a = list_append(absent, :l2)", base, noAttr},
		{"SET a = if_not_exists(b, c)", base, noAttr},
		{"SET n = s + :one", base, badType},
		{"SET n = :one - l", base, badType},
		{"SET l = list_append(l, s)", base, badType},
		{"SET l = list_append(m, l)", base, badType},
		{"ADD s :one", base, badType},
		{"ADD ss :ns2", base, badType},
		{"ADD n :ss2", base, badType},
		{"DELETE s :ss2", base, badType},
		{"DELETE ns :ss2", base, badType},
		{"SET lm[2].x = :v", base, badPath},
		{"REMOVE lm[0].x.y", base, badPath},
		{"SET lm[0].y.z = :v", base, badPath},
	}
	for _, c := range cases {
		u, err := ParseUpdate(c.expr, nil, values, nil)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		if _, err := u.Apply(c.item); err == nil || err.Error() != c.want {
			t.Errorf("%q: %v, want %s", c.expr, err, c.want)
		}
	}
}

func TestExprUpdateParseErrors(t *testing.T) {
	values := exprValues(t, exprUpdateValues)
	names := map[string]string{"#n": "n"}
	cases := []struct{ expr, want string }{
		{"", "The expression can not be empty;"},
		{"SET", `Syntax error; token: "<EOF>", near: "SET"`},
		{"REMOVE", `Syntax error; token: "<EOF>", near: "REMOVE"`},
		{"INVALID SYNTAX HERE", `Syntax error; token: "INVALID", near: "INVALID SYNTAX"`},
		{"ADD hits : incr", `Syntax error; token: ":", near: "hits : incr"`},
		{"SET a = :v,", `Syntax error; token: "<EOF>", near: ","`},
		{"SET a :v", `Syntax error; token: ":v", near: "a :v"`},
		{"SET a = :v b = :w", `Syntax error; token: "b", near: ":v b ="`},
		{"SET a = :v, REMOVE b", `Syntax error; token: "REMOVE", near: ", REMOVE b"`},
		{"ADD a b", `Syntax error; token: "b", near: "a b"`},
		{"ADD a", `Syntax error; token: "<EOF>", near: "a"`},
		{"DELETE a :ss2, b", `Syntax error; token: "<EOF>", near: "b"`},
		{"SET a = :one + :one + :one", `Syntax error; token: "+", near: ":one + :one"`},
		{"SET a = (:one + :one) - :one", `Syntax error; token: "-", near: ") - :one"`},
		{"SET a = :one + (:one - :one)", `Syntax error; token: "-", near: ":one - :one"`},
		{"SET a = list_append(:l2 + :l2, :l2)", `Syntax error; token: "+", near: ":l2 + :l2"`},
		{"SET a = :one * :one", `Syntax error; token: "*", near: ":one * :one"`},
		{"SET a = 1", `Syntax error; token: "1", near: "= 1"`},
		{"SET a = b AND c = :v", `Syntax error; token: "AND", near: "b AND c"`},
		{"SET set = :v", `Syntax error; token: "set", near: "SET set ="`},
		{"REMOVE a.set", `Syntax error; token: "set", near: ".set"`},
		{"SET _a = :v", `Syntax error; token: "_", near: "SET _a"`},
		{"SET a = :v SET b = :w", `The "SET" section can only be used once in an update expression;`},
		{"REMOVE a ADD n :one remove b", `The "REMOVE" section can only be used once in an update expression;`},
		{"SET status = :v", "Attribute name is a reserved keyword; reserved keyword: status"},
		{"SET a = Name", "Attribute name is a reserved keyword; reserved keyword: Name"},
		{"REMOVE m.comment", "Attribute name is a reserved keyword; reserved keyword: comment"},
		{"SET a = foo(b)", "Invalid function name; function: foo"},
		{"SET a = size(b)", "Invalid function name; function: size"},
		{"SET a = If_Not_Exists(b, :v)", "Invalid function name; function: If_Not_Exists"},
		{"SET #x = :v", "An expression attribute name used in the document path is not defined; attribute name: #x"},
		{"SET a = :nope", "An expression attribute value used in expression is not defined; attribute value: :nope"},
		{"SET a = :v, a = :w", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"},
		{"SET m.a = :v REMOVE m", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [m, a], path two: [m]"},
		{"SET n = :one ADD #n :one", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [n], path two: [n]"},
		{"REMOVE l[1], l[1]", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [l, [1]], path two: [l, [1]]"},
		{"SET l[0] = :v REMOVE l.x", "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [l, [0]], path two: [l, x]"},
		{"SET a = if_not_exists(:v, :w)", "Operator or function requires a document path; operator or function: if_not_exists"},
		{"SET a = if_not_exists(a)", "Incorrect number of operands for operator or function; operator or function: if_not_exists, number of operands: 1"},
		{"SET a = list_append(a, :l2, :l2)", "Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 3"},
		{"SET a = list_append(:v, l)", "Incorrect operand type for operator or function; operator or function: list_append, operand type: S"},
		{"SET a = :v + :one", "Incorrect operand type for operator or function; operator or function: +, operand type: S"},
		{"SET a = n - :ss2", "Incorrect operand type for operator or function; operator or function: -, operand type: SS"},
		{"ADD a :v", "Incorrect operand type for operator or function; operator: ADD, operand type: STRING"},
		{"ADD a :l2", "Incorrect operand type for operator or function; operator: ADD, operand type: LIST"},
		{"ADD a :empty", "Incorrect operand type for operator or function; operator: ADD, operand type: MAP"},
		{"ADD a :t", "Incorrect operand type for operator or function; operator: ADD, operand type: BOOLEAN"},
		{"ADD a :null", "Incorrect operand type for operator or function; operator: ADD, operand type: NULL"},
		{"ADD a :b", "Incorrect operand type for operator or function; operator: ADD, operand type: BINARY"},
		{"DELETE a :one", "Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER"},
		// The most important kind of error wins, wherever it is.
		{"SET a = :nope, #x = :v", "An expression attribute name used in the document path is not defined; attribute name: #x"},
		{"SET #x = :v, status = :w", "Attribute name is a reserved keyword; reserved keyword: status"},
		{"SET a = :v, a = :w, b = foo(c)", "Invalid function name; function: foo"},
		{"ADD a :v SET b = :w, b = :v", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [b], path two: [b]"},
		{"SET a = :v SET a = :w", `The "SET" section can only be used once in an update expression;`},
	}
	for _, c := range cases {
		_, err := ParseUpdate(c.expr, names, values, nil)
		want := "Invalid UpdateExpression: " + c.want
		if err == nil || err.Error() != want {
			t.Errorf("%q:\n got %v\nwant %s", c.expr, err, want)
		}
	}
	for _, ok := range []string{
		"SET a = (:one + :one)",
		"SET a = ((:one) + (:one))",
		"SET a.b = :v, a.c = :w",
		"SET l[0] = :v, l[1] = :w",
		"SET a = if_not_exists(a, list_append(:l2, :l2))",
		"SET a = list_append(if_not_exists(a, :v), :l2)", // the type of a function's result is checked when applied
		"REMOVE m.a.b, m.a.c, m.b",
		"ADD ss :ss2, ns :ns2 DELETE bs :bs1",
	} {
		if _, err := ParseUpdate(ok, names, values, nil); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

func TestExprUpdatedPaths(t *testing.T) {
	base := exprItem(t, exprUpdateItem)
	values := exprValues(t, exprUpdateValues)
	u, err := ParseUpdate("SET m.b.c = :v, q = :w REMOVE s ADD n :one", nil, values, nil)
	if err != nil {
		t.Fatal(err)
	}
	after, err := u.Apply(base)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := exprJSON(t, u.UpdatedPaths().Apply(base)), `{"m":{"M":{"b":{"M":{"c":{"S":"d"}}}}},"n":{"N":"5"},"s":{"S":"x"}}`; got != want {
		t.Errorf("UPDATED_OLD %s, want %s", got, want)
	}
	if got, want := exprJSON(t, u.UpdatedPaths().Apply(after)), `{"m":{"M":{"b":{"M":{"c":{"S":"v"}}}}},"n":{"N":"6"},"q":{"S":"w"}}`; got != want {
		t.Errorf("UPDATED_NEW %s, want %s", got, want)
	}
}

func TestExprLex(t *testing.T) {
	var got []string
	for _, tk := range lex("#a.b[12] <> :v_1 AND x<=y>=z (:c) é") {
		got = append(got, fmt.Sprintf("%d:%s", tk.kind, tk.text))
	}
	want := []string{"2:#a", "5:.", "1:b", "5:[", "4:12", "5:]", "5:<>", "3::v_1", "1:AND", "1:x", "5:<=", "1:y", "5:>=", "1:z", "5:(", "3::c", "5:)", "6:é", "0:<EOF>"}
	if !slices.Equal(got, want) {
		t.Errorf("lex:\n got %v\nwant %v", got, want)
	}
}
