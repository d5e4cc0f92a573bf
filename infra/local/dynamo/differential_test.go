package dynamo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	minidyn "github.com/truora/minidyn/server"

	"github.com/pigeon-mail/pigeon/infra/local/dynamo"
)

// The differential test: one randomised sequence of the operations and expression shapes
// Pigeon's store (shared/store) issues, sent through the real AWS SDK client to the engine and
// to minidyn (the embedded server the local stack used before), must get the same answers:
// the same items (numbers compared by value, sets regardless of order, query results in
// order, page by page with each page's LastEvaluatedKey), the same error codes, the same
// cancellation reason codes, and the same items left behind.
//
// Where minidyn is wrong, DynamoDB is the reference: each of minidyn's known bugs is one entry
// of knownMinidynBugs, saying what DynamoDB does, with a fix that turns minidyn's answer into
// DynamoDB's (so the comparison still checks everything else) and a deterministic check that
// TestKnownMinidynBugs runs against the engine (which must pass) and minidyn (which, while
// the bug lasts, fails it).
//
// Seeds: 1, 2 and 3 by default, 400 operations each; DIFF_SEED=<n> runs seed n (DIFF_SEED=random
// a time-based one), DIFF_OPS=<n> sets the number of operations. A failure names the seed and
// the operation, and shows the requests exactly as the SDK sent them.

// knownMinidynBugs are where minidyn does not do what DynamoDB does.
var knownMinidynBugs = []minidynBug{
	{
		name: "Query FilterExpression evaluated wrongly",
		dynamodb: "a function of a FilterExpression on a missing attribute is false, not an error " +
			"(NOT contains(#labels, :l) keeps an item without labels), and Limit counts the items read " +
			"that match the key condition, before the filter (API Reference, Query: Limit, " +
			"FilterExpression); minidyn fails with \"contains is not supported for path=NULL\", and with " +
			"a filter its Limit counts items of other partitions, giving empty pages whose " +
			"LastEvaluatedKey is in another partition. The fix answers from minidyn's pages of the same " +
			"query without filter, filtered and projected by the test (filterOracle).",
		fix:   fixFilterOracle,
		check: checkFilter,
	},
	{
		name: "GSI entries not maintained",
		dynamodb: "a GSI holds exactly the items that have both its key attributes, as they are now, " +
			"however they were written (Developer Guide, Using Global Secondary Indexes); minidyn's " +
			"indexes go wrong as items change: an UpdateItem that gives an item the GSI's keys leaves " +
			"that item alone in the index, a DeleteItem or BatchWriteItem delete can empty an index " +
			"partition, and a put replacing an indexed item with one without the index's sort key leaves " +
			"it in the index (where a key condition on the sort key then fails with \"invalid type " +
			"NULL\"). The harness answers every GSI query from a minidyn freshly filled with the engine's " +
			"items, whose indexes are right.",
		check: checkGSIMaintenance,
	},
	{
		name: "duplicate keys in a batch accepted",
		dynamodb: "BatchGetItem and BatchWriteItem refuse a request naming one item twice with " +
			"ValidationException \"Provided list of item keys contains duplicates\" (API Reference, " +
			"BatchWriteItem); minidyn answers it.",
		fix:   fixDupKeys,
		check: checkDupKeys,
	},
	{
		name: "BETWEEN with bounds the wrong way round accepted",
		dynamodb: "a key condition BETWEEN :a AND :b with :a > :b is refused with ValidationException " +
			"(\"The BETWEEN operator requires upper bound to be greater than or equal to lower bound\"); " +
			"minidyn answers it (with no items).",
		fix:   fixBadBetween,
		check: checkBadBetween,
	},
	{
		name: "numbers rounded to float64",
		dynamodb: "numbers keep up to 38 significant digits (Developer Guide, Data types: Number); " +
			"minidyn's UpdateItem rewrites every number of the item through float64 " +
			"(12345678901234567890.123456789 becomes 12345678901234567000), the attributes the update " +
			"does not touch included, and a ProjectionExpression does the same to the numbers it returns.",
		fix:   fixFloatRounding,
		check: checkNumberPrecision,
	},
	{
		name: "update REMOVE ignored",
		dynamodb: "REMOVE in an UpdateExpression removes the attributes from the item (Developer Guide, " +
			"Update expressions: \"REMOVE - Removes one or more attributes from an item\"); minidyn " +
			"leaves them, in ReturnValues ALL_NEW and in the stored item (so GSI entries stay too).",
		fix:   fixRemoveIgnored,
		check: checkRemove,
	},
	{
		name: "empty map or list mangled",
		dynamodb: "an empty map {} or empty list [] is a valid attribute value, at the top level or " +
			"nested, and reads back as written (only empty sets are refused); minidyn stores a top-level " +
			"one as BOOL false, a nested one as a value without a type, returns NULL for them in " +
			"cancellation reasons, and UpdateItem SET a = :emptyMap stores a copy of another attribute.",
		fix:   fixEmptyCollections,
		check: checkEmptyCollections,
	},
	{
		name: "numbers not canonical",
		dynamodb: "numbers are stored as variable-length decimals: \"Leading and trailing zeroes are " +
			"trimmed\" (Developer Guide, Data types), and they read back in plain notation (1.50 → 1.5, " +
			"007 → 7, 1e3 → 1000); minidyn returns the text as sent until some UpdateItem rewrites " +
			"the item. The differential compares numbers by value, so this needs no fix; the engine's " +
			"answers are checked for the canonical text on every operation.",
		check: checkCanonicalNumbers,
	},
	{
		name: "empty string key accepted",
		dynamodb: "key attributes of the table and of every secondary index must be non-empty: " +
			"\"the partition key and sort key attributes of base tables continue to require non-empty " +
			"values ... string and binary key attributes of local or global secondary indexes also " +
			"require non-empty values\" (AWS What's New, 2020-05-18, empty values for non-key " +
			"attributes): a write that would store one is refused with ValidationException; minidyn " +
			"writes it.",
		fix:   fixEmptyKeyAccepted,
		check: checkEmptyKeys,
	},
	{
		name: "transaction update error not a cancellation",
		dynamodb: "an update in a transaction that cannot be applied (\"The provided expression refers " +
			"to an attribute that does not exist in the item\", \"An operand in the update expression " +
			"has an incorrect data type\") cancels the transaction: TransactionCanceledException with " +
			"reason ValidationError for that action (API Reference, TransactionCanceledException); " +
			"minidyn answers a plain ValidationException.",
		fix:   fixTxValidationNotCancelled,
		check: checkTxValidationError,
	},
	{
		name: "transaction reports only the first failed condition",
		dynamodb: "CancellationReasons has one entry per action, in order, each with its own code " +
			"(ConditionalCheckFailed for every action whose condition failed, None for the others; " +
			"API Reference, CancellationReason); minidyn stops at the first failing action and reports " +
			"None for all the others.",
		fix:   fixTxFirstFailureOnly,
		check: checkTxAllReasons,
	},
	{
		name: "PutItem ReturnValues ignored",
		dynamodb: "PutItem returns Attributes only with ReturnValues ALL_OLD, and then the item as it " +
			"was before the put, none when there was none (API Reference, PutItem: ReturnValues); minidyn " +
			"returns the item it wrote whatever ReturnValues says.",
		fix:   fixPutReturnValues,
		check: checkPutReturnValues,
	},
	{
		name: "ReturnValuesOnConditionCheckFailure ignored by PutItem and DeleteItem",
		dynamodb: "with ReturnValuesOnConditionCheckFailure ALL_OLD, the ConditionalCheckFailedException " +
			"(or the action's CancellationReason in a transaction) carries the item as it was (API " +
			"Reference, PutItem, DeleteItem, UpdateItem, Put, Delete); minidyn's PutItem and DeleteItem, " +
			"and a transaction's Put, return no item.",
		fix:   fixOldOnFailure,
		check: checkOldOnFailure,
	},
	{
		name: "UpdateItem ALL_OLD of a new item returns its key",
		dynamodb: "ReturnValues ALL_OLD returns the item as it was before the UpdateItem; when the update " +
			"creates the item there was none, and no Attributes come back; minidyn returns the key " +
			"attributes.",
		fix:   fixUpdateAllOldOfNewItem,
		check: checkUpdateAllOld,
	},
	{
		name: "Query ScannedCount missing",
		dynamodb: "ScannedCount is the number of items evaluated, before any FilterExpression is applied " +
			"(API Reference, Query); minidyn answers 0. The engine's ScannedCount is checked on its own " +
			"instead: Count <= ScannedCount <= Limit, and ScannedCount = Count without a filter.",
		fix:   fixScannedCount,
		check: checkScannedCount,
	},
	{
		name: "item size limit not enforced",
		dynamodb: "an item is at most 400 KB, attribute names and values together (Developer Guide, " +
			"Constraints: Items); a bigger one is refused with ValidationException; minidyn stores it.",
		fix:   fixOversize,
		check: checkItemSize,
	},
	{
		name: "consistent read of a GSI accepted",
		dynamodb: "strongly consistent reads are not supported on global secondary indexes: a Query " +
			"of a GSI with ConsistentRead true is refused with ValidationException (API Reference, " +
			"Query: ConsistentRead); minidyn answers it.",
		fix:   fixConsistentGSI,
		check: checkConsistentGSI,
	},
}

type minidynBug struct {
	name     string
	dynamodb string
	// fix changes minidyn's answer into what DynamoDB answers (from the operation, the engine's
	// state before it and the engine's answer where minidyn's says nothing), and reports whether
	// it changed anything. nil: the comparison's normalisation covers the bug.
	fix func(c *fixCtx) bool
	// check returns an error when the server does not do what DynamoDB does (table is a fresh
	// Pigeon table).
	check func(ctx context.Context, c *dynamodb.Client, table string) error
}

// TestKnownMinidynBugs asserts DynamoDB's behaviour, for each of minidyn's known bugs, on the
// engine; it reports (without failing) whether minidyn still has the bug.
func TestKnownMinidynBugs(t *testing.T) {
	ctx := context.Background()
	eng := startEngine(t, t.TempDir(), dynamo.Options{})
	mini := startMinidyn(t)
	for i, b := range knownMinidynBugs {
		t.Run(strings.ReplaceAll(b.name, " ", "_"), func(t *testing.T) {
			table := fmt.Sprintf("bug%d", i)
			createTable(t, eng.c, pigeonTable(table, ""))
			createTable(t, mini, pigeonTable(table, ""))
			if err := b.check(ctx, eng.c, table); err != nil {
				t.Errorf("the engine does not do what DynamoDB does (%s): %v", b.dynamodb, err)
			}
			if err := b.check(ctx, mini, table); err == nil {
				t.Logf("minidyn no longer has this bug: its entry in knownMinidynBugs can go")
			} else {
				t.Logf("minidyn still has it: %v", err)
			}
		})
	}
}

func startMinidyn(t testing.TB) *dynamodb.Client {
	srv := httptest.NewServer(minidyn.NewServer())
	t.Cleanup(srv.Close)
	return newClient(srv.URL)
}

func TestDifferential(t *testing.T) {
	seeds := []int64{1, 2, 3}
	switch s := os.Getenv("DIFF_SEED"); s {
	case "":
	case "random":
		seeds = []int64{time.Now().UnixNano()}
	default:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("DIFF_SEED=%q: %v", s, err)
		}
		seeds = []int64{n}
	}
	ops := 400
	if s := os.Getenv("DIFF_OPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("DIFF_OPS=%q: %v", s, err)
		}
		ops = n
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Logf("seed %d (replay: DIFF_SEED=%d go test -run 'TestDifferential' ./infra/local/dynamo/)", seed, seed)
			runDifferential(t, seed, ops)
		})
	}
}

// ---- the comparable form of answers ----

// conv turns SDK attribute values into the comparable form: numbers by value (plain decimal
// text), sets sorted. With checkNumbers it records every number whose text is not DynamoDB's
// canonical text; with raw it keeps numbers and sets as they are (to show requests).
type conv struct {
	raw          bool
	checkNumbers bool
	bad          []string
}

func (c *conv) num(s string) string {
	if c.raw {
		return s
	}
	n := canonicalNumber(s)
	if c.checkNumbers && n != s {
		c.bad = append(c.bad, s)
	}
	return n
}

func (c *conv) av(v types.AttributeValue) any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": c.num(v.Value)}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": v.Value}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": v.Value}
	case *types.AttributeValueMemberSS:
		s := slices.Clone(v.Value)
		if !c.raw {
			slices.Sort(s)
		}
		return map[string]any{"SS": s}
	case *types.AttributeValueMemberNS:
		s := make([]string, len(v.Value))
		for i, n := range v.Value {
			s[i] = c.num(n)
		}
		if !c.raw {
			slices.Sort(s)
		}
		return map[string]any{"NS": s}
	case *types.AttributeValueMemberBS:
		s := make([]string, len(v.Value))
		for i, b := range v.Value {
			s[i] = string(b)
		}
		if !c.raw {
			slices.Sort(s)
		}
		return map[string]any{"BS": s}
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = c.av(e)
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": c.fields(v.Value)}
	case nil:
		return map[string]any{"?": "no value"}
	default:
		return map[string]any{"?": fmt.Sprintf("%T", v)}
	}
}

func (c *conv) fields(m map[string]types.AttributeValue) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = c.av(v)
	}
	return out
}

// item is an item's comparable form; nil for no item.
func (c *conv) item(m map[string]types.AttributeValue) map[string]any {
	if len(m) == 0 {
		return nil
	}
	return c.fields(m)
}

// canonicalNumber is a number as DynamoDB returns it: plain decimal notation, no leading or
// trailing zeros ("1.50" → "1.5", "007" → "7", "1e3" → "1000", "-0" → "0").
func canonicalNumber(s string) string {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return "not a number: " + s
	}
	if r.IsInt() {
		return r.Num().String()
	}
	out := strings.TrimRight(r.FloatString(60), "0")
	return strings.TrimSuffix(out, ".")
}

func js(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "unencodable: " + err.Error()
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func same(a, b any) bool { return js(a) == js(b) }

// render shows items (or an item, or a value) in DynamoDB JSON, numbers as sent.
func render(v any) string {
	c := &conv{raw: true}
	switch v := v.(type) {
	case map[string]types.AttributeValue:
		return js(c.item(v))
	case []map[string]types.AttributeValue:
		out := make([]any, len(v))
		for i, it := range v {
			out[i] = c.item(it)
		}
		return js(out)
	case types.AttributeValue:
		return js(c.av(v))
	}
	return js(v)
}

func renderAV(v types.AttributeValue) string { return render(v) }

// containsEmpty says whether a comparable value is or holds an empty map or list.
func containsEmpty(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	if l, ok := m["L"].([]any); ok {
		if len(l) == 0 {
			return true
		}
		return slices.ContainsFunc(l, containsEmpty)
	}
	if f, ok := m["M"].(map[string]any); ok {
		if len(f) == 0 {
			return true
		}
		for _, e := range f {
			if containsEmpty(e) {
				return true
			}
		}
	}
	return false
}

// outcome is an operation's answer in comparable form.
type outcome struct {
	Err     string           `json:"err,omitempty"` // error code
	Reasons []reason         `json:"reasons,omitempty"`
	Item    map[string]any   `json:"item,omitempty"`  // GetItem's item; a failed condition's ALL_OLD item
	Attrs   map[string]any   `json:"attrs,omitempty"` // ReturnValues
	Items   []map[string]any `json:"items,omitempty"` // Query: every page's, in order; BatchGetItem, Scan: by key
	Pages   []page           `json:"pages,omitempty"`
	Left    int              `json:"unprocessed,omitempty"` // BatchGetItem's UnprocessedKeys, BatchWriteItem's UnprocessedItems
	After   []map[string]any `json:"after,omitempty"`       // the written keys' items afterwards
	msg     string           // the error message (to recognise a server's known failure)
}

type reason struct {
	Code string         `json:"code"`
	Item map[string]any `json:"item,omitempty"`
}

type page struct {
	Count   int32          `json:"count"`
	Scanned int32          `json:"scanned"`
	LEK     map[string]any `json:"lek,omitempty"`
}

func (o *outcome) setErr(err error, c *conv) {
	o.msg = err.Error()
	var tce *types.TransactionCanceledException
	var ccf *types.ConditionalCheckFailedException
	var ae smithy.APIError
	switch {
	case errors.As(err, &tce):
		o.Err = tce.ErrorCode()
		for _, r := range tce.CancellationReasons {
			o.Reasons = append(o.Reasons, reason{Code: aws.ToString(r.Code), Item: c.item(r.Item)})
		}
	case errors.As(err, &ccf):
		o.Err = ccf.ErrorCode()
		o.Item = c.item(ccf.Item)
	case errors.As(err, &ae):
		o.Err = ae.ErrorCode()
	default:
		o.Err = "not an API error: " + err.Error()
	}
}

func (o outcome) clone() outcome {
	var c outcome
	if err := json.Unmarshal([]byte(js(o)), &c); err != nil {
		panic(err)
	}
	c.msg = o.msg
	return c
}

// ---- operations ----

const (
	diffTable = "pigeon"
	diffNow   = "1000" // the epoch "now" of conditions and filters on ttl
)

var (
	diffPKs     = []string{"inbox#a", "thread#é", "p\x00q"}
	diffSKs     = []string{"a", "a\x00b", "ab", "m#1", "m#2", "ü", "\uff61", "🐦"}
	tableRange  = []string{"a", "a\x00", "a\x00b", "ab", "b", "m#", "m#1", "m#2", "zz", "ü", "\uff61", "🐦"}
	tablePrefix = []string{"a", "a\x00", "m#", "ü", "🐦", "x"}
	gsiPKs      = []string{"g#a", "g#b"}
	gsiRange    = []string{"t1", "t2", "t2#", "t2#inbox#a", "t3~", "t1#p", "t2#thread#é/m#1"}
	gsiPrefix   = []string{"t1", "t2#", "t3#thread", "t2#p\x00", "t"}
)

type itemKey struct{ pk, sk string }

func (k itemKey) av() avmap { return keyOf(k.pk, k.sk) }

func keyIn(it map[string]any) (itemKey, bool) {
	s := func(name string) (string, bool) {
		m, ok := it[name].(map[string]any)
		if !ok {
			return "", false
		}
		v, ok := m["S"].(string)
		return v, ok
	}
	pk, ok1 := s("pk")
	sk, ok2 := s("sk")
	return itemKey{pk, sk}, ok1 && ok2
}

// diffOp is one generated operation: call sends it to a server; the rest is what the
// comparison and the fixes of minidyn's bugs need to know about it.
type diffOp struct {
	name  string
	keys  []itemKey // items it may write (their items afterwards are compared)
	stray []itemKey // invalid keys minidyn may write: deleted from it afterwards
	call  func(ctx context.Context, c *dynamodb.Client, cv *conv) outcome
	show  func(k itemKey, it map[string]any) bool // which stored items a failure report shows

	kind          string                                                          // PutItem, UpdateItem, DeleteItem, Query
	returnOld     bool                                                            // ReturnValues ALL_OLD
	oldOnFailure  bool                                                            // ReturnValuesOnConditionCheckFailure ALL_OLD
	txOld         []bool                                                          // TransactWriteItems: each action's ReturnValuesOnConditionCheckFailure ALL_OLD
	oversize      bool                                                            // writes an item over 400 KB
	consistentGSI bool                                                            // a strongly consistent read of a GSI
	limit         int32                                                           // Query: Limit
	filter        bool                                                            // Query: with a FilterExpression
	filterFn      func(map[string]any) bool                                       // Query: what the filter keeps (the filter oracle)
	projection    []string                                                        // Query: the projected attributes
	unfiltered    func(ctx context.Context, c *dynamodb.Client, cv *conv) outcome // Query: the same without filter and projection
	gsi           bool                                                            // reads a GSI
	dupKeys       bool                                                            // a batch naming one key twice
	badBetween    bool                                                            // BETWEEN with its bounds the wrong way round
	updates       bool                                                            // holds an UpdateItem or a transaction's Update
	removes       map[itemKey][]string                                            // attributes REMOVEd from each key
	returnNew     bool                                                            // UpdateItem with ReturnValues ALL_NEW
	emptyIn       map[itemKey]map[string]any                                      // values holding an empty map or list written to m or l
	emptyKey      bool                                                            // writes an empty string into a key attribute
	txKeys        []itemKey                                                       // TransactWriteItems: each action's key
	txNeeds       []*needs                                                        // TransactWriteItems: what each update needs of the item
	scan          bool                                                            // the final comparison of whole tables
	pre           map[itemKey]map[string]any                                      // (set by the harness) the engine's items before the op
}

// needs is an attribute an update reads (a = a + :one, list_append(a, :x)) and its type.
type needs struct{ attr, kind string }

func (op *diffOp) noteEmpty(k itemKey, attr string, v types.AttributeValue) {
	c := (&conv{}).av(v)
	if !containsEmpty(c) {
		return
	}
	if op.emptyIn == nil {
		op.emptyIn = map[itemKey]map[string]any{}
	}
	if op.emptyIn[k] == nil {
		op.emptyIn[k] = map[string]any{}
	}
	op.emptyIn[k][attr] = c
}

func (op *diffOp) noteRemoves(k itemKey, attrs []string) {
	if len(attrs) == 0 {
		return
	}
	if op.removes == nil {
		op.removes = map[itemKey][]string{}
	}
	op.removes[k] = append(op.removes[k], attrs...)
}

// ex collects an expression's attribute names and values.
type ex struct {
	names  map[string]string
	values avmap
}

func newEx() *ex { return &ex{names: map[string]string{}, values: avmap{}} }

func (e *ex) n(ref, attr string) string                   { e.names[ref] = attr; return ref }
func (e *ex) v(ref string, v types.AttributeValue) string { e.values[ref] = v; return ref }

func (e *ex) Names() map[string]string {
	if len(e.names) == 0 {
		return nil
	}
	return e.names
}

func (e *ex) Values() avmap {
	if len(e.values) == 0 {
		return nil
	}
	return e.values
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

type gen struct{ r *rand.Rand }

func (g *gen) p(x float64) bool { return g.r.Float64() < x }

func pick[T any](g *gen, xs ...T) T { return xs[g.r.Intn(len(xs))] }

// subset is a non-empty random subset of xs, in random order.
func (g *gen) subset(xs ...string) []string {
	out := slices.Clone(xs)
	g.r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out[:1+g.r.Intn(len(out))]
}

func (g *gen) key() itemKey { return itemKey{pick(g, diffPKs...), pick(g, diffSKs...)} }

// keys are n distinct keys.
func (g *gen) keys(n int) []itemKey {
	var out []itemKey
	for len(out) < n {
		if k := g.key(); !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

func (g *gen) gsiSK(k itemKey) string { return pick(g, "t1", "t2", "t3") + "#" + k.pk + "/" + k.sk }

func (g *gen) labels() types.AttributeValue {
	ls := g.subset("inbox", "sent", "unread", "é")
	if g.p(0.1) {
		return ssv(ls...)
	}
	var l []types.AttributeValue
	for _, s := range ls {
		l = append(l, sv(s))
	}
	return lv(l...)
}

func (g *gen) mapValue() types.AttributeValue {
	switch g.r.Intn(5) {
	case 0:
		return mv(nil)
	case 1:
		return mv(avmap{"a": sv("x"), "n": nv("1.50")})
	case 2:
		return mv(avmap{"inner": mv(nil)})
	case 3:
		return mv(avmap{"l": lv(), "s": sv("")})
	default:
		return mv(avmap{"deep": mv(avmap{"x": mv(avmap{"y": sv("z")})}), "e": lv()})
	}
}

func (g *gen) listValue() types.AttributeValue {
	switch g.r.Intn(4) {
	case 0:
		return lv()
	case 1:
		return lv(sv("a"), nv("1.0"), bv(true), nullv())
	case 2:
		return lv(lv(), mv(nil))
	default:
		return lv(mv(avmap{"k": sv("v")}), lv(sv("x")))
	}
}

// item is a random item of Pigeon's kinds of attributes, sometimes in GSIs.
func (g *gen) item(op *diffOp, k itemKey, emptyKeys bool) avmap {
	it := avmap{"pk": sv(k.pk), "sk": sv(k.sk)}
	if g.p(0.7) {
		v := strconv.Itoa(g.r.Intn(4))
		if g.p(0.1) {
			v += ".0"
		}
		it["version"] = nv(v)
	}
	if g.p(0.5) {
		it["target"] = sv(pick(g, "t0", "t1"))
	}
	if g.p(0.5) {
		it["state"] = sv(pick(g, "pending", "done"))
	}
	if g.p(0.5) {
		it["claimed_at"] = nv(pick(g, "100", "200", "300"))
	}
	if g.p(0.5) {
		it["ttl"] = nv(pick(g, "900", "1000", "1100"))
	}
	if g.p(0.6) {
		it["labels"] = g.labels()
	}
	if g.p(0.4) {
		it["updated_at"] = sv(pick(g, "T1", "T2"))
	}
	if g.p(0.4) {
		it["send_status"] = sv(pick(g, "sending", "scheduled", "draft"))
	}
	if g.p(0.3) {
		it["send_key"] = sv(pick(g, "k0", "k1"))
	}
	if g.p(0.3) {
		it["send_at_ms"] = nv(pick(g, "500", "1500"))
	}
	if g.p(0.4) {
		it["thread_id"] = sv(pick(g, "th1", "th2", "日本語"))
	}
	if g.p(0.1) {
		it["deleting"] = bv(true)
	}
	if g.p(0.3) {
		it["s_empty"] = sv("")
	}
	if g.p(0.3) {
		it["txt"] = sv(pick(g, "héllo wörld 🐦", "a\x00b", "\x00", "line\nbreak \"quoted\" \\ </tag> &amp;"))
	}
	if g.p(0.3) {
		it["amount"] = nv(pick(g, "3.14", "-0.5", "1.50", "007", "1e3", "0.0", "-12.340", "12345678901234567890.123456789", "1E-2"))
	}
	if g.p(0.3) {
		it["n"] = nv(strconv.Itoa(g.r.Intn(11) - 5))
	}
	if g.p(0.3) {
		it["flag"] = bv(g.p(0.5))
	}
	if g.p(0.2) {
		it["nothing"] = nullv()
	}
	if g.p(0.2) {
		it["conns"] = ssv(g.subset("c1", "c2", "c3")...)
	}
	if g.p(0.15) {
		it["nums"] = nsv(g.subset("1", "2.5", "-3", "10")...)
	}
	if g.p(0.25) {
		it["m"] = g.mapValue()
		op.noteEmpty(k, "m", it["m"])
	}
	if g.p(0.25) {
		it["l"] = g.listValue()
		op.noteEmpty(k, "l", it["l"])
	}
	for i := 1; i <= 3; i++ {
		if g.p(0.5) {
			it[fmt.Sprintf("gsi%dpk", i)] = sv(pick(g, gsiPKs...))
			if g.p(0.9) {
				it[fmt.Sprintf("gsi%dsk", i)] = sv(g.gsiSK(k))
			}
		}
	}
	if emptyKeys && g.p(0.02) {
		it[pick(g, "gsi1pk", "gsi2sk", "gsi3pk")] = sv("")
		op.emptyKey = true
	}
	return it
}

// Conditions, as shared/store writes them.

func (g *gen) putCond(e *ex) string {
	switch g.r.Intn(8) {
	case 0:
		return ""
	case 1, 2:
		return "attribute_not_exists(pk)"
	case 3:
		e.v(":v", nv(strconv.Itoa(g.r.Intn(4))))
		return "version = :v"
	case 4:
		e.v(":id", sv(pick(g, "t0", "t1")))
		return "attribute_not_exists(pk) OR target = :id"
	case 5:
		e.n("#ttl", "ttl")
		e.n("#state", "state")
		e.v(":now", nv(diffNow))
		e.v(":pending", sv("pending"))
		e.v(":stale", nv("200"))
		return "attribute_not_exists(pk) OR #ttl < :now OR (#state = :pending AND claimed_at < :stale)"
	case 6:
		return "attribute_exists(pk)"
	default:
		e.v(":u", sv(pick(g, "T1", "T2")))
		return "updated_at = :u"
	}
}

func (g *gen) deleteCond(e *ex) string {
	switch g.r.Intn(6) {
	case 0:
		return ""
	case 1:
		e.n("#state", "state")
		e.v(":pending", sv("pending"))
		return "#state = :pending"
	case 2:
		return "attribute_exists(pk)"
	case 3:
		e.v(":v", nv(strconv.Itoa(g.r.Intn(4))))
		return "version = :v"
	case 4:
		e.v(":sending", sv("sending"))
		e.v(":key", sv(pick(g, "k0", "k1")))
		return "send_status = :sending AND send_key = :key"
	default:
		return "attribute_exists(pk) AND attribute_not_exists(deleting)"
	}
}

func (g *gen) checkCond(e *ex) string {
	switch g.r.Intn(5) {
	case 0:
		return "attribute_exists(pk) AND attribute_not_exists(deleting)"
	case 1:
		e.v(":v", nv(strconv.Itoa(g.r.Intn(4))))
		return "version = :v"
	case 2:
		return "attribute_not_exists(pk)"
	case 3:
		return "attribute_exists(pk)"
	default:
		e.v(":prev", sv(pick(g, "T1", "T2")))
		return "updated_at = :prev AND attribute_not_exists(deleting)"
	}
}

// update is one of shared/store's update expressions (with its condition) on k.
func (g *gen) update(op *diffOp, k itemKey, e *ex, inTx bool) (expr, cond string, need *needs) {
	shapes := 12
	if !inTx {
		shapes = 14
	}
	switch g.r.Intn(shapes) {
	case 0: // ClaimDraft
		e.v(":sending", sv("sending"))
		e.v(":now", nv(diffNow))
		e.v(":stale", nv("200"))
		e.v(":key", sv(pick(g, "k0", "k1", "k2")))
		e.v(":one", nv("1"))
		cond = "attribute_exists(pk) AND (attribute_not_exists(send_status) OR send_status <> :sending OR claimed_at < :stale)"
		if g.p(0.5) {
			e.v(":scheduled", sv("scheduled"))
			cond = "attribute_exists(pk) AND ((send_status = :scheduled AND send_at_ms <= :now) OR (send_status = :sending AND claimed_at < :stale))"
		}
		return "SET send_status = :sending, claimed_at = :now, send_key = if_not_exists(send_key, :key), version = version + :one", cond, &needs{"version", "N"}
	case 1: // RecordFanout
		e.v(":ttl", nv(pick(g, "900", "1000", "1200")))
		expr = "SET " + e.n("#ttl", "ttl") + " = :ttl ADD " + e.n("#c", "conns") + " " + e.v(":c", ssv(g.subset("c1", "c2", "c4")...))
		if g.p(0.5) {
			expr += ", " + e.n("#w", "hooks") + " " + e.v(":w", ssv(g.subset("w1", "w2")...))
		}
		return expr, "", nil
	case 2: // list counts
		return "ADD " + e.n("#n", "n") + " " + e.v(":d", nv(strconv.Itoa(g.r.Intn(6)-2))), "", nil
	case 3, 4: // label updates
		e.n("#labels", "labels")
		e.n("#upd", "updated_at")
		e.v(":now", sv(pick(g, "T2", "T3")))
		if g.p(0.5) {
			e.v(":prev", sv(pick(g, "T1", "T2")))
			cond = "#upd = :prev"
		} else {
			cond = "attribute_exists(pk) AND attribute_not_exists(#upd)"
		}
		if g.r.Intn(2) == 0 {
			op.noteRemoves(k, []string{"labels"})
			return "REMOVE #labels SET #upd = :now", cond, nil
		}
		e.v(":l", g.labels())
		return "SET #labels = :l, #upd = :now", cond, nil
	case 5: // delivery lifecycle
		e.n("#del", "delivery")
		e.n("#ver", "delivery_version")
		e.n("#upd", "updated_at")
		e.v(":state", mv(avmap{"status": sv(pick(g, "sent", "delivered", "bounced")), "at": nv(pick(g, "1", "2.50"))}))
		e.v(":ver", nv(strconv.Itoa(1+g.r.Intn(3))))
		e.v(":upd", sv(pick(g, "T2", "T3")))
		expr = "SET #del = :state, #ver = :ver, #upd = :upd"
		cond = "attribute_exists(pk) AND attribute_not_exists(#ver)"
		if g.p(0.5) {
			e.v(":prev", nv(strconv.Itoa(1+g.r.Intn(3))))
			cond = "#ver = :prev"
		}
		switch g.r.Intn(3) {
		case 0:
			e.n("#labels", "labels")
			e.v(":add", lv(sv("delivered")))
			return expr + ", #labels = list_append(#labels, :add)", cond, &needs{"labels", "L"}
		case 1:
			e.n("#labels", "labels")
			e.v(":add", lv(sv("sent")))
			return expr + ", #labels = :add", cond + " AND attribute_not_exists(#labels)", nil
		}
		return expr, cond, nil
	case 6: // API key use
		e.v(":t", sv(pick(g, "2026-01-01T00:00:00Z", "2026-01-02T00:00:00.5Z")))
		return "SET used_at = :t", "attribute_exists(pk)", nil
	case 7: // inbox deletion mark
		e.v(":t", bv(true))
		return "SET deleting = :t", "attribute_exists(pk)", nil
	case 8: // maps and lists, possibly empty
		switch g.r.Intn(3) {
		case 0:
			v := g.mapValue()
			op.noteEmpty(k, "m", v)
			expr = "SET m = " + e.v(":m", v)
		case 1:
			v := g.listValue()
			op.noteEmpty(k, "l", v)
			expr = "SET l = " + e.v(":lv", v)
		default:
			m, l := g.mapValue(), g.listValue()
			op.noteEmpty(k, "m", m)
			op.noteEmpty(k, "l", l)
			expr = "SET m = " + e.v(":m", m) + ", l = " + e.v(":lv", l)
		}
		if g.p(0.5) {
			cond = "attribute_exists(pk)"
		}
		return expr, cond, nil
	case 9: // optimistic version bump
		e.v(":one", nv("1"))
		e.v(":zero", nv("0"))
		e.v(":v", nv(strconv.Itoa(g.r.Intn(4))))
		return "SET version = version + :one, n = if_not_exists(n, :zero) + :one", "version = :v", &needs{"version", "N"}
	case 10: // removes
		var removes []string
		switch g.r.Intn(3) {
		case 0:
			removes = []string{"txt", "amount"}
			expr = "REMOVE txt, amount"
		case 1:
			removes = []string{"gsi1pk"}
			expr = "REMOVE gsi1pk"
		default:
			removes = []string{"s_empty"}
			expr = "REMOVE s_empty SET n = " + e.v(":n", nv(pick(g, "1", "2.0")))
		}
		op.noteRemoves(k, removes)
		if g.p(0.3) {
			cond = "attribute_exists(pk)"
		}
		return expr, cond, nil
	case 11: // into (or within) a GSI
		i := 1 + g.r.Intn(3)
		e.v(":g", sv(pick(g, gsiPKs...)))
		e.v(":gs", sv(g.gsiSK(k)))
		return fmt.Sprintf("SET gsi%dpk = :g, gsi%dsk = :gs", i, i), "", nil
	case 12: // an empty string into a GSI key: ValidationException
		if !g.p(0.3) {
			return g.update(op, k, e, inTx)
		}
		op.emptyKey = true
		e.v(":e", sv(""))
		return "SET gsi2pk = :e", "", nil
	default: // a key attribute: ValidationException
		if !g.p(0.3) {
			return g.update(op, k, e, inTx)
		}
		e.v(":x", sv("zz"))
		return "SET sk = :x", "", nil
	}
}

func (g *gen) rvOnFailure() types.ReturnValuesOnConditionCheckFailure {
	if g.p(0.5) {
		return types.ReturnValuesOnConditionCheckFailureAllOld
	}
	return ""
}

func (g *gen) op() *diffOp {
	switch x := g.r.Intn(100); {
	case x < 18:
		return g.putItem()
	case x < 38:
		return g.updateItem()
	case x < 45:
		return g.deleteItem()
	case x < 57:
		return g.transact()
	case x < 77:
		return g.query()
	case x < 85:
		return g.getItem()
	case x < 90:
		return g.batchGet()
	case x < 97:
		return g.batchWrite()
	default:
		return g.invalid()
	}
}

func showKeys(keys ...itemKey) func(itemKey, map[string]any) bool {
	return func(k itemKey, _ map[string]any) bool { return slices.Contains(keys, k) }
}

func (g *gen) putItem() *diffOp {
	k := g.key()
	op := &diffOp{name: "PutItem", kind: "PutItem", keys: []itemKey{k}, show: showKeys(k)}
	e := newEx()
	in := &dynamodb.PutItemInput{TableName: aws.String(diffTable), Item: g.item(op, k, true)}
	in.ConditionExpression = optional(g.putCond(e))
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = e.Names(), e.Values()
	in.ReturnValuesOnConditionCheckFailure = g.rvOnFailure()
	op.oldOnFailure = in.ReturnValuesOnConditionCheckFailure != ""
	if g.p(0.15) {
		in.ReturnValues = types.ReturnValueAllOld
		op.returnOld = true
	}
	op.call = func(ctx context.Context, c *dynamodb.Client, cv *conv) (o outcome) {
		out, err := c.PutItem(ctx, in)
		if err != nil {
			o.setErr(err, cv)
			return o
		}
		o.Attrs = cv.item(out.Attributes)
		return o
	}
	return op
}

func (g *gen) updateItem() *diffOp {
	k := g.key()
	op := &diffOp{name: "UpdateItem", kind: "UpdateItem", keys: []itemKey{k}, show: showKeys(k), updates: true}
	e := newEx()
	expr, cond, _ := g.update(op, k, e, false)
	in := &dynamodb.UpdateItemInput{TableName: aws.String(diffTable), Key: k.av(), UpdateExpression: aws.String(expr),
		ConditionExpression: optional(cond), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()}
	switch g.r.Intn(4) {
	case 1, 2:
		in.ReturnValues = types.ReturnValueAllNew
		op.returnNew = true
	case 3:
		in.ReturnValues = types.ReturnValueAllOld
		op.returnOld = true
	}
	in.ReturnValuesOnConditionCheckFailure = g.rvOnFailure()
	op.oldOnFailure = in.ReturnValuesOnConditionCheckFailure != ""
	op.call = func(ctx context.Context, c *dynamodb.Client, cv *conv) (o outcome) {
		out, err := c.UpdateItem(ctx, in)
		if err != nil {
			o.setErr(err, cv)
			return o
		}
		o.Attrs = cv.item(out.Attributes)
		return o
	}
	return op
}

func (g *gen) deleteItem() *diffOp {
	k := g.key()
	op := &diffOp{name: "DeleteItem", kind: "DeleteItem", keys: []itemKey{k}, show: showKeys(k)}
	e := newEx()
	in := &dynamodb.DeleteItemInput{TableName: aws.String(diffTable), Key: k.av()}
	in.ConditionExpression = optional(g.deleteCond(e))
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = e.Names(), e.Values()
	in.ReturnValuesOnConditionCheckFailure = g.rvOnFailure()
	op.oldOnFailure = in.ReturnValuesOnConditionCheckFailure != ""
	if g.p(0.3) {
		in.ReturnValues = types.ReturnValueAllOld
		op.returnOld = true
	}
	op.call = func(ctx context.Context, c *dynamodb.Client, cv *conv) (o outcome) {
		out, err := c.DeleteItem(ctx, in)
		if err != nil {
			o.setErr(err, cv)
			return o
		}
		o.Attrs = cv.item(out.Attributes)
		return o
	}
	return op
}

func (g *gen) transact() *diffOp {
	n := 1 + g.r.Intn(4)
	keys := g.keys(n)
	if n > 1 && g.p(0.05) {
		keys[n-1] = keys[0] // two actions on one item: ValidationException
	}
	op := &diffOp{name: "TransactWriteItems", txKeys: keys, txNeeds: make([]*needs, n), txOld: make([]bool, n)}
	for _, k := range keys {
		if !slices.Contains(op.keys, k) {
			op.keys = append(op.keys, k)
		}
	}
	op.show = showKeys(op.keys...)
	table := aws.String(diffTable)
	var actions []types.TransactWriteItem
	for i, k := range keys {
		e := newEx()
		rv := g.rvOnFailure()
		op.txOld[i] = rv != ""
		switch x := g.r.Intn(100); {
		case x < 30:
			item := g.item(op, k, false)
			cond := g.putCond(e)
			actions = append(actions, types.TransactWriteItem{Put: &types.Put{TableName: table, Item: item,
				ConditionExpression: optional(cond), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
				ReturnValuesOnConditionCheckFailure: rv}})
		case x < 60:
			expr, cond, need := g.update(op, k, e, true)
			op.txNeeds[i] = need
			op.updates = true
			actions = append(actions, types.TransactWriteItem{Update: &types.Update{TableName: table, Key: k.av(),
				UpdateExpression: aws.String(expr), ConditionExpression: optional(cond),
				ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(), ReturnValuesOnConditionCheckFailure: rv}})
		case x < 75:
			cond := g.deleteCond(e)
			actions = append(actions, types.TransactWriteItem{Delete: &types.Delete{TableName: table, Key: k.av(),
				ConditionExpression: optional(cond), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
				ReturnValuesOnConditionCheckFailure: rv}})
		default:
			cond := g.checkCond(e)
			actions = append(actions, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: table, Key: k.av(),
				ConditionExpression: aws.String(cond), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
				ReturnValuesOnConditionCheckFailure: rv}})
		}
	}
	in := &dynamodb.TransactWriteItemsInput{TransactItems: actions}
	op.call = func(ctx context.Context, c *dynamodb.Client, cv *conv) (o outcome) {
		if _, err := c.TransactWriteItems(ctx, in); err != nil {
			o.setErr(err, cv)
		}
		return o
	}
	return op
}

func (g *gen) query() *diffOp {
	op := &diffOp{name: "Query", kind: "Query"}
	kc, fe := newEx(), newEx() // the key condition's names and values; the filter's and projection's
	in := &dynamodb.QueryInput{TableName: aws.String(diffTable)}
	var hashAttr, rangeAttr string
	var ranges, prefixes []string
	var hash string
	if src := g.r.Intn(5); src < 2 {
		hashAttr, rangeAttr = "pk", "sk"
		hash = pick(g, diffPKs...)
		ranges, prefixes = tableRange, tablePrefix
		if g.p(0.5) {
			in.ConsistentRead = aws.Bool(true)
		}
	} else {
		idx := src - 1
		in.IndexName = aws.String(fmt.Sprintf("gsi%d", idx))
		op.name = "Query gsi"
		op.gsi = true
		hashAttr, rangeAttr = fmt.Sprintf("gsi%dpk", idx), fmt.Sprintf("gsi%dsk", idx)
		hash = pick(g, gsiPKs...)
		ranges, prefixes = gsiRange, gsiPrefix
	}
	op.show = func(_ itemKey, it map[string]any) bool { return same(it[hashAttr], map[string]any{"S": hash}) }
	kc.v(":pk", sv(hash))
	hashRef, rangeRef := hashAttr, rangeAttr
	if g.p(0.6) {
		hashRef = kc.n("#pk", hashAttr)
	}
	useName := g.p(0.6)
	ref := func() string {
		if useName {
			return kc.n("#sk", rangeAttr)
		}
		return rangeRef
	}
	kce := hashRef + " = :pk"
	switch g.r.Intn(10) {
	case 0, 1:
	case 2:
		kce += " AND " + ref() + " < " + kc.v(":x", sv(pick(g, ranges...)))
	case 3:
		kce += " AND " + ref() + " <= " + kc.v(":x", sv(pick(g, ranges...)))
	case 4:
		kce += " AND " + ref() + " > " + kc.v(":x", sv(pick(g, ranges...)))
	case 5:
		kce += " AND " + ref() + " >= " + kc.v(":x", sv(pick(g, ranges...)))
	case 6:
		kce += " AND " + ref() + " = " + kc.v(":x", sv(pick(g, ranges...)))
	case 7, 8:
		a, b := pick(g, ranges...), pick(g, ranges...)
		if a > b && !g.p(0.1) {
			a, b = b, a // low > high is a ValidationException
		}
		op.badBetween = a > b
		kce += " AND " + ref() + " BETWEEN " + kc.v(":a", sv(a)) + " AND " + kc.v(":b", sv(b))
	default:
		kce += " AND begins_with(" + ref() + ", " + kc.v(":p", sv(pick(g, prefixes...))) + ")"
	}
	in.KeyConditionExpression = aws.String(kce)
	if g.p(0.45) {
		var f string
		has := func(v string) func(map[string]any) bool {
			return func(it map[string]any) bool { return containsValue(it["labels"], v) }
		}
		switch g.r.Intn(6) {
		case 0:
			l := pick(g, "inbox", "unread", "é")
			f = "contains(" + fe.n("#labels", "labels") + ", " + fe.v(":l0", sv(l)) + ")"
			op.filterFn = has(l)
		case 1:
			x := pick(g, "sent", "unread")
			f = "NOT contains(" + fe.n("#labels", "labels") + ", " + fe.v(":x0", sv(x)) + ")"
			op.filterFn = func(it map[string]any) bool { return !has(x)(it) }
		case 2:
			l, x := pick(g, "inbox", "é"), pick(g, "sent", "unread")
			f = "contains(#labels, :l0) AND NOT contains(#labels, :x0)"
			fe.n("#labels", "labels")
			fe.v(":l0", sv(l))
			fe.v(":x0", sv(x))
			op.filterFn = func(it map[string]any) bool { return has(l)(it) && !has(x)(it) }
		case 3:
			f = "attribute_not_exists(" + fe.n("#ttl", "ttl") + ") OR #ttl > " + fe.v(":now", nv(diffNow))
			op.filterFn = notExpired
		case 4:
			fe.n("#labels", "labels")
			fe.n("#ttl", "ttl")
			fe.v(":l0", sv("inbox"))
			fe.v(":now", nv(diffNow))
			f = "contains(#labels, :l0) AND (attribute_not_exists(#ttl) OR #ttl > :now)"
			op.filterFn = func(it map[string]any) bool { return has("inbox")(it) && notExpired(it) }
		default:
			sub := pick(g, "wörld", "\x00", "b")
			f = "contains(txt, " + fe.v(":sub", sv(sub)) + ")"
			op.filterFn = func(it map[string]any) bool { return containsValue(it["txt"], sub) }
		}
		in.FilterExpression = aws.String(f)
		op.filter = true
	}
	if g.p(0.2) {
		switch g.r.Intn(5) {
		case 0:
			op.projection = []string{"pk", "sk", "thread_id"}
			in.ProjectionExpression = aws.String("pk, sk, thread_id")
		case 1:
			op.projection = []string{"pk", "sk"}
			in.ProjectionExpression = aws.String("pk, sk")
		case 2:
			op.projection = []string{"pk", "sk", "labels"}
			in.ProjectionExpression = aws.String(fe.n("#p0", "pk") + ", " + fe.n("#p1", "sk") + ", labels")
		case 3:
			op.projection = []string{"pk", "sk", "m", "l", "version"}
			in.ProjectionExpression = aws.String("pk, sk, m, l, version")
		default:
			op.projection = []string{"pk", "sk", "gsi1pk", "gsi1sk", "amount"}
			in.ProjectionExpression = aws.String("pk, sk, gsi1pk, gsi1sk, amount")
		}
	}
	switch g.r.Intn(3) {
	case 1:
		in.ScanIndexForward = aws.Bool(true)
	case 2:
		in.ScanIndexForward = aws.Bool(false)
	}
	if g.p(0.6) {
		in.Limit = aws.Int32(int32(1 + g.r.Intn(5)))
		op.limit = *in.Limit
	}
	// The same query without filter and projection: what the filter oracle starts from.
	unf := *in
	unf.FilterExpression, unf.ProjectionExpression = nil, nil
	unf.ExpressionAttributeNames, unf.ExpressionAttributeValues = kc.Names(), kc.Values()
	for k, v := range kc.names {
		fe.names[k] = v
	}
	for k, v := range kc.values {
		fe.values[k] = v
	}
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = fe.Names(), fe.Values()
	op.call = queryCall(in)
	if op.filterFn != nil {
		op.unfiltered = queryCall(&unf)
	}
	return op
}

func queryCall(in *dynamodb.QueryInput) func(ctx context.Context, c *dynamodb.Client, cv *conv) outcome {
	return func(ctx context.Context, c *dynamodb.Client, cv *conv) (o outcome) {
		q := *in
		for range 100 {
			out, err := c.Query(ctx, &q)
			if err != nil {
				o.setErr(err, cv)
				return o
			}
			for _, it := range out.Items {
				o.Items = append(o.Items, cv.item(it))
			}
			o.Pages = append(o.Pages, page{Count: out.Count, Scanned: out.ScannedCount, LEK: cv.item(out.LastEvaluatedKey)})
			if len(out.LastEvaluatedKey) == 0 {
				return o
			}
			q.ExclusiveStartKey = out.LastEvaluatedKey
		}
		o.Err = "still paging after 100 pages"
		return o
	}
}

// strs are the strings of a comparable S, SS or L of S value.
func strs(v any) (list []string, substr string, isS bool) {
	m, _ := v.(map[string]any)
	if s, ok := m["S"].(string); ok {
		return nil, s, true
	}
	var raw []any
	switch l := m["SS"].(type) {
	case []string:
		return l, "", false
	case []any:
		raw = l
	}
	if l, ok := m["L"].([]any); ok {
		for _, e := range l {
			if s, ok := e.(map[string]any)["S"].(string); ok {
				list = append(list, s)
			}
		}
		return list, "", false
	}
	for _, e := range raw {
		if s, ok := e.(string); ok {
			list = append(list, s)
		}
	}
	return list, "", false
}

// containsValue is DynamoDB's contains(path, :s) for a string operand: a substring of an S,
// a member of an SS, an element of an L; false for a missing attribute.
func containsValue(v any, s string) bool {
	list, str, isS := strs(v)
	if isS {
		return strings.Contains(str, s)
	}
	return slices.Contains(list, s)
}

// notExpired is attribute_not_exists(#ttl) OR #ttl > :now.
func notExpired(it map[string]any) bool {
	v, ok := it["ttl"]
	if !ok {
		return true
	}
	n, ok := v.(map[string]any)["N"].(string)
	if !ok {
		return false
	}
	r, ok := new(big.Rat).SetString(n)
	now, _ := new(big.Rat).SetString(diffNow)
	return ok && r.Cmp(now) > 0
}

// filterOracle is what DynamoDB answers to a filtered query, from the same query's unfiltered
// pages: Limit counts the items read before the filter, so the pages and their
// LastEvaluatedKeys are the same; each keeps the items the filter accepts, projected.
func filterOracle(op *diffOp, unf outcome) outcome {
	if unf.Err != "" {
		return outcome{Err: unf.Err, msg: unf.msg}
	}
	var o outcome
	pos := 0
	for _, p := range unf.Pages {
		end := min(pos+int(p.Count), len(unf.Items))
		kept := int32(0)
		for _, it := range unf.Items[pos:end] {
			if op.filterFn(it) {
				o.Items = append(o.Items, project(op.projection, it))
				kept++
			}
		}
		pos = end
		o.Pages = append(o.Pages, page{Count: kept, Scanned: p.Count, LEK: p.LEK})
	}
	return cloneAny(o)
}

func project(attrs []string, it map[string]any) map[string]any {
	if attrs == nil {
		return it
	}
	out := map[string]any{}
	for _, a := range attrs {
		if v, ok := it[a]; ok {
			out[a] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (g *gen) getItem() *diffOp {
	k := g.key()
	op := &diffOp{name: "GetItem", show: showKeys(k)}
	in := &dynamodb.GetItemInput{TableName: aws.String(diffTable), Key: k.av()}
	if g.p(0.7) {
		in.ConsistentRead = aws.Bool(true)
	}
	if g.p(0.2) {
		in.ProjectionExpression = aws.String("#p0, sk, version, m, labels")
		in.ExpressionAttributeNames = map[string]string{"#p0": "pk"}
	}
	op.call = func(ctx context.Context, c *dynamodb.Client, cv *conv) (o outcome) {
		out, err := c.GetItem(ctx, in)
		if err != nil {
			o.setErr(err, cv)
			return o
		}
		o.Item = cv.item(out.Item)
		return o
	}
	return op
}

func sortItems(items []map[string]any) {
	sort.SliceStable(items, func(i, j int) bool {
		a, _ := keyIn(items[i])
		b, _ := keyIn(items[j])
		if a.pk != b.pk {
			return a.pk < b.pk
		}
		return a.sk < b.sk
	})
}

func (g *gen) batchGet() *diffOp {
	keys := g.keys(1 + g.r.Intn(8))
	op := &diffOp{name: "BatchGetItem", show: showKeys(keys...)}
	if g.p(0.03) {
		keys = append(keys, keys[0]) // duplicate keys: ValidationException
		op.dupKeys = true
	}
	ka := types.KeysAndAttributes{}
	for _, k := range keys {
		ka.Keys = append(ka.Keys, k.av())
	}
	if g.p(0.7) {
		ka.ConsistentRead = aws.Bool(true)
	}
	if g.p(0.15) {
		ka.ProjectionExpression = aws.String("pk, sk, version")
	}
	in := &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{diffTable: ka}}
	op.call = func(ctx context.Context, c *dynamodb.Client, cv *conv) (o outcome) {
		out, err := c.BatchGetItem(ctx, in)
		if err != nil {
			o.setErr(err, cv)
			return o
		}
		for _, it := range out.Responses[diffTable] {
			o.Items = append(o.Items, cv.item(it))
		}
		sortItems(o.Items)
		o.Left = len(out.UnprocessedKeys[diffTable].Keys)
		return o
	}
	return op
}

func (g *gen) batchWrite() *diffOp {
	keys := g.keys(1 + g.r.Intn(6))
	op := &diffOp{name: "BatchWriteItem", kind: "BatchWriteItem", keys: slices.Clone(keys), show: showKeys(keys...)}
	if len(keys) > 1 && g.p(0.03) {
		keys[len(keys)-1] = keys[0] // duplicate keys: ValidationException
		op.dupKeys = true
	}
	var reqs []types.WriteRequest
	for _, k := range keys {
		if g.p(0.7) {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: g.item(op, k, true)}})
		} else {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k.av()}})
		}
	}
	in := &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{diffTable: reqs}}
	op.call = func(ctx context.Context, c *dynamodb.Client, cv *conv) (o outcome) {
		out, err := c.BatchWriteItem(ctx, in)
		if err != nil {
			o.setErr(err, cv)
			return o
		}
		o.Left = len(out.UnprocessedItems[diffTable])
		return o
	}
	return op
}

// invalid is a request DynamoDB refuses.
func (g *gen) invalid() *diffOp {
	k := g.key()
	op := &diffOp{name: "invalid", show: showKeys(k)}
	table := aws.String(diffTable)
	var call func(ctx context.Context, c *dynamodb.Client) error
	switch g.r.Intn(11) {
	case 0:
		op.name = "GetItem with an empty sort key"
		op.kind, op.emptyKey = "GetItem", true
		call = func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: keyOf(k.pk, "")})
			return err
		}
	case 1:
		op.name = "GetItem without the sort key"
		call = func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: avmap{"pk": sv(k.pk)}})
			return err
		}
	case 2:
		op.name = "GetItem with an extra key attribute"
		call = func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: avmap{"pk": sv(k.pk), "sk": sv(k.sk), "x": sv("x")}})
			return err
		}
	case 3:
		op.name = "PutItem with a number sort key"
		call = func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: avmap{"pk": sv(k.pk), "sk": nv("1")}})
			return err
		}
	case 4:
		op.name = "PutItem with an unused expression value"
		op.keys = []itemKey{k}
		call = func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: k.av(),
				ConditionExpression: aws.String("attribute_not_exists(pk)"), ExpressionAttributeValues: avmap{":unused": sv("x")}})
			return err
		}
	case 5:
		op.name = "PutItem with an empty sort key"
		op.kind = "PutItem"
		op.emptyKey = true
		op.stray = []itemKey{{k.pk, ""}}
		call = func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: avmap{"pk": sv(k.pk), "sk": sv(""), "x": sv("x")}})
			return err
		}
	case 6:
		op.name = "UpdateItem of the sort key"
		op.keys = []itemKey{k}
		call = func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: table, Key: k.av(),
				UpdateExpression: aws.String("SET sk = :x"), ExpressionAttributeValues: avmap{":x": sv("zz")}})
			return err
		}
	case 7:
		op.name = "consistent Query of a GSI"
		op.consistentGSI = true
		op.gsi = true
		call = func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.Query(ctx, &dynamodb.QueryInput{TableName: table, IndexName: aws.String("gsi1"), ConsistentRead: aws.Bool(true),
				KeyConditionExpression: aws.String("gsi1pk = :p"), ExpressionAttributeValues: avmap{":p": sv("g#a")}})
			return err
		}
	case 8:
		op.name = "PutItem over 400 KB"
		op.keys = []itemKey{k}
		op.oversize = true
		call = func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: avmap{"pk": sv(k.pk), "sk": sv(k.sk),
				"big": sv(strings.Repeat("x", 400*1024))}})
			return err
		}
	case 9:
		op.name = "GetItem of a table that does not exist"
		call = func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("nope"), Key: k.av()})
			return err
		}
	default:
		op.name = "UpdateItem with an unused attribute name"
		op.keys = []itemKey{k}
		call = func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: table, Key: k.av(),
				UpdateExpression: aws.String("SET x = :x"), ExpressionAttributeNames: map[string]string{"#unused": "y"},
				ExpressionAttributeValues: avmap{":x": sv("x")}})
			return err
		}
	}
	op.call = func(ctx context.Context, c *dynamodb.Client, cv *conv) (o outcome) {
		if err := call(ctx, c); err != nil {
			o.setErr(err, cv)
		}
		return o
	}
	return op
}

// scanOp compares whole tables.
func scanOp() *diffOp {
	return &diffOp{name: "Scan (whole table)", scan: true, show: func(itemKey, map[string]any) bool { return false },
		call: func(ctx context.Context, c *dynamodb.Client, cv *conv) (o outcome) {
			in := &dynamodb.ScanInput{TableName: aws.String(diffTable), ConsistentRead: aws.Bool(true)}
			for {
				out, err := c.Scan(ctx, in)
				if err != nil {
					o.setErr(err, cv)
					return o
				}
				for _, it := range out.Items {
					o.Items = append(o.Items, cv.item(it))
				}
				if len(out.LastEvaluatedKey) == 0 {
					sortItems(o.Items)
					return o
				}
				in.ExclusiveStartKey = out.LastEvaluatedKey
			}
		}}
}

// ---- the fixes of minidyn's known bugs ----

// fixCtx is what a fix sees: the operation, the engine's items before it, the engine's answer
// and minidyn's (which the fix changes).
type fixCtx struct {
	op *diffOp
	// miniUnfiltered is minidyn's answer to the query without filter and projection.
	miniUnfiltered *outcome
	pre            map[itemKey]map[string]any
	eng            *outcome
	mini           *outcome
}

func fixRemoveIgnored(c *fixCtx) bool {
	if c.mini.Err != "" || len(c.op.removes) == 0 {
		return false
	}
	changed := false
	drop := func(it map[string]any, attrs []string) {
		for _, a := range attrs {
			if _, ok := it[a]; ok {
				delete(it, a)
				changed = true
			}
		}
	}
	for j, k := range c.op.keys {
		if j < len(c.mini.After) && c.mini.After[j] != nil {
			drop(c.mini.After[j], c.op.removes[k])
		}
	}
	if c.op.returnNew && c.mini.Attrs != nil && len(c.op.keys) == 1 {
		drop(c.mini.Attrs, c.op.removes[c.op.keys[0]])
	}
	return changed
}

// fixEmptyCollections takes the engine's value of m and l (the only attributes the generator
// puts empty maps and lists in) where it holds an empty map or list and is what the item held
// before the operation or what the operation wrote: minidyn cannot hold those values (and the
// harness keeps them out of minidyn's copy of the table).
func fixEmptyCollections(c *fixCtx) bool {
	changed := false
	fix := func(mini, eng map[string]any, k itemKey) {
		if mini == nil || eng == nil {
			return
		}
		for _, a := range []string{"m", "l"} {
			ev, ok := eng[a]
			if !ok || !containsEmpty(ev) {
				continue
			}
			if !same(ev, c.pre[k][a]) && !same(ev, c.op.emptyIn[k][a]) {
				continue
			}
			if !same(mini[a], ev) {
				mini[a] = ev
				changed = true
			}
		}
	}
	byKey := func(mini, eng map[string]any) {
		if k, ok := keyIn(eng); ok {
			if mk, ok := keyIn(mini); ok && mk == k {
				fix(mini, eng, k)
			}
		}
	}
	byKey(c.mini.Item, c.eng.Item)
	byKey(c.mini.Attrs, c.eng.Attrs)
	for i := range c.mini.Reasons {
		if i < len(c.eng.Reasons) && i < len(c.op.txKeys) {
			fix(c.mini.Reasons[i].Item, c.eng.Reasons[i].Item, c.op.txKeys[i])
		}
	}
	for i := range c.mini.Items {
		if i < len(c.eng.Items) {
			byKey(c.mini.Items[i], c.eng.Items[i])
		}
	}
	for j, k := range c.op.keys {
		if j < len(c.mini.After) && j < len(c.eng.After) {
			fix(c.mini.After[j], c.eng.After[j], k)
		}
	}
	return changed
}

// fixEmptyKeyAccepted: DynamoDB refuses the write, so nothing changes.
func fixEmptyKeyAccepted(c *fixCtx) bool {
	// A put's item is checked before its condition; an update's result after its condition.
	if !c.op.emptyKey || c.mini.Err == "ValidationException" || (c.mini.Err != "" && c.op.kind == "UpdateItem") {
		return false
	}
	c.refused()
	return true
}

// fixTxValidationNotCancelled: where an update of the transaction reads an attribute the item
// lacks (or holds with another type) and the engine says ValidationError for it, DynamoDB
// cancels the transaction; minidyn cannot say which reasons the other actions have, so those
// are the engine's.
func fixTxValidationNotCancelled(c *fixCtx) bool {
	if len(c.op.txNeeds) == 0 || c.mini.Err != "ValidationException" || c.eng.Err != "TransactionCanceledException" ||
		len(c.eng.Reasons) != len(c.op.txNeeds) {
		return false
	}
	found := false
	for i, n := range c.op.txNeeds {
		if n == nil || c.eng.Reasons[i].Code != "ValidationError" {
			continue
		}
		v, ok := c.pre[c.op.txKeys[i]][n.attr].(map[string]any)
		if _, typed := v[n.kind]; !ok || !typed {
			found = true
		}
	}
	if !found {
		return false
	}
	c.mini.Err = c.eng.Err
	c.mini.Reasons = slices.Clone(c.eng.Reasons)
	return true
}

// fixTxFirstFailureOnly: minidyn evaluated the actions up to the first failing one; the
// reasons of the actions after it are unknown to it, so they are the engine's.
func fixTxFirstFailureOnly(c *fixCtx) bool {
	if c.mini.Err != "TransactionCanceledException" || c.eng.Err != c.mini.Err || len(c.mini.Reasons) != len(c.eng.Reasons) {
		return false
	}
	first := slices.IndexFunc(c.mini.Reasons, func(r reason) bool { return r.Code != "None" })
	if first < 0 {
		return false
	}
	changed := false
	for j := first + 1; j < len(c.mini.Reasons); j++ {
		if c.mini.Reasons[j].Code == "None" && !same(c.mini.Reasons[j], c.eng.Reasons[j]) {
			c.mini.Reasons[j] = c.eng.Reasons[j]
			changed = true
		}
	}
	return changed
}

// cloneAny is a deep copy of a comparable value (fixes must not change the state they read).
func cloneAny[T any](v T) T {
	var out T
	if err := json.Unmarshal([]byte(js(v)), &out); err != nil {
		panic(err)
	}
	return out
}

func (c *fixCtx) preOf(keys []itemKey) []map[string]any {
	out := make([]map[string]any, len(keys))
	for j, k := range keys {
		if c.pre[k] != nil {
			out[j] = cloneAny(c.pre[k])
		}
	}
	return out
}

// refused is DynamoDB's answer to a request it refuses: ValidationException, nothing written.
func (c *fixCtx) refused() {
	*c.mini = outcome{Err: "ValidationException", After: c.preOf(c.op.keys), msg: "(fixed) " + c.mini.msg}
}

func fixPutReturnValues(c *fixCtx) bool {
	if c.op.kind != "PutItem" || c.mini.Err != "" {
		return false
	}
	var want map[string]any
	if c.op.returnOld {
		want = c.preOf(c.op.keys)[0]
	}
	if same(c.mini.Attrs, want) {
		return false
	}
	c.mini.Attrs = want
	return true
}

func fixOldOnFailure(c *fixCtx) bool {
	changed := false
	if (c.op.kind == "PutItem" || c.op.kind == "DeleteItem") && c.op.oldOnFailure &&
		c.mini.Err == "ConditionalCheckFailedException" && c.mini.Item == nil {
		if old := c.preOf(c.op.keys)[0]; old != nil {
			c.mini.Item, changed = old, true
		}
	}
	for i, r := range c.mini.Reasons {
		if i < len(c.op.txOld) && c.op.txOld[i] && r.Code == "ConditionalCheckFailed" && r.Item == nil {
			if old := c.preOf(c.op.txKeys[i : i+1])[0]; old != nil {
				c.mini.Reasons[i].Item, changed = old, true
			}
		}
	}
	return changed
}

func fixUpdateAllOldOfNewItem(c *fixCtx) bool {
	if c.op.kind != "UpdateItem" || !c.op.returnOld || c.mini.Err != "" || c.mini.Attrs == nil {
		return false
	}
	k := c.op.keys[0]
	if c.pre[k] != nil || !same(c.mini.Attrs, (&conv{}).item(k.av())) {
		return false
	}
	c.mini.Attrs = nil
	return true
}

// fixScannedCount: without a filter, ScannedCount is Count (with one, filterOracle gives it).
func fixScannedCount(c *fixCtx) bool {
	if c.op.kind != "Query" || c.op.filter {
		return false
	}
	changed := false
	for i, p := range c.mini.Pages {
		if p.Scanned != p.Count {
			c.mini.Pages[i].Scanned = p.Count
			changed = true
		}
	}
	return changed
}

func fixFilterOracle(c *fixCtx) bool {
	if c.op.filterFn == nil || c.miniUnfiltered == nil {
		return false
	}
	want := filterOracle(c.op, *c.miniUnfiltered)
	if same(*c.mini, want) {
		return false
	}
	want.msg = "(filter oracle) " + c.mini.msg
	*c.mini = want
	return true
}

func fixDupKeys(c *fixCtx) bool {
	if !c.op.dupKeys || c.mini.Err != "" {
		return false
	}
	c.refused()
	return true
}

func fixBadBetween(c *fixCtx) bool {
	if !c.op.badBetween || c.mini.Err != "" {
		return false
	}
	c.refused()
	return true
}

// fixFloatRounding gives back, in the items an update answered or left, the numbers of the
// item before it that minidyn rounded through float64.
func fixFloatRounding(c *fixCtx) bool {
	changed := false
	var undo func(mini, pre any) any
	undo = func(mini, pre any) any {
		mm, ok1 := mini.(map[string]any)
		pm, ok2 := pre.(map[string]any)
		if !ok1 || !ok2 {
			return mini
		}
		if mn, ok := mm["N"].(string); ok {
			if pn, ok := pm["N"].(string); ok && mn != pn && roundsTo(pn, mn) {
				changed = true
				return map[string]any{"N": pn}
			}
			return mini
		}
		if ml, ok := mm["L"].([]any); ok {
			if pl, ok := pm["L"].([]any); ok && len(pl) == len(ml) {
				for i := range ml {
					ml[i] = undo(ml[i], pl[i])
				}
			}
			return mini
		}
		if mf, ok := mm["M"].(map[string]any); ok {
			if pf, ok := pm["M"].(map[string]any); ok {
				for k := range mf {
					mf[k] = undo(mf[k], pf[k])
				}
			}
		}
		return mini
	}
	fixItem := func(it map[string]any, k itemKey) {
		if it == nil || c.pre[k] == nil {
			return
		}
		pre := cloneAny(c.pre[k])
		for a := range it {
			it[a] = undo(it[a], pre[a])
		}
	}
	for j, k := range c.op.keys {
		if c.op.updates && j < len(c.mini.After) {
			fixItem(c.mini.After[j], k)
		}
	}
	if c.op.updates && len(c.op.keys) == 1 {
		fixItem(c.mini.Attrs, c.op.keys[0])
	}
	// Projections round too.
	for _, it := range append([]map[string]any{c.mini.Item}, c.mini.Items...) {
		if k, ok := keyIn(it); ok {
			fixItem(it, k)
		}
	}
	return changed
}

// roundsTo says whether exact, read as a float64, prints as rounded.
func roundsTo(exact, rounded string) bool {
	f, err := strconv.ParseFloat(exact, 64)
	if err != nil {
		return false
	}
	r, ok := new(big.Rat).SetString(rounded)
	if !ok {
		return false
	}
	g, _ := r.Float64()
	return f == g
}

func fixOversize(c *fixCtx) bool {
	if !c.op.oversize || c.mini.Err != "" {
		return false
	}
	c.refused()
	return true
}

func fixConsistentGSI(c *fixCtx) bool {
	if !c.op.consistentGSI || c.mini.Err != "" {
		return false
	}
	c.refused()
	return true
}

// checkQueryCounts checks the engine's Count and ScannedCount on their own.
func checkQueryCounts(op *diffOp, o outcome) error {
	if op.kind != "Query" || o.Err != "" {
		return nil
	}
	for i, p := range o.Pages {
		switch {
		case p.Count > p.Scanned:
			return fmt.Errorf("page %d: Count %d > ScannedCount %d", i, p.Count, p.Scanned)
		case op.limit > 0 && p.Scanned > op.limit:
			return fmt.Errorf("page %d: ScannedCount %d > Limit %d", i, p.Scanned, op.limit)
		case !op.filter && p.Count != p.Scanned:
			return fmt.Errorf("page %d without a filter: Count %d, ScannedCount %d", i, p.Count, p.Scanned)
		case op.limit > 0 && p.LEK != nil && p.Scanned != op.limit:
			return fmt.Errorf("page %d stopped (LastEvaluatedKey) after %d items, Limit %d", i, p.Scanned, op.limit)
		}
	}
	return nil
}

// fixMinidyn applies every fix in the order of the table and names those that changed
// something.
func fixMinidyn(c *fixCtx) []string {
	var applied []string
	for _, b := range knownMinidynBugs {
		if b.fix != nil && b.fix(c) {
			applied = append(applied, b.name)
		}
	}
	return applied
}

// ---- the checks behind the known bugs (TestKnownMinidynBugs) ----

func checkRemove(ctx context.Context, c *dynamodb.Client, table string) error {
	item := avmap{"pk": sv("p"), "sk": sv("s"), "labels": lv(sv("inbox")), "txt": sv("x"), "keep": sv("k"),
		"gsi1pk": sv("g"), "gsi1sk": sv("1")}
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		return err
	}
	out, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: keyOf("p", "s"),
		UpdateExpression:          aws.String("REMOVE #labels, txt, gsi1pk SET #upd = :now"),
		ExpressionAttributeNames:  map[string]string{"#labels": "labels", "#upd": "updated_at"},
		ExpressionAttributeValues: avmap{":now": sv("T")}, ReturnValues: types.ReturnValueAllNew})
	if err != nil {
		return err
	}
	want := `{"gsi1sk":{"S":"1"},"keep":{"S":"k"},"pk":{"S":"p"},"sk":{"S":"s"},"updated_at":{"S":"T"}}`
	if got := render(out.Attributes); got != want {
		return fmt.Errorf("ALL_NEW after REMOVE: %s, want %s", got, want)
	}
	got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: keyOf("p", "s"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return err
	}
	if render(got.Item) != want {
		return fmt.Errorf("item after REMOVE: %s, want %s", render(got.Item), want)
	}
	q, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), IndexName: aws.String("gsi1"),
		KeyConditionExpression: aws.String("gsi1pk = :g"), ExpressionAttributeValues: avmap{":g": sv("g")}})
	if err != nil {
		return err
	}
	if len(q.Items) != 0 {
		return fmt.Errorf("item still in gsi1 after REMOVE gsi1pk: %s", render(q.Items))
	}
	return nil
}

func checkEmptyCollections(ctx context.Context, c *dynamodb.Client, table string) error {
	item := avmap{"pk": sv("p"), "sk": sv("s"), "m": mv(nil), "l": lv(), "conns": ssv("c1"),
		"nested": mv(avmap{"inner": mv(nil), "list": lv(), "deep": lv(lv(), mv(nil))})}
	want := render(item)
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		return err
	}
	get := func() (string, error) {
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: keyOf("p", "s"), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return "", err
		}
		return render(out.Item), nil
	}
	if got, err := get(); err != nil || got != want {
		return fmt.Errorf("item with empty maps and lists: %s (%v), want %s", got, err, want)
	}
	q, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: avmap{":p": sv("p")}})
	if err != nil || len(q.Items) != 1 || render(q.Items[0]) != want {
		return fmt.Errorf("queried item with empty maps and lists: %s (%v), want [%s]", render(q.Items), err, want)
	}
	_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{
		ConditionCheck: &types.ConditionCheck{TableName: aws.String(table), Key: keyOf("p", "s"),
			ConditionExpression: aws.String("attribute_not_exists(pk)"), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}}}})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || len(tce.CancellationReasons) != 1 || render(tce.CancellationReasons[0].Item) != want {
		return fmt.Errorf("ALL_OLD item of a failed check: %v, want %s", err, want)
	}
	out, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: keyOf("p", "s"),
		UpdateExpression: aws.String("SET m2 = :m, l2 = :l"), ExpressionAttributeValues: avmap{":m": mv(nil), ":l": lv()},
		ReturnValues: types.ReturnValueUpdatedNew})
	if err != nil {
		return err
	}
	if got, want := render(out.Attributes), `{"l2":{"L":[]},"m2":{"M":{}}}`; got != want {
		return fmt.Errorf("UPDATED_NEW of SET m2 = {}, l2 = []: %s, want %s", got, want)
	}
	return nil
}

func checkCanonicalNumbers(ctx context.Context, c *dynamodb.Client, table string) error {
	item := avmap{"pk": sv("p"), "sk": sv("s"), "a": nv("1.50"), "b": nv("007"), "c": nv("1e3"), "d": nv("-0"), "e": nv("0.0"),
		"f": nv("-12.340"), "g": nv("1E-2"), "ns": nsv("1.0", "2.50"), "m": mv(avmap{"x": nv("010")}), "l": lv(nv("3.00"))}
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		return err
	}
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: keyOf("p", "s"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return err
	}
	got := out.Item
	if ns, ok := got["ns"].(*types.AttributeValueMemberNS); ok {
		slices.Sort(ns.Value)
	}
	want := `{"a":{"N":"1.5"},"b":{"N":"7"},"c":{"N":"1000"},"d":{"N":"0"},"e":{"N":"0"},"f":{"N":"-12.34"},"g":{"N":"0.01"},` +
		`"l":{"L":[{"N":"3"}]},"m":{"M":{"x":{"N":"10"}}},"ns":{"NS":["1","2.5"]},"pk":{"S":"p"},"sk":{"S":"s"}}`
	if render(got) != want {
		return fmt.Errorf("numbers read back as %s, want %s", render(got), want)
	}
	return nil
}

func checkEmptyKeys(ctx context.Context, c *dynamodb.Client, table string) error {
	tbl := aws.String(table)
	var problems []string
	expect := func(what string, err error) {
		if errCode(err) != "ValidationException" {
			problems = append(problems, fmt.Sprintf("%s: %v, want ValidationException", what, err))
		}
	}
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: avmap{"pk": sv("p"), "sk": sv("")}})
	expect("PutItem with an empty sort key", err)
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: avmap{"pk": sv("p"), "sk": sv("s"), "gsi1pk": sv(""), "gsi1sk": sv("x")}})
	expect("PutItem with an empty GSI partition key", err)
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: keyOf("p", "u"),
		UpdateExpression: aws.String("SET gsi2sk = :e"), ExpressionAttributeValues: avmap{":e": sv("")}})
	expect("UpdateItem setting an empty GSI sort key", err)
	_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: {
		{PutRequest: &types.PutRequest{Item: avmap{"pk": sv("p"), "sk": sv("ok")}}},
		{PutRequest: &types.PutRequest{Item: avmap{"pk": sv("p"), "sk": sv("bad"), "gsi3pk": sv("")}}},
	}}})
	expect("BatchWriteItem with an empty GSI key", err)
	scan, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: tbl})
	if err != nil {
		return err
	}
	if len(scan.Items) != 0 {
		problems = append(problems, "refused writes left items: "+render(scan.Items))
	}
	if problems != nil {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func checkTxValidationError(ctx context.Context, c *dynamodb.Client, table string) error {
	tbl := aws.String(table)
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: avmap{"pk": sv("p"), "sk": sv("s"), "labels": ssv("x")}}); err != nil {
		return err
	}
	_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: tbl, Item: avmap{"pk": sv("p"), "sk": sv("new")}}},
		{Update: &types.Update{TableName: tbl, Key: keyOf("p", "s"), UpdateExpression: aws.String("SET version = version + :one"),
			ExpressionAttributeValues: avmap{":one": nv("1")}}},
	}})
	if got := reasonCodes(err); !slices.Equal(got, []string{"None", "ValidationError"}) {
		return fmt.Errorf("arithmetic on a missing attribute in a transaction: %v (reasons %v), want TransactionCanceledException [None ValidationError]", err, got)
	}
	_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: tbl, Key: keyOf("p", "s"), UpdateExpression: aws.String("SET labels = list_append(labels, :l)"),
			ExpressionAttributeValues: avmap{":l": lv(sv("y"))}}},
		{Put: &types.Put{TableName: tbl, Item: avmap{"pk": sv("p"), "sk": sv("new")}}},
	}})
	if got := reasonCodes(err); !slices.Equal(got, []string{"ValidationError", "None"}) {
		return fmt.Errorf("list_append to a string set in a transaction: %v (reasons %v), want TransactionCanceledException [ValidationError None]", err, got)
	}
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: tbl, Key: keyOf("p", "new"), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item != nil {
		return fmt.Errorf("a cancelled transaction wrote its put (%v)", err)
	}
	return nil
}

func checkTxAllReasons(ctx context.Context, c *dynamodb.Client, table string) error {
	tbl := aws.String(table)
	for _, sk := range []string{"a", "b", "c"} {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: avmap{"pk": sv("p"), "sk": sv(sk), "version": nv("1")}}); err != nil {
			return err
		}
	}
	allOld := types.ReturnValuesOnConditionCheckFailureAllOld
	_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: tbl, Item: avmap{"pk": sv("p"), "sk": sv("a")}, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{ConditionCheck: &types.ConditionCheck{TableName: tbl, Key: keyOf("p", "b"), ConditionExpression: aws.String("version = :v"),
			ExpressionAttributeValues: avmap{":v": nv("1")}}},
		{Delete: &types.Delete{TableName: tbl, Key: keyOf("p", "c"), ConditionExpression: aws.String("version = :v"),
			ExpressionAttributeValues: avmap{":v": nv("2")}, ReturnValuesOnConditionCheckFailure: allOld}},
		{Update: &types.Update{TableName: tbl, Key: keyOf("p", "d"), UpdateExpression: aws.String("SET x = :x"),
			ConditionExpression: aws.String("attribute_exists(pk)"), ExpressionAttributeValues: avmap{":x": sv("x")}}},
	}})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return fmt.Errorf("transaction with three failing conditions: %v, want TransactionCanceledException", err)
	}
	if got, want := reasonCodes(err), []string{"ConditionalCheckFailed", "None", "ConditionalCheckFailed", "ConditionalCheckFailed"}; !slices.Equal(got, want) {
		return fmt.Errorf("cancellation reasons %v, want %v", got, want)
	}
	if got, want := render(tce.CancellationReasons[2].Item), `{"pk":{"S":"p"},"sk":{"S":"c"},"version":{"N":"1"}}`; got != want {
		return fmt.Errorf("ALL_OLD item of the third action: %s, want %s", got, want)
	}
	return nil
}

func checkPutReturnValues(ctx context.Context, c *dynamodb.Client, table string) error {
	tbl := aws.String(table)
	first := avmap{"pk": sv("p"), "sk": sv("s"), "v": nv("1")}
	out, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: first, ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		return err
	}
	if out.Attributes != nil {
		return fmt.Errorf("ALL_OLD of a put that created the item: %s, want none", render(out.Attributes))
	}
	out, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: avmap{"pk": sv("p"), "sk": sv("s"), "v": nv("2")}})
	if err != nil {
		return err
	}
	if out.Attributes != nil {
		return fmt.Errorf("put without ReturnValues returned %s, want nothing", render(out.Attributes))
	}
	out, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: avmap{"pk": sv("p"), "sk": sv("s"), "v": nv("3")}, ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		return err
	}
	if got, want := render(out.Attributes), `{"pk":{"S":"p"},"sk":{"S":"s"},"v":{"N":"2"}}`; got != want {
		return fmt.Errorf("ALL_OLD of a put that replaced an item: %s, want %s", got, want)
	}
	return nil
}

func checkOldOnFailure(ctx context.Context, c *dynamodb.Client, table string) error {
	tbl := aws.String(table)
	item := avmap{"pk": sv("p"), "sk": sv("s"), "v": nv("1")}
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item}); err != nil {
		return err
	}
	allOld := types.ReturnValuesOnConditionCheckFailureAllOld
	want := render(item)
	var problems []string
	expect := func(what string, err error) {
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) || render(ccf.Item) != want {
			problems = append(problems, fmt.Sprintf("%s: %v, want ConditionalCheckFailedException with %s", what, err, want))
		}
	}
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: allOld})
	expect("PutItem", err)
	_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tbl, Key: keyOf("p", "s"), ConditionExpression: aws.String("v = :v"),
		ExpressionAttributeValues: avmap{":v": nv("2")}, ReturnValuesOnConditionCheckFailure: allOld})
	expect("DeleteItem", err)
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: keyOf("p", "s"), UpdateExpression: aws.String("SET v = :v"),
		ConditionExpression: aws.String("attribute_not_exists(pk)"), ExpressionAttributeValues: avmap{":v": nv("2")}, ReturnValuesOnConditionCheckFailure: allOld})
	expect("UpdateItem", err)
	_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: tbl, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"), ReturnValuesOnConditionCheckFailure: allOld}}}})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || len(tce.CancellationReasons) != 1 || render(tce.CancellationReasons[0].Item) != want {
		problems = append(problems, fmt.Sprintf("transaction Put: %v, want a cancellation with %s", err, want))
	}
	if problems != nil {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func checkUpdateAllOld(ctx context.Context, c *dynamodb.Client, table string) error {
	tbl := aws.String(table)
	in := &dynamodb.UpdateItemInput{TableName: tbl, Key: keyOf("p", "s"), UpdateExpression: aws.String("ADD n :one"),
		ExpressionAttributeValues: avmap{":one": nv("1")}, ReturnValues: types.ReturnValueAllOld}
	out, err := c.UpdateItem(ctx, in)
	if err != nil {
		return err
	}
	if out.Attributes != nil {
		return fmt.Errorf("ALL_OLD of an update that created the item: %s, want none", render(out.Attributes))
	}
	if out, err = c.UpdateItem(ctx, in); err != nil {
		return err
	}
	if got, want := render(out.Attributes), `{"n":{"N":"1"},"pk":{"S":"p"},"sk":{"S":"s"}}`; got != want {
		return fmt.Errorf("ALL_OLD of an update of an item: %s, want %s", got, want)
	}
	return nil
}

func checkScannedCount(ctx context.Context, c *dynamodb.Client, table string) error {
	tbl := aws.String(table)
	for i, l := range []string{"inbox", "sent", "sent"} {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: avmap{"pk": sv("p"), "sk": sv(strconv.Itoa(i)), "labels": lv(sv(l))}}); err != nil {
			return err
		}
	}
	in := &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String("pk = :p"), FilterExpression: aws.String("contains(labels, :l)"),
		ExpressionAttributeValues: avmap{":p": sv("p"), ":l": sv("inbox")}}
	out, err := c.Query(ctx, in)
	if err != nil {
		return err
	}
	if out.Count != 1 || out.ScannedCount != 3 {
		return fmt.Errorf("query of 3 items, 1 kept by the filter: Count %d ScannedCount %d, want 1 and 3", out.Count, out.ScannedCount)
	}
	in.Limit = aws.Int32(2)
	if out, err = c.Query(ctx, in); err != nil {
		return err
	}
	if out.Count != 1 || out.ScannedCount != 2 || out.LastEvaluatedKey == nil {
		return fmt.Errorf("same query with Limit 2: Count %d ScannedCount %d LastEvaluatedKey %s, want 1, 2 and one", out.Count, out.ScannedCount, render(out.LastEvaluatedKey))
	}
	return nil
}

func checkItemSize(ctx context.Context, c *dynamodb.Client, table string) error {
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: avmap{"pk": sv("p"), "sk": sv("s"),
		"big": sv(strings.Repeat("x", 400*1024))}})
	if errCode(err) != "ValidationException" {
		return fmt.Errorf("put of an item over 400 KB: %v, want ValidationException", err)
	}
	return nil
}

func checkConsistentGSI(ctx context.Context, c *dynamodb.Client, table string) error {
	_, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), IndexName: aws.String("gsi1"), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("gsi1pk = :g"), ExpressionAttributeValues: avmap{":g": sv("g")}})
	if errCode(err) != "ValidationException" {
		return fmt.Errorf("consistent query of a GSI: %v, want ValidationException", err)
	}
	return nil
}

func checkFilter(ctx context.Context, c *dynamodb.Client, table string) error {
	tbl := aws.String(table)
	for _, it := range []avmap{
		{"pk": sv("a"), "sk": sv("1")}, {"pk": sv("a"), "sk": sv("2")},
		{"pk": sv("p"), "sk": sv("1"), "labels": lv(sv("inbox"))}, {"pk": sv("p"), "sk": sv("2")}, {"pk": sv("p"), "sk": sv("3"), "labels": lv(sv("sent"))},
	} {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: it}); err != nil {
			return err
		}
	}
	in := &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String("pk = :p"), FilterExpression: aws.String("NOT contains(#labels, :l)"),
		ExpressionAttributeNames: map[string]string{"#labels": "labels"}, ExpressionAttributeValues: avmap{":p": sv("p"), ":l": sv("sent")}}
	out, err := c.Query(ctx, in)
	if err != nil {
		return fmt.Errorf("NOT contains on items without the attribute: %v", err)
	}
	if got := render(out.Items); got != `[{"labels":{"L":[{"S":"inbox"}]},"pk":{"S":"p"},"sk":{"S":"1"}},{"pk":{"S":"p"},"sk":{"S":"2"}}]` {
		return fmt.Errorf("NOT contains(labels, sent): %s, want p/1 and p/2", got)
	}
	in.Limit = aws.Int32(1)
	if out, err = c.Query(ctx, in); err != nil {
		return err
	}
	if got, want := render(out.LastEvaluatedKey), `{"pk":{"S":"p"},"sk":{"S":"1"}}`; len(out.Items) != 1 || got != want {
		return fmt.Errorf("filtered query with Limit 1: %d items, LastEvaluatedKey %s, want 1 and %s", len(out.Items), got, want)
	}
	return nil
}

func checkDupKeys(ctx context.Context, c *dynamodb.Client, table string) error {
	_, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		table: {Keys: []avmap{keyOf("p", "s"), keyOf("p", "s")}}}})
	if errCode(err) != "ValidationException" {
		return fmt.Errorf("BatchGetItem with a key twice: %v, want ValidationException", err)
	}
	_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: {
		{PutRequest: &types.PutRequest{Item: keyOf("p", "s")}}, {DeleteRequest: &types.DeleteRequest{Key: keyOf("p", "s")}}}}})
	if errCode(err) != "ValidationException" {
		return fmt.Errorf("BatchWriteItem with a key twice: %v, want ValidationException", err)
	}
	return nil
}

func checkBadBetween(ctx context.Context, c *dynamodb.Client, table string) error {
	_, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("pk = :p AND sk BETWEEN :a AND :b"),
		ExpressionAttributeValues: avmap{":p": sv("p"), ":a": sv("b"), ":b": sv("a")}})
	if errCode(err) != "ValidationException" {
		return fmt.Errorf("BETWEEN b AND a: %v, want ValidationException", err)
	}
	return nil
}

func checkNumberPrecision(ctx context.Context, c *dynamodb.Client, table string) error {
	tbl := aws.String(table)
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: avmap{"pk": sv("p"), "sk": sv("s"),
		"big": nv("12345678901234567890.123456789"), "n": nv("9007199254740993")}}); err != nil {
		return err
	}
	out, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: keyOf("p", "s"), UpdateExpression: aws.String("SET x = :x ADD n :one"),
		ExpressionAttributeValues: avmap{":x": sv("x"), ":one": nv("1")}, ReturnValues: types.ReturnValueAllNew})
	if err != nil {
		return err
	}
	if got, want := render(out.Attributes), `{"big":{"N":"12345678901234567890.123456789"},"n":{"N":"9007199254740994"},"pk":{"S":"p"},"sk":{"S":"s"},"x":{"S":"x"}}`; got != want {
		return fmt.Errorf("after an update: %s, want %s", got, want)
	}
	return nil
}

func checkGSIMaintenance(ctx context.Context, c *dynamodb.Client, table string) error {
	if err := checkUpdateIntoGSI(ctx, c, table); err != nil {
		return err
	}
	tbl := aws.String(table)
	gsi1 := func() ([]string, error) {
		out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: tbl, IndexName: aws.String("gsi1"), KeyConditionExpression: aws.String("gsi1pk = :g"),
			ExpressionAttributeValues: avmap{":g": sv("g")}})
		if err != nil {
			return nil, err
		}
		var got []string
		for _, it := range out.Items {
			got = append(got, strOf(it["pk"]))
		}
		return got, nil
	}
	// The table holds z, a and b in gsi1 g (checkUpdateIntoGSI). Delete a: z and b stay.
	if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tbl, Key: keyOf("a", "a")}); err != nil {
		return err
	}
	if got, err := gsi1(); err != nil || !slices.Equal(got, []string{"z", "b"}) {
		return fmt.Errorf("gsi1 after deleting a: %v (%v), want [z b]", got, err)
	}
	// Replace b with an item without gsi1sk: it leaves the index.
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: avmap{"pk": sv("b"), "sk": sv("b"), "gsi1pk": sv("g")}}); err != nil {
		return err
	}
	if got, err := gsi1(); err != nil || !slices.Equal(got, []string{"z"}) {
		return fmt.Errorf("gsi1 after b lost gsi1sk: %v (%v), want [z]", got, err)
	}
	return nil
}

func checkUpdateIntoGSI(ctx context.Context, c *dynamodb.Client, table string) error {
	tbl := aws.String(table)
	for _, it := range []avmap{
		{"pk": sv("a"), "sk": sv("a"), "gsi1pk": sv("g"), "gsi1sk": sv("1")},
		{"pk": sv("b"), "sk": sv("b"), "gsi1pk": sv("g"), "gsi1sk": sv("2")},
		{"pk": sv("z"), "sk": sv("z")},
	} {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: it}); err != nil {
			return err
		}
	}
	if _, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: keyOf("z", "z"), UpdateExpression: aws.String("SET gsi1pk = :g, gsi1sk = :s"),
		ExpressionAttributeValues: avmap{":g": sv("g"), ":s": sv("0")}}); err != nil {
		return err
	}
	out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: tbl, IndexName: aws.String("gsi1"), KeyConditionExpression: aws.String("gsi1pk = :g"),
		ExpressionAttributeValues: avmap{":g": sv("g")}})
	if err != nil {
		return err
	}
	var got []string
	for _, it := range out.Items {
		got = append(got, strOf(it["pk"]))
	}
	if !slices.Equal(got, []string{"z", "a", "b"}) {
		return fmt.Errorf("gsi1 after an update added z to it: %v, want [z a b]", got)
	}
	return nil
}

// ---- the harness ----

// recorder keeps the requests sent to a server while it is on (to show a failing operation's
// requests exactly as the SDK sent them).
type recorder struct {
	h    http.Handler
	mu   sync.Mutex
	on   bool
	reqs []string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	on := r.on
	r.mu.Unlock()
	if on {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.mu.Lock()
		r.reqs = append(r.reqs, strings.TrimPrefix(req.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")+" "+string(body))
		r.mu.Unlock()
	}
	r.h.ServeHTTP(w, req)
}

func (r *recorder) start() {
	r.mu.Lock()
	r.on, r.reqs = true, nil
	r.mu.Unlock()
}

func (r *recorder) stop() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	return r.reqs
}

type diffRun struct {
	t         *testing.T
	ctx       context.Context
	seed      int64
	eng, mini *dynamodb.Client
	rec       *recorder
	swap      *swappable
	state     map[itemKey]map[string]any // the engine's items, as it answered them
	stateRaw  map[itemKey]avmap
	ops       map[string]int
	explained map[string]int // known bug → operations whose answers it explained
	failures  int
}

const maxReports = 10

func runDifferential(t *testing.T, seed int64, n int) {
	ctx := context.Background()
	db, err := dynamo.Open(t.TempDir(), dynamo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{h: db.Handler()}
	srv := httptest.NewServer(rec)
	t.Cleanup(func() {
		srv.Close()
		_ = db.Close()
	})
	swap := &swappable{h: minidyn.NewServer()}
	msrv := httptest.NewServer(swap)
	t.Cleanup(msrv.Close)
	miniClient := newClient(msrv.URL)
	if os.Getenv("DIFF_HTTP_DEBUG") != "" {
		miniClient = dynamodb.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
			Retryer: func() aws.Retryer { return aws.NopRetryer{} }, HTTPClient: &http.Client{Transport: debugRT{rt: http.DefaultTransport.(*http.Transport).Clone()}}},
			func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(msrv.URL) })
	}
	r := &diffRun{t: t, ctx: ctx, seed: seed, eng: newClient(srv.URL), mini: miniClient, rec: rec, swap: swap,
		state: map[itemKey]map[string]any{}, stateRaw: map[itemKey]avmap{}, ops: map[string]int{}, explained: map[string]int{}}
	for _, c := range []*dynamodb.Client{r.eng, r.mini} {
		createTable(t, c, pigeonTable(diffTable, types.StreamViewTypeNewImage))
	}
	every := 100
	if s := os.Getenv("DIFF_SCAN_EVERY"); s != "" {
		every, _ = strconv.Atoi(s) // a whole-table comparison every that many operations
	}
	g := &gen{r: rand.New(rand.NewSource(seed))}
	for i := range n {
		r.step(i, g.op())
		if every > 0 && i%every == every-1 {
			r.step(i, scanOp())
		}
	}
	r.step(n, scanOp())
	var ops, bugs []string
	for name, c := range r.ops {
		ops = append(ops, fmt.Sprintf("%s %d", name, c))
	}
	for name, c := range r.explained {
		bugs = append(bugs, fmt.Sprintf("%q %d", name, c))
	}
	slices.Sort(ops)
	slices.Sort(bugs)
	t.Logf("seed %d: %d operations (%s); answers that differed only by minidyn's known bugs: %s", seed, n, strings.Join(ops, ", "), strings.Join(bugs, ", "))
	if r.failures > maxReports {
		t.Errorf("seed %d: %d more disagreements not shown", seed, r.failures-maxReports)
	}
}

func (r *diffRun) step(i int, op *diffOp) {
	r.ops[op.name]++
	pre := map[itemKey]map[string]any{}
	for k, v := range r.state {
		pre[k] = v
	}
	op.pre = pre
	if op.gsi {
		r.rebuildMinidyn() // minidyn's GSIs are only right in a table written once (see knownMinidynBugs)
	}
	ecv := &conv{checkNumbers: true}
	r.rec.start()
	eo := op.call(r.ctx, r.eng, ecv)
	reqs := r.rec.stop()
	mcv := &conv{}
	mo := op.call(r.ctx, r.mini, mcv)
	engAfter := r.read(r.eng, op.keys)
	miniAfter := r.read(r.mini, op.keys)
	for j := range op.keys {
		eo.After = append(eo.After, ecv.item(engAfter[j]))
		mo.After = append(mo.After, mcv.item(miniAfter[j]))
	}

	fixed := mo.clone()
	fc := &fixCtx{op: op, pre: pre, eng: &eo, mini: &fixed}
	if op.unfiltered != nil {
		unf := op.unfiltered(r.ctx, r.mini, &conv{})
		fc.miniUnfiltered = &unf
	}
	applied := fixMinidyn(fc)
	switch {
	case js(eo) != js(fixed):
		r.report(i, op, reqs, eo, mo, fixed, applied, "the engine and minidyn disagree")
	case js(eo) != js(mo):
		for _, name := range applied {
			r.explained[name]++
		}
	}
	if err := checkQueryCounts(op, eo); err != nil {
		r.report(i, op, reqs, eo, mo, fixed, applied, "the engine's Count or ScannedCount is wrong: "+err.Error())
	}
	if len(ecv.bad) > 0 {
		r.report(i, op, reqs, eo, mo, fixed, applied, fmt.Sprintf("the engine answered numbers not in DynamoDB's canonical form: %q", ecv.bad))
	}

	// The engine's answers become the state; minidyn's copy is set to them where it differs
	// (without the values it cannot hold), so one difference does not spread to later ones.
	for j, k := range op.keys {
		if eo.After[j] == nil {
			delete(r.state, k)
			delete(r.stateRaw, k)
		} else {
			r.state[k] = eo.After[j]
			r.stateRaw[k] = engAfter[j]
		}
		if same(eo.After[j], mo.After[j]) {
			continue
		}
		var err error
		if engAfter[j] == nil {
			_, err = r.mini.DeleteItem(r.ctx, &dynamodb.DeleteItemInput{TableName: aws.String(diffTable), Key: k.av()})
		} else {
			_, err = r.mini.PutItem(r.ctx, &dynamodb.PutItemInput{TableName: aws.String(diffTable), Item: withoutEmpty(engAfter[j])})
		}
		if err != nil {
			r.t.Fatalf("seed %d op %d: copying the engine's item %q %q to minidyn: %v", r.seed, i, k.pk, k.sk, err)
		}
	}
	for _, k := range op.stray {
		_, _ = r.mini.DeleteItem(r.ctx, &dynamodb.DeleteItemInput{TableName: aws.String(diffTable), Key: k.av()})
	}
	if op.scan {
		r.resyncAll(i)
	}
}

type debugRT struct{ rt http.RoundTripper }

type debugBody struct {
	io.ReadCloser
	resp *http.Response
	n    int
}

func (b *debugBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += n
	if err != nil && err != io.EOF {
		fmt.Fprintf(os.Stderr, "HTTPDEBUG read error after %d bytes: %v; status %d CL %d TE %v Close %v hdr %v\n", b.n, err, b.resp.StatusCode, b.resp.ContentLength, b.resp.TransferEncoding, b.resp.Close, b.resp.Header)
	}
	return n, err
}

func (d debugRT) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := d.rt.RoundTrip(r)
	if err != nil {
		fmt.Fprintf(os.Stderr, "HTTPDEBUG roundtrip error %v\n", err)
		return nil, err
	}
	resp.Body = &debugBody{ReadCloser: resp.Body, resp: resp}
	return resp, nil
}

// swappable serves whichever minidyn is current (one server and one client for all of them).
type swappable struct {
	mu sync.Mutex
	h  http.Handler
}

func (s *swappable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h := s.h
	s.mu.Unlock()
	if os.Getenv("DIFF_CL") != "" {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(rec.Body.Len()))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	h.ServeHTTP(w, r)
}

// rebuildMinidyn replaces minidyn with a new one holding the engine's items (without the
// values it cannot hold).
func (r *diffRun) rebuildMinidyn() {
	r.swap.mu.Lock()
	r.swap.h = minidyn.NewServer()
	r.swap.mu.Unlock()
	createTable(r.t, r.mini, pigeonTable(diffTable, types.StreamViewTypeNewImage))
	for k, raw := range r.stateRaw {
		if _, err := r.mini.PutItem(r.ctx, &dynamodb.PutItemInput{TableName: aws.String(diffTable), Item: withoutEmpty(raw)}); err != nil {
			r.t.Fatalf("seed %d: copying %q %q to a new minidyn: %v", r.seed, k.pk, k.sk, err)
		}
	}
}

// withoutEmpty is an item without the attributes that hold an empty map or list.
func withoutEmpty(it avmap) avmap {
	out := avmap{}
	for a, v := range it {
		if !containsEmpty((&conv{}).av(v)) {
			out[a] = v
		}
	}
	return out
}

// resyncAll sets minidyn's whole table to the engine's (after a whole-table comparison).
func (r *diffRun) resyncAll(i int) {
	out := scanOp().call(r.ctx, r.mini, &conv{})
	for _, it := range out.Items {
		k, ok := keyIn(it)
		if !ok {
			continue
		}
		if _, kept := r.state[k]; !kept {
			if _, err := r.mini.DeleteItem(r.ctx, &dynamodb.DeleteItemInput{TableName: aws.String(diffTable), Key: k.av()}); err != nil {
				r.t.Fatalf("seed %d op %d: deleting %q %q from minidyn: %v", r.seed, i, k.pk, k.sk, err)
			}
		}
	}
}

func (r *diffRun) which(c *dynamodb.Client) string {
	if c == r.eng {
		return "the engine"
	}
	return "minidyn"
}

// read gets the items of keys (nil where there is none).
func (r *diffRun) read(c *dynamodb.Client, keys []itemKey) []avmap {
	out := make([]avmap, len(keys))
	for j, k := range keys {
		res, err := c.GetItem(r.ctx, &dynamodb.GetItemInput{TableName: aws.String(diffTable), Key: k.av(), ConsistentRead: aws.Bool(true)})
		if err != nil {
			r.t.Fatalf("seed %d: reading %q %q back from %s: %v", r.seed, k.pk, k.sk, r.which(c), err)
		}
		out[j] = res.Item
	}
	return out
}

func (r *diffRun) report(i int, op *diffOp, reqs []string, eo, mo, fixed outcome, applied []string, what string) {
	r.failures++
	if r.failures > maxReports {
		return
	}
	var before []string
	var keys []itemKey
	for k := range op.pre {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b itemKey) int {
		if c := strings.Compare(a.pk, b.pk); c != 0 {
			return c
		}
		return strings.Compare(a.sk, b.sk)
	})
	for _, k := range keys {
		if op.show(k, op.pre[k]) {
			before = append(before, render(r.stateRawOf(op, k)))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d, operation %d (%s): %s\n", r.seed, i, op.name, what)
	fmt.Fprintf(&b, "  requests, as the SDK sent them to the engine:\n")
	for _, q := range reqs {
		if len(q) > 3000 {
			q = fmt.Sprintf("%s … (%d bytes in all)", q[:3000], len(q))
		}
		fmt.Fprintf(&b, "    %s\n", q)
	}
	fmt.Fprintf(&b, "  stored items it concerns, before (the engine's):\n")
	for _, s := range before {
		fmt.Fprintf(&b, "    %s\n", s)
	}
	fmt.Fprintf(&b, "  engine:  %s\n", js(eo))
	if eo.msg != "" {
		fmt.Fprintf(&b, "           (%s)\n", eo.msg)
	}
	fmt.Fprintf(&b, "  minidyn: %s\n", js(mo))
	if mo.msg != "" {
		fmt.Fprintf(&b, "           (%s)\n", mo.msg)
	}
	if len(applied) > 0 {
		fmt.Fprintf(&b, "  minidyn with its known bugs fixed (%s): %s\n", strings.Join(applied, "; "), js(fixed))
	}
	r.t.Error(b.String())
}

// stateRawOf is a stored item before op as the engine sent it (numbers as it wrote them).
func (r *diffRun) stateRawOf(op *diffOp, k itemKey) any {
	if raw, ok := r.stateRaw[k]; ok && same((&conv{}).item(raw), op.pre[k]) {
		return raw
	}
	return op.pre[k]
}
