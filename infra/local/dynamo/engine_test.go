package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/pigeon-mail/pigeon/infra/local/dynamo"
)

// The engine's own guarantees, through the real SDK client over HTTP: durability across
// Close and reopen, atomic transactions, serializable concurrent writers, consistent reads
// during writes, TTL expiry, the stream and its checkpoints, and DynamoDB's limits and key
// validation. differential_test.go compares the engine with minidyn operation by operation.

// engine is a database served on loopback with an SDK client pointed at it.
type engine struct {
	db     *dynamo.DB
	srv    *httptest.Server
	c      *dynamodb.Client
	closed bool
}

func startEngine(t testing.TB, dir string, opts dynamo.Options) *engine {
	t.Helper()
	db, err := dynamo.Open(dir, opts)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	e := &engine{db: db, srv: httptest.NewServer(db.Handler())}
	e.c = newClient(e.srv.URL)
	t.Cleanup(func() { _ = e.close() })
	return e
}

// close stops the server and closes the database (as the local stack does at exit).
func (e *engine) close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	e.srv.Close()
	return e.db.Close()
}

// newClient is a real SDK client for a local server: static credentials, no retries (a retry
// would hide an error the test must see).
func newClient(url string) *dynamodb.Client {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("pigeon", "pigeon-local-secret", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(url) })
}

// pigeonTable is the table shared/store's EnsureTable creates: pk/sk and three GSIs with
// projection ALL, all keys strings; with a stream of viewType when it is not empty.
func pigeonTable(name string, viewType types.StreamViewType) *dynamodb.CreateTableInput {
	str := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	key := func(pk, sk string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(sk), KeyType: types.KeyTypeRange},
		}
	}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			str("pk"), str("sk"), str("gsi1pk"), str("gsi1sk"), str("gsi2pk"), str("gsi2sk"), str("gsi3pk"), str("gsi3sk"),
		},
		KeySchema: key("pk", "sk"),
	}
	for _, g := range []string{"gsi1", "gsi2", "gsi3"} {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:  aws.String(g),
			KeySchema:  key(g+"pk", g+"sk"),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	if viewType != "" {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: viewType}
	}
	return in
}

func createTable(t testing.TB, c *dynamodb.Client, in *dynamodb.CreateTableInput) {
	t.Helper()
	if _, err := c.CreateTable(context.Background(), in); err != nil {
		t.Fatalf("create table %s: %v", aws.ToString(in.TableName), err)
	}
}

func enableTTL(t testing.TB, c *dynamodb.Client, table string) {
	t.Helper()
	_, err := c.UpdateTimeToLive(context.Background(), &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("ttl"), Enabled: aws.Bool(true)},
	})
	if err != nil {
		t.Fatalf("enable TTL on %s: %v", table, err)
	}
}

// Attribute value shorthands.
func sv(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func nv(n string) types.AttributeValue { return &types.AttributeValueMemberN{Value: n} }
func bv(b bool) types.AttributeValue   { return &types.AttributeValueMemberBOOL{Value: b} }
func nullv() types.AttributeValue      { return &types.AttributeValueMemberNULL{Value: true} }
func ssv(s ...string) types.AttributeValue {
	return &types.AttributeValueMemberSS{Value: s}
}
func nsv(n ...string) types.AttributeValue {
	return &types.AttributeValueMemberNS{Value: n}
}
func lv(v ...types.AttributeValue) types.AttributeValue {
	if v == nil {
		v = []types.AttributeValue{}
	}
	return &types.AttributeValueMemberL{Value: v}
}
func mv(m map[string]types.AttributeValue) types.AttributeValue {
	if m == nil {
		m = map[string]types.AttributeValue{}
	}
	return &types.AttributeValueMemberM{Value: m}
}

type avmap = map[string]types.AttributeValue

func keyOf(pk, sk string) avmap { return avmap{"pk": sv(pk), "sk": sv(sk)} }

// errCode is an error's DynamoDB error code ("" for nil).
func errCode(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "not an API error: " + err.Error()
}

func reasonCodes(err error) []string {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	out := make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		out[i] = aws.ToString(r.Code)
	}
	return out
}

func mustPut(t testing.TB, c *dynamodb.Client, table string, item avmap) {
	t.Helper()
	if _, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatalf("put %s: %v", render(item), err)
	}
}

func getItem(t testing.TB, c *dynamodb.Client, table, pk, sk string) avmap {
	t.Helper()
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(table), Key: keyOf(pk, sk), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("get %q %q: %v", pk, sk, err)
	}
	return out.Item
}

// scanAll reads a whole table, in key order.
func scanAll(t testing.TB, c *dynamodb.Client, table string) []avmap {
	t.Helper()
	var items []avmap
	in := &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}
	for {
		out, err := c.Scan(context.Background(), in)
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	sortByKey(items)
	return items
}

// queryAll reads one partition of the table or of an index, every page.
func queryAll(t testing.TB, c *dynamodb.Client, table, index, hashAttr, hash string) []avmap {
	t.Helper()
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("#h = :h"),
		ExpressionAttributeNames:  map[string]string{"#h": hashAttr},
		ExpressionAttributeValues: avmap{":h": sv(hash)},
	}
	if index != "" {
		in.IndexName = aws.String(index)
	} else {
		in.ConsistentRead = aws.Bool(true)
	}
	var items []avmap
	for {
		out, err := c.Query(context.Background(), in)
		if err != nil {
			t.Fatalf("query %s %s %s = %q: %v", table, index, hashAttr, hash, err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func sortByKey(items []avmap) {
	slices.SortFunc(items, func(a, b avmap) int {
		if c := strings.Compare(strOf(a["pk"]), strOf(b["pk"])); c != 0 {
			return c
		}
		return strings.Compare(strOf(a["sk"]), strOf(b["sk"]))
	})
}

func strOf(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func numOf(t testing.TB, v types.AttributeValue) int {
	t.Helper()
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("%s is not a number", renderAV(v))
	}
	i, err := strconv.Atoi(n.Value)
	if err != nil {
		t.Fatalf("number %q: %v", n.Value, err)
	}
	return i
}

// clock is a settable time source for dynamo.Options.Now.
type clock struct{ unix atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.unix.Store(t.Unix())
	return c
}
func (c *clock) Now() time.Time            { return time.Unix(c.unix.Load(), 0) }
func (c *clock) Advance(d time.Duration)   { c.unix.Add(int64(d / time.Second)) }
func (c *clock) epoch(d time.Duration) int { return int(c.Now().Add(d).Unix()) }

// eventually polls cond every 50 ms until it holds or timeout passes.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readStream reads up to max records after after, without a filter.
func readStream(db *dynamo.DB, ctx context.Context, table, after string, max int) ([]awsevents.DynamoDBEventRecord, error) {
	b, err := db.ReadStream(ctx, table, after, max, nil)
	return b.Records, err
}

func seqOf(t testing.TB, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("sequence number %q: %v", s, err)
	}
	return n
}

// TestEngineDurability writes, closes, reopens the same directory and reads everything back:
// items, GSI entries, the TTL setting (and TTL entries: an item expires after the reopen),
// the stream and a consumer's checkpoint; new stream records continue the sequence.
func TestEngineDurability(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := newClock(time.Unix(1_700_000_000, 0))
	e := startEngine(t, dir, dynamo.Options{Now: clk.Now})
	createTable(t, e.c, pigeonTable("pigeon", types.StreamViewTypeNewImage))
	enableTTL(t, e.c, "pigeon")

	for i := range 20 {
		pk := fmt.Sprintf("inbox#%d", i%3)
		item := avmap{"pk": sv(pk), "sk": sv(fmt.Sprintf("m#%02d", i)), "n": nv(strconv.Itoa(i)),
			"labels": lv(sv("inbox"), sv("unread")), "empty": mv(nil), "none": lv()}
		if i%2 == 0 {
			item["gsi1pk"], item["gsi1sk"] = sv("thread#"+pk), sv(fmt.Sprintf("t%02d", i))
		}
		if i == 7 {
			item["ttl"] = nv(strconv.Itoa(clk.epoch(time.Hour)))
		}
		mustPut(t, e.c, "pigeon", item)
	}
	if _, err := e.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("pigeon"), Item: avmap{"pk": sv("tx"), "sk": sv("1"), "gsi2pk": sv("g"), "gsi2sk": sv("1")}}},
		{Update: &types.Update{TableName: aws.String("pigeon"), Key: keyOf("inbox#0", "m#00"),
			UpdateExpression: aws.String("SET n = n + :one REMOVE labels"), ExpressionAttributeValues: avmap{":one": nv("1")}}},
		{Delete: &types.Delete{TableName: aws.String("pigeon"), Key: keyOf("inbox#1", "m#01")}},
	}}); err != nil {
		t.Fatalf("transaction: %v", err)
	}
	items := scanAll(t, e.c, "pigeon")
	gsi1 := queryAll(t, e.c, "pigeon", "gsi1", "gsi1pk", "thread#inbox#0")
	gsi2 := queryAll(t, e.c, "pigeon", "gsi2", "gsi2pk", "g")
	recs, err := readStream(e.db, ctx, "pigeon", "", 1000)
	if err != nil {
		t.Fatalf("read stream: %v", err)
	}
	if len(recs) != 23 { // 20 puts, and the transaction's put, update and delete
		t.Fatalf("stream has %d records, want 23", len(recs))
	}
	if err := e.db.Checkpoint("consumer", "pigeon", recs[9].Change.SequenceNumber); err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	if err := e.close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	e = startEngine(t, dir, dynamo.Options{Now: clk.Now})
	if got := scanAll(t, e.c, "pigeon"); render(got) != render(items) {
		t.Errorf("items after reopen:\n%s\nwant\n%s", render(got), render(items))
	}
	if len(items) != 20 {
		t.Errorf("%d items, want 20 (20 put, one more by the transaction, one deleted)", len(items))
	}
	if got := queryAll(t, e.c, "pigeon", "gsi1", "gsi1pk", "thread#inbox#0"); render(got) != render(gsi1) || len(gsi1) != 4 {
		t.Errorf("gsi1 after reopen: %s\nwant (4 items) %s", render(got), render(gsi1))
	}
	if got := queryAll(t, e.c, "pigeon", "gsi2", "gsi2pk", "g"); render(got) != render(gsi2) || len(gsi2) != 1 {
		t.Errorf("gsi2 after reopen: %s\nwant (1 item) %s", render(got), render(gsi2))
	}
	desc, err := e.c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("pigeon")})
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	if n := len(desc.Table.GlobalSecondaryIndexes); n != 3 {
		t.Errorf("%d GSIs after reopen, want 3", n)
	}
	if s := desc.Table.StreamSpecification; s == nil || !aws.ToBool(s.StreamEnabled) || s.StreamViewType != types.StreamViewTypeNewImage {
		t.Errorf("stream specification after reopen: %+v", s)
	}
	ttl, err := e.c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("pigeon")})
	if err != nil {
		t.Fatalf("describe TTL: %v", err)
	}
	if d := ttl.TimeToLiveDescription; d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != "ttl" {
		t.Errorf("TTL after reopen: %s %q", d.TimeToLiveStatus, aws.ToString(d.AttributeName))
	}

	again, err := readStream(e.db, ctx, "pigeon", "", 1000)
	if err != nil {
		t.Fatalf("read stream after reopen: %v", err)
	}
	if len(again) != len(recs) {
		t.Fatalf("stream after reopen has %d records, want %d", len(again), len(recs))
	}
	for i := range recs {
		if again[i].EventID != recs[i].EventID || again[i].Change.SequenceNumber != recs[i].Change.SequenceNumber || again[i].EventName != recs[i].EventName {
			t.Errorf("record %d after reopen: %s %s %s, want %s %s %s", i, again[i].EventID, again[i].Change.SequenceNumber, again[i].EventName,
				recs[i].EventID, recs[i].Change.SequenceNumber, recs[i].EventName)
		}
	}
	cp, err := e.db.LoadCheckpoint("consumer", "pigeon")
	if err != nil || cp != recs[9].Change.SequenceNumber {
		t.Fatalf("checkpoint after reopen: %q, %v; want %q", cp, err, recs[9].Change.SequenceNumber)
	}
	rest, err := readStream(e.db, ctx, "pigeon", cp, 1000)
	if err != nil || len(rest) != len(recs)-10 || rest[0].EventID != recs[10].EventID {
		t.Fatalf("stream after the checkpoint: %d records (%v), want %d starting with %s", len(rest), err, len(recs)-10, recs[10].EventID)
	}

	// The sequence continues after the reopen.
	mustPut(t, e.c, "pigeon", avmap{"pk": sv("after"), "sk": sv("reopen")})
	next, err := readStream(e.db, ctx, "pigeon", recs[len(recs)-1].Change.SequenceNumber, 10)
	if err != nil || len(next) != 1 {
		t.Fatalf("records after reopen: %d (%v), want 1", len(next), err)
	}
	if got, want := seqOf(t, next[0].Change.SequenceNumber), seqOf(t, recs[len(recs)-1].Change.SequenceNumber)+1; got != want {
		t.Errorf("first sequence number after reopen %d, want %d", got, want)
	}

	// The TTL entry of item 7 survived too: past its expiry the sweeper deletes it.
	clk.Advance(2 * time.Hour)
	if !eventually(5*time.Second, func() bool { return getItem(t, e.c, "pigeon", "inbox#1", "m#07") == nil }) {
		t.Errorf("item with an expired ttl still there 5 s after the reopen")
	}
}

// TestEngineTransactAtomicity: a transaction with a failing condition writes nothing (items,
// GSI entries, stream), and answers one reason per action in order, with the old item where
// ReturnValuesOnConditionCheckFailure is ALL_OLD.
func TestEngineTransactAtomicity(t *testing.T) {
	ctx := context.Background()
	e := startEngine(t, t.TempDir(), dynamo.Options{})
	createTable(t, e.c, pigeonTable("pigeon", types.StreamViewTypeNewAndOldImages))
	a := avmap{"pk": sv("p"), "sk": sv("a"), "version": nv("1"), "gsi1pk": sv("g"), "gsi1sk": sv("a")}
	b := avmap{"pk": sv("p"), "sk": sv("b"), "version": nv("1"), "m": mv(nil), "l": lv()}
	mustPut(t, e.c, "pigeon", a)
	mustPut(t, e.c, "pigeon", b)
	before := scanAll(t, e.c, "pigeon")
	beforeGSI := queryAll(t, e.c, "pigeon", "gsi1", "gsi1pk", "g")
	recs, err := readStream(e.db, ctx, "pigeon", "", 100)
	if err != nil || len(recs) != 2 {
		t.Fatalf("stream: %d records, %v", len(recs), err)
	}
	last := recs[1].Change.SequenceNumber
	table := aws.String("pigeon")
	allOld := types.ReturnValuesOnConditionCheckFailureAllOld

	_, err = e.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: table, Item: avmap{"pk": sv("p"), "sk": sv("c"), "gsi1pk": sv("g"), "gsi1sk": sv("c")},
			ConditionExpression: aws.String("attribute_not_exists(pk)"), ReturnValuesOnConditionCheckFailure: allOld}},
		{Update: &types.Update{TableName: table, Key: keyOf("p", "a"), UpdateExpression: aws.String("SET gsi1sk = :s, version = version + :one"),
			ConditionExpression: aws.String("version = :v"), ExpressionAttributeValues: avmap{":s": sv("z"), ":one": nv("1"), ":v": nv("1")}}},
		{ConditionCheck: &types.ConditionCheck{TableName: table, Key: keyOf("p", "b"), ConditionExpression: aws.String("version = :v"),
			ExpressionAttributeValues: avmap{":v": nv("5")}, ReturnValuesOnConditionCheckFailure: allOld}},
		{Delete: &types.Delete{TableName: table, Key: keyOf("p", "absent"), ConditionExpression: aws.String("attribute_exists(pk)"),
			ReturnValuesOnConditionCheckFailure: allOld}},
		{Delete: &types.Delete{TableName: table, Key: keyOf("p", "a2"), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("transaction with failing conditions: %v, want TransactionCanceledException", err)
	}
	if got, want := reasonCodes(err), []string{"None", "None", "ConditionalCheckFailed", "ConditionalCheckFailed", "None"}; !slices.Equal(got, want) {
		t.Errorf("cancellation reasons %v, want %v", got, want)
	}
	if len(tce.CancellationReasons) == 5 {
		if got := render(tce.CancellationReasons[2].Item); got != render(b) {
			t.Errorf("ALL_OLD item of the failed check: %s, want %s", got, render(b))
		}
		if it := tce.CancellationReasons[3].Item; it != nil {
			t.Errorf("ALL_OLD item of a missing item: %s, want none", render(it))
		}
		if it := tce.CancellationReasons[0].Item; it != nil {
			t.Errorf("item on a reason that did not fail: %s", render(it))
		}
	}
	assertUnchanged := func(what string) {
		t.Helper()
		if got := scanAll(t, e.c, "pigeon"); render(got) != render(before) {
			t.Errorf("%s wrote items:\n%s\nwant\n%s", what, render(got), render(before))
		}
		if got := queryAll(t, e.c, "pigeon", "gsi1", "gsi1pk", "g"); render(got) != render(beforeGSI) {
			t.Errorf("%s changed gsi1: %s, want %s", what, render(got), render(beforeGSI))
		}
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if recs, err := readStream(e.db, short, "pigeon", last, 10); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s wrote %d stream records (%v)", what, len(recs), err)
		}
	}
	assertUnchanged("a cancelled transaction")

	// An update that cannot be evaluated (arithmetic on a missing attribute) cancels the
	// transaction with ValidationError (TransactionCanceledException's documented reasons).
	_, err = e.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: table, Item: avmap{"pk": sv("p"), "sk": sv("c")}}},
		{Update: &types.Update{TableName: table, Key: keyOf("p", "b"), UpdateExpression: aws.String("SET n = n + :one"),
			ExpressionAttributeValues: avmap{":one": nv("1")}}},
	}})
	if got, want := reasonCodes(err), []string{"None", "ValidationError"}; !slices.Equal(got, want) {
		t.Errorf("transaction with an invalid update: %v (reasons %v), want TransactionCanceledException %v", err, got, want)
	}
	assertUnchanged("a transaction with an invalid update")

	// Two actions on one item: ValidationException, nothing written.
	_, err = e.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: table, Item: avmap{"pk": sv("p"), "sk": sv("c")}}},
		{Delete: &types.Delete{TableName: table, Key: keyOf("p", "c")}},
	}})
	if errCode(err) != "ValidationException" {
		t.Errorf("two actions on one item: %v, want ValidationException", err)
	}
	assertUnchanged("a transaction with two actions on one item")

	// All conditions hold: everything is written, the stream records follow the actions.
	_, err = e.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: table, Item: avmap{"pk": sv("p"), "sk": sv("c"), "gsi1pk": sv("g"), "gsi1sk": sv("c")},
			ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Update: &types.Update{TableName: table, Key: keyOf("p", "a"), UpdateExpression: aws.String("SET gsi1sk = :s, version = version + :one"),
			ConditionExpression: aws.String("version = :v"), ExpressionAttributeValues: avmap{":s": sv("z"), ":one": nv("1"), ":v": nv("1")}}},
		{Delete: &types.Delete{TableName: table, Key: keyOf("p", "b"), ConditionExpression: aws.String("attribute_exists(pk)")}},
	}})
	if err != nil {
		t.Fatalf("transaction: %v", err)
	}
	if got := queryAll(t, e.c, "pigeon", "gsi1", "gsi1pk", "g"); len(got) != 2 || strOf(got[0]["gsi1sk"]) != "c" || strOf(got[1]["gsi1sk"]) != "z" {
		t.Errorf("gsi1 after the transaction: %s, want c then z", render(got))
	}
	if it := getItem(t, e.c, "pigeon", "p", "b"); it != nil {
		t.Errorf("deleted item still there: %s", render(it))
	}
	recs, err = readStream(e.db, ctx, "pigeon", last, 10)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range recs {
		names = append(names, r.EventName+" "+r.Change.Keys["sk"].String())
	}
	if want := []string{"INSERT c", "MODIFY a", "REMOVE b"}; !slices.Equal(names, want) {
		t.Errorf("stream records of the transaction: %v, want %v", names, want)
	}
}

// TestEngineConcurrentIncrements: 16 writers × 50 optimistic increments (read, then update
// with version = :v, retry on ConditionalCheckFailedException) give exactly 800, and readers
// running meanwhile never see a half-applied update (n == version in every read).
func TestEngineConcurrentIncrements(t *testing.T) {
	ctx := context.Background()
	e := startEngine(t, t.TempDir(), dynamo.Options{})
	createTable(t, e.c, pigeonTable("pigeon", types.StreamViewTypeNewImage))
	mustPut(t, e.c, "pigeon", avmap{"pk": sv("counter"), "sk": sv("c"), "n": nv("0"), "version": nv("0"), "gsi1pk": sv("g"), "gsi1sk": sv("c")})
	const writers, each = 16, 50
	var wg sync.WaitGroup
	var conflicts atomic.Int64
	errs := make(chan error, writers+4)
	stop := make(chan struct{})
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				for {
					out, err := e.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("pigeon"), Key: keyOf("counter", "c"), ConsistentRead: aws.Bool(true)})
					if err != nil {
						errs <- err
						return
					}
					v := out.Item["version"].(*types.AttributeValueMemberN).Value
					_, err = e.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
						TableName: aws.String("pigeon"), Key: keyOf("counter", "c"),
						UpdateExpression:          aws.String("SET n = n + :one, version = version + :one"),
						ConditionExpression:       aws.String("version = :v"),
						ExpressionAttributeValues: avmap{":one": nv("1"), ":v": nv(v)},
					})
					var ccf *types.ConditionalCheckFailedException
					if errors.As(err, &ccf) {
						conflicts.Add(1)
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					break
				}
			}
		}()
	}
	// Unconditional ADDs to another item at the same time: exact too.
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if _, err := e.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
					TableName: aws.String("pigeon"), Key: keyOf("counter", "add"),
					UpdateExpression: aws.String("ADD n :one"), ExpressionAttributeValues: avmap{":one": nv("1")},
				}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var readers sync.WaitGroup
	var reads atomic.Int64
	for i := range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			prev := -1
			for {
				select {
				case <-stop:
					return
				default:
				}
				var it avmap
				if i == 0 {
					out, err := e.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("pigeon"), Key: keyOf("counter", "c"), ConsistentRead: aws.Bool(true)})
					if err != nil {
						errs <- err
						return
					}
					it = out.Item
				} else {
					out, err := e.c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("pigeon"), IndexName: aws.String("gsi1"),
						KeyConditionExpression: aws.String("gsi1pk = :g"), ExpressionAttributeValues: avmap{":g": sv("g")}})
					if err != nil || len(out.Items) != 1 {
						errs <- fmt.Errorf("gsi1 query during writes: %d items, %v", len(out.Items), err)
						return
					}
					it = out.Items[0]
				}
				n, v := numOf(t, it["n"]), numOf(t, it["version"])
				if n != v || n < prev {
					errs <- fmt.Errorf("read during writes saw n=%d version=%d after n=%d", n, v, prev)
					return
				}
				prev = n
				reads.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	it := getItem(t, e.c, "pigeon", "counter", "c")
	if n, v := numOf(t, it["n"]), numOf(t, it["version"]); n != writers*each || v != writers*each {
		t.Errorf("after %d increments: n=%d version=%d", writers*each, n, v)
	}
	if n := numOf(t, getItem(t, e.c, "pigeon", "counter", "add")["n"]); n != 4*each {
		t.Errorf("after %d ADDs: n=%d", 4*each, n)
	}
	t.Logf("%d conflicts retried, %d reads during the writes", conflicts.Load(), reads.Load())
}

// TestEngineReadsDuringWrites: transactions keep two items (and their GSI entries) equal;
// BatchGetItem, TransactGetItems and Query read each from one snapshot, so they never see one
// item of a transaction without the other.
func TestEngineReadsDuringWrites(t *testing.T) {
	ctx := context.Background()
	e := startEngine(t, t.TempDir(), dynamo.Options{})
	createTable(t, e.c, pigeonTable("pigeon", ""))
	pair := func(i int) []types.TransactWriteItem {
		var tx []types.TransactWriteItem
		for _, sk := range []string{"a", "b"} {
			tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: aws.String("pigeon"), Item: avmap{
				"pk": sv("pair"), "sk": sv(sk), "v": nv(strconv.Itoa(i)), "gsi1pk": sv("pair"), "gsi1sk": sv(fmt.Sprintf("%s#%04d", sk, i)),
			}}})
		}
		return tx
	}
	if _, err := e.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: pair(0)}); err != nil {
		t.Fatal(err)
	}
	const rounds = 200
	done := make(chan struct{})
	errs := make(chan error, 8)
	go func() {
		defer close(done)
		for i := 1; i <= rounds; i++ {
			if _, err := e.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: pair(i)}); err != nil {
				errs <- err
				return
			}
		}
	}()
	check := func(what string, items []avmap) bool {
		if len(items) != 2 || numOf(t, items[0]["v"]) != numOf(t, items[1]["v"]) {
			errs <- fmt.Errorf("%s saw a half-written transaction: %s", what, render(items))
			return false
		}
		return true
	}
	var wg sync.WaitGroup
	readers := []func() bool{
		func() bool {
			out, err := e.c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				"pigeon": {Keys: []avmap{keyOf("pair", "a"), keyOf("pair", "b")}, ConsistentRead: aws.Bool(true)}}})
			if err != nil {
				errs <- err
				return false
			}
			return check("BatchGetItem", out.Responses["pigeon"])
		},
		func() bool {
			out, err := e.c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
				{Get: &types.Get{TableName: aws.String("pigeon"), Key: keyOf("pair", "a")}},
				{Get: &types.Get{TableName: aws.String("pigeon"), Key: keyOf("pair", "b")}},
			}})
			if err != nil {
				errs <- err
				return false
			}
			return check("TransactGetItems", []avmap{out.Responses[0].Item, out.Responses[1].Item})
		},
		func() bool {
			out, err := e.c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("pigeon"), ConsistentRead: aws.Bool(true),
				KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: avmap{":p": sv("pair")}})
			if err != nil {
				errs <- err
				return false
			}
			return check("Query", out.Items)
		},
		func() bool {
			out, err := e.c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("pigeon"), IndexName: aws.String("gsi1"),
				KeyConditionExpression: aws.String("gsi1pk = :p"), ExpressionAttributeValues: avmap{":p": sv("pair")}})
			if err != nil {
				errs <- err
				return false
			}
			return check("Query gsi1", out.Items)
		},
	}
	for _, read := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if !read() {
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestEngineTTL: with TTL on, an item whose ttl (epoch seconds) has passed is deleted within
// about a second, with a REMOVE stream record whose userIdentity is DynamoDB's service
// principal, and leaves its GSIs; items with a future ttl, a ttl that is not a number, or one
// more than five years in the past are kept, as DynamoDB keeps them.
func TestEngineTTL(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Unix(1_700_000_000, 0))
	e := startEngine(t, t.TempDir(), dynamo.Options{Now: clk.Now})
	createTable(t, e.c, pigeonTable("pigeon", types.StreamViewTypeNewImage))
	enableTTL(t, e.c, "pigeon")
	put := func(sk string, ttl types.AttributeValue) {
		mustPut(t, e.c, "pigeon", avmap{"pk": sv("p"), "sk": sv(sk), "ttl": ttl, "gsi1pk": sv("g"), "gsi1sk": sv(sk)})
	}
	put("future", nv(strconv.Itoa(clk.epoch(100*time.Second))))
	put("string", sv(strconv.Itoa(clk.epoch(-time.Hour))))
	put("ancient", nv(strconv.Itoa(clk.epoch(-6*365*24*time.Hour))))
	put("decimal", nv(fmt.Sprintf("%d.5", clk.epoch(50*time.Second))))
	recs, err := readStream(e.db, ctx, "pigeon", "", 100)
	if err != nil || len(recs) != 4 {
		t.Fatalf("stream: %d records, %v", len(recs), err)
	}
	last := recs[3].Change.SequenceNumber
	put("expired", nv(strconv.Itoa(clk.epoch(-10*time.Second))))
	last = waitRecord(t, e.db, last, "INSERT", "expired")

	if !eventually(5*time.Second, func() bool { return getItem(t, e.c, "pigeon", "p", "expired") == nil }) {
		t.Fatalf("expired item still there after 5 s")
	}
	rec := nextRecord(t, e.db, last)
	if rec.EventName != "REMOVE" || rec.Change.Keys["sk"].String() != "expired" || rec.UserIdentity == nil ||
		rec.UserIdentity.Type != "Service" || rec.UserIdentity.PrincipalID != "dynamodb.amazonaws.com" {
		t.Errorf("TTL deletion record: %s %v user %+v, want REMOVE of expired by Service dynamodb.amazonaws.com", rec.EventName, rec.Change.Keys, rec.UserIdentity)
	}
	last = rec.Change.SequenceNumber
	for _, it := range queryAll(t, e.c, "pigeon", "gsi1", "gsi1pk", "g") {
		if strOf(it["sk"]) == "expired" {
			t.Errorf("expired item still in gsi1")
		}
	}
	for _, sk := range []string{"future", "string", "ancient", "decimal"} {
		if getItem(t, e.c, "pigeon", "p", sk) == nil {
			t.Errorf("item %q deleted, want kept", sk)
		}
	}

	// Once the clock passes their ttl, the future and decimal items go too.
	clk.Advance(200 * time.Second)
	if !eventually(5*time.Second, func() bool {
		return getItem(t, e.c, "pigeon", "p", "future") == nil && getItem(t, e.c, "pigeon", "p", "decimal") == nil
	}) {
		t.Fatalf("items whose ttl has passed still there after 5 s")
	}
	for _, sk := range []string{"string", "ancient"} {
		if getItem(t, e.c, "pigeon", "p", sk) == nil {
			t.Errorf("item %q deleted, want kept (DynamoDB ignores a ttl that is not a number or is more than five years old)", sk)
		}
	}
	got := map[string]bool{}
	for range 2 {
		rec := nextRecord(t, e.db, last)
		last = rec.Change.SequenceNumber
		got[rec.EventName+" "+rec.Change.Keys["sk"].String()] = true
	}
	if !got["REMOVE future"] || !got["REMOVE decimal"] {
		t.Errorf("TTL records %v, want REMOVE future and REMOVE decimal", got)
	}

	// An update that moves the ttl to the future keeps the item.
	put("moved", nv(strconv.Itoa(clk.epoch(2*time.Second))))
	if _, err := e.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("pigeon"), Key: keyOf("p", "moved"),
		UpdateExpression: aws.String("SET #ttl = :t"), ExpressionAttributeNames: map[string]string{"#ttl": "ttl"},
		ExpressionAttributeValues: avmap{":t": nv(strconv.Itoa(clk.epoch(time.Hour)))}}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Second)
	time.Sleep(2500 * time.Millisecond)
	if getItem(t, e.c, "pigeon", "p", "moved") == nil {
		t.Errorf("item whose ttl was moved to the future was deleted by its old ttl")
	}
}

func nextRecord(t *testing.T, db *dynamo.DB, after string) awsevents.DynamoDBEventRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	recs, err := readStream(db, ctx, "pigeon", after, 1)
	if err != nil || len(recs) != 1 {
		t.Fatalf("next stream record after %s: %d, %v", after, len(recs), err)
	}
	return recs[0]
}

func waitRecord(t *testing.T, db *dynamo.DB, after, name, sk string) string {
	t.Helper()
	rec := nextRecord(t, db, after)
	if rec.EventName != name || rec.Change.Keys["sk"].String() != sk {
		t.Fatalf("stream record %s %v, want %s %s", rec.EventName, rec.Change.Keys, name, sk)
	}
	return rec.Change.SequenceNumber
}

// TestEngineStream: records in commit order with consecutive sequence numbers and the view
// type's images; ReadStream pages with max and after, blocks until a record comes, and a
// checkpoint survives a reopen.
func TestEngineStream(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := startEngine(t, dir, dynamo.Options{})
	createTable(t, e.c, pigeonTable("pigeon", types.StreamViewTypeNewAndOldImages))
	createTable(t, e.c, pigeonTable("nostream", ""))
	table := aws.String("pigeon")
	mustPut(t, e.c, "pigeon", avmap{"pk": sv("p"), "sk": sv("1"), "v": nv("1")})
	if _, err := e.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: table, Key: keyOf("p", "1"),
		UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: avmap{":v": nv("2")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: table, Key: keyOf("p", "1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: table, Key: keyOf("p", "never")}); err != nil {
		t.Fatal(err) // deleting nothing changes nothing: no record
	}
	if _, err := e.c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"pigeon": {
		{PutRequest: &types.PutRequest{Item: avmap{"pk": sv("p"), "sk": sv("2")}}},
		{PutRequest: &types.PutRequest{Item: avmap{"pk": sv("p"), "sk": sv("3")}}},
	}}}); err != nil {
		t.Fatal(err)
	}
	recs, err := readStream(e.db, ctx, "pigeon", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, r := range recs {
		got = append(got, r.EventName+" "+r.Change.Keys["sk"].String())
		if i > 0 && seqOf(t, r.Change.SequenceNumber) != seqOf(t, recs[i-1].Change.SequenceNumber)+1 {
			t.Errorf("sequence numbers %s then %s, want consecutive", recs[i-1].Change.SequenceNumber, r.Change.SequenceNumber)
		}
		if r.EventSource != "aws:dynamodb" || r.AWSRegion != dynamo.Region || !strings.Contains(r.EventSourceArn, ":table/pigeon/stream/") {
			t.Errorf("record %d: source %q region %q arn %q", i, r.EventSource, r.AWSRegion, r.EventSourceArn)
		}
	}
	if want := []string{"INSERT 1", "MODIFY 1", "REMOVE 1", "INSERT 2", "INSERT 3"}; !slices.Equal(got, want) {
		t.Fatalf("records %v, want %v", got, want)
	}
	if m := recs[1].Change; m.OldImage["v"].Number() != "1" || m.NewImage["v"].Number() != "2" {
		t.Errorf("MODIFY images: old %v new %v", m.OldImage, m.NewImage)
	}
	if r := recs[2].Change; r.NewImage != nil || r.OldImage["v"].Number() != "2" {
		t.Errorf("REMOVE images: old %v new %v", r.OldImage, r.NewImage)
	}
	if r := recs[0].Change; r.OldImage != nil || r.NewImage["v"].Number() != "1" {
		t.Errorf("INSERT images: old %v new %v", r.OldImage, r.NewImage)
	}

	page, err := readStream(e.db, ctx, "pigeon", "", 2)
	if err != nil || len(page) != 2 || page[1].EventID != recs[1].EventID {
		t.Errorf("first page of 2: %d records, %v", len(page), err)
	}
	page, err = readStream(e.db, ctx, "pigeon", recs[1].Change.SequenceNumber, 100)
	if err != nil || len(page) != 3 || page[0].EventID != recs[2].EventID {
		t.Errorf("records after the second: %d, %v", len(page), err)
	}

	// ReadStream waits for the next record.
	last := recs[len(recs)-1].Change.SequenceNumber
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = readStream(e.db, short, "pigeon", last, 10)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ReadStream with nothing new: %v, want the context's deadline", err)
	}
	woke := make(chan []string, 1)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		recs, err := readStream(e.db, ctx, "pigeon", last, 10)
		var out []string
		for _, r := range recs {
			out = append(out, r.EventName+" "+r.Change.Keys["sk"].String())
		}
		if err != nil {
			out = append(out, err.Error())
		}
		woke <- out
	}()
	time.Sleep(100 * time.Millisecond)
	mustPut(t, e.c, "pigeon", avmap{"pk": sv("p"), "sk": sv("4")})
	if got := <-woke; !slices.Equal(got, []string{"INSERT 4"}) {
		t.Errorf("waiting ReadStream woke with %v, want [INSERT 4]", got)
	}

	if _, err := readStream(e.db, ctx, "nostream", "", 10); err == nil {
		t.Errorf("ReadStream of a table without a stream: no error")
	}
	if cp, err := e.db.LoadCheckpoint("nobody", "pigeon"); cp != "" || err != nil {
		t.Errorf("checkpoint of a consumer that never saved one: %q, %v", cp, err)
	}
	if err := e.db.Checkpoint("lambda", "pigeon", recs[2].Change.SequenceNumber); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Checkpoint("other", "pigeon", recs[0].Change.SequenceNumber); err != nil {
		t.Fatal(err)
	}
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	e = startEngine(t, dir, dynamo.Options{})
	cp, err := e.db.LoadCheckpoint("lambda", "pigeon")
	if err != nil || cp != recs[2].Change.SequenceNumber {
		t.Fatalf("checkpoint after reopen: %q, %v, want %q", cp, err, recs[2].Change.SequenceNumber)
	}
	if other, _ := e.db.LoadCheckpoint("other", "pigeon"); other != recs[0].Change.SequenceNumber {
		t.Errorf("second consumer's checkpoint: %q, want %q", other, recs[0].Change.SequenceNumber)
	}
	rest, err := readStream(e.db, ctx, "pigeon", cp, 100)
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, r := range rest {
		got = append(got, r.EventName+" "+r.Change.Keys["sk"].String())
	}
	if want := []string{"INSERT 2", "INSERT 3", "INSERT 4"}; !slices.Equal(got, want) {
		t.Errorf("resumed after the checkpoint: %v, want %v", got, want)
	}
}

// TestEngineStreamSkipsNoOpWrites: DynamoDB Streams writes no record for a PutItem or
// UpdateItem that does not change any data in the item (DynamoDB Developer Guide, "Change
// data capture for DynamoDB Streams").
func TestEngineStreamSkipsNoOpWrites(t *testing.T) {
	ctx := context.Background()
	e := startEngine(t, t.TempDir(), dynamo.Options{})
	createTable(t, e.c, pigeonTable("pigeon", types.StreamViewTypeNewImage))
	item := avmap{"pk": sv("p"), "sk": sv("1"), "v": nv("1.50"), "l": lv(sv("a"))}
	mustPut(t, e.c, "pigeon", item)
	recs, err := readStream(e.db, ctx, "pigeon", "", 10)
	if err != nil || len(recs) != 1 {
		t.Fatalf("stream: %d, %v", len(recs), err)
	}
	mustPut(t, e.c, "pigeon", avmap{"pk": sv("p"), "sk": sv("1"), "v": nv("1.5"), "l": lv(sv("a"))})
	if _, err := e.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("pigeon"), Key: keyOf("p", "1"),
		UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: avmap{":v": nv("1.5")}}); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if more, err := readStream(e.db, short, "pigeon", recs[0].Change.SequenceNumber, 10); err == nil {
		var names []string
		for _, r := range more {
			names = append(names, r.EventName)
		}
		t.Errorf("writes that changed nothing made stream records %v, want none", names)
	}
}

// TestEngineItemSizeLimit: 400 KB (409,600 bytes) per item, counted as DynamoDB documents it
// (attribute name lengths plus value sizes).
func TestEngineItemSizeLimit(t *testing.T) {
	ctx := context.Background()
	e := startEngine(t, t.TempDir(), dynamo.Options{})
	createTable(t, e.c, pigeonTable("pigeon", ""))
	// pk "p" and sk "s": 2+1 and 2+1 bytes; "big" 3 bytes plus its string.
	const overhead = 2 + 1 + 2 + 1 + 3
	fits := avmap{"pk": sv("p"), "sk": sv("s"), "big": sv(strings.Repeat("x", 400*1024-overhead))}
	if _, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("pigeon"), Item: fits}); err != nil {
		t.Errorf("item of exactly 400 KB: %v", err)
	}
	over := avmap{"pk": sv("p"), "sk": sv("t"), "big": sv(strings.Repeat("x", 400*1024-overhead+1))}
	if _, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("pigeon"), Item: over}); errCode(err) != "ValidationException" {
		t.Errorf("item of 400 KB + 1 byte: %v, want ValidationException", err)
	}
	if it := getItem(t, e.c, "pigeon", "p", "t"); it != nil {
		t.Errorf("oversized item was written")
	}
	// An update that grows an item past the limit fails and leaves it as it was.
	_, err := e.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("pigeon"), Key: keyOf("p", "s"),
		UpdateExpression: aws.String("SET more = :m"), ExpressionAttributeValues: avmap{":m": sv("yy")}})
	if errCode(err) != "ValidationException" {
		t.Errorf("update past 400 KB: %v, want ValidationException", err)
	}
	if it := getItem(t, e.c, "pigeon", "p", "s"); it["more"] != nil {
		t.Errorf("update past 400 KB was applied")
	}
	// In a transaction: cancelled with ValidationError ("Item size to update has exceeded the
	// maximum allowed size"), nothing written.
	_, err = e.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("pigeon"), Item: avmap{"pk": sv("p"), "sk": sv("u")}}},
		{Update: &types.Update{TableName: aws.String("pigeon"), Key: keyOf("p", "s"),
			UpdateExpression: aws.String("SET more = :m"), ExpressionAttributeValues: avmap{":m": sv("yy")}}},
	}})
	if got := reasonCodes(err); !slices.Equal(got, []string{"None", "ValidationError"}) {
		t.Errorf("transaction growing an item past 400 KB: %v (reasons %v), want TransactionCanceledException [None ValidationError]", err, got)
	}
	if it := getItem(t, e.c, "pigeon", "p", "u"); it != nil {
		t.Errorf("cancelled transaction wrote its put")
	}
}

// TestEngineKeyValidation: what DynamoDB refuses about keys, with its error codes.
func TestEngineKeyValidation(t *testing.T) {
	ctx := context.Background()
	e := startEngine(t, t.TempDir(), dynamo.Options{})
	createTable(t, e.c, pigeonTable("pigeon", ""))
	table := aws.String("pigeon")
	put := func(item avmap) error {
		_, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: item})
		return err
	}
	get := func(key avmap) error {
		_, err := e.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: key})
		return err
	}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"put without the sort key", put(avmap{"pk": sv("p")}), "ValidationException"},
		{"put with a number sort key", put(avmap{"pk": sv("p"), "sk": nv("1")}), "ValidationException"},
		{"put with an empty sort key", put(avmap{"pk": sv("p"), "sk": sv("")}), "ValidationException"},
		{"put with an empty partition key", put(avmap{"pk": sv(""), "sk": sv("s")}), "ValidationException"},
		{"put with a number GSI key", put(avmap{"pk": sv("p"), "sk": sv("s"), "gsi1pk": nv("1"), "gsi1sk": sv("x")}), "ValidationException"},
		{"put with an empty GSI key", put(avmap{"pk": sv("p"), "sk": sv("s"), "gsi1pk": sv("g"), "gsi1sk": sv("")}), "ValidationException"},
		{"put with a partition key of 2049 bytes", put(avmap{"pk": sv(strings.Repeat("p", 2049)), "sk": sv("s")}), "ValidationException"},
		{"put with a sort key of 1025 bytes", put(avmap{"pk": sv("p"), "sk": sv(strings.Repeat("s", 1025))}), "ValidationException"},
		{"put with a GSI partition key of 2049 bytes", put(avmap{"pk": sv("p"), "sk": sv("s"), "gsi1pk": sv(strings.Repeat("g", 2049)), "gsi1sk": sv("x")}), "ValidationException"},
		{"get with an extra key attribute", get(avmap{"pk": sv("p"), "sk": sv("s"), "x": sv("x")}), "ValidationException"},
		{"get without the sort key", get(avmap{"pk": sv("p")}), "ValidationException"},
		{"get with a binary partition key", get(avmap{"pk": &types.AttributeValueMemberB{Value: []byte("p")}, "sk": sv("s")}), "ValidationException"},
		{"get from a table that does not exist", func() error {
			_, err := e.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("nope"), Key: keyOf("p", "s")})
			return err
		}(), "ResourceNotFoundException"},
		{"update of a key attribute", func() error {
			_, err := e.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: table, Key: keyOf("p", "s"),
				UpdateExpression: aws.String("SET sk = :x"), ExpressionAttributeValues: avmap{":x": sv("t")}})
			return err
		}(), "ValidationException"},
		{"update that empties a GSI key", func() error {
			_, err := e.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: table, Key: keyOf("p", "s"),
				UpdateExpression: aws.String("SET gsi2pk = :x"), ExpressionAttributeValues: avmap{":x": sv("")}})
			return err
		}(), "ValidationException"},
		{"query with a number partition key value", func() error {
			_, err := e.c.Query(ctx, &dynamodb.QueryInput{TableName: table, KeyConditionExpression: aws.String("pk = :p"),
				ExpressionAttributeValues: avmap{":p": nv("1")}})
			return err
		}(), "ValidationException"},
		{"consistent query of a GSI", func() error {
			_, err := e.c.Query(ctx, &dynamodb.QueryInput{TableName: table, IndexName: aws.String("gsi1"), ConsistentRead: aws.Bool(true),
				KeyConditionExpression: aws.String("gsi1pk = :p"), ExpressionAttributeValues: avmap{":p": sv("g")}})
			return err
		}(), "ValidationException"},
		{"batch get with a duplicate key", func() error {
			_, err := e.c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				"pigeon": {Keys: []avmap{keyOf("p", "s"), keyOf("p", "s")}}}})
			return err
		}(), "ValidationException"},
		{"batch write with an empty GSI key", func() error {
			_, err := e.c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"pigeon": {
				{PutRequest: &types.PutRequest{Item: avmap{"pk": sv("p"), "sk": sv("ok")}}},
				{PutRequest: &types.PutRequest{Item: avmap{"pk": sv("p"), "sk": sv("bad"), "gsi3pk": sv("")}}},
			}}})
			return err
		}(), "ValidationException"},
	}
	for _, c := range cases {
		if got := errCode(c.err); got != c.want {
			t.Errorf("%s: %v, want %s", c.name, c.err, c.want)
		}
	}
	if items := scanAll(t, e.c, "pigeon"); len(items) != 0 {
		t.Errorf("refused writes left items: %s", render(items))
	}
}

// BenchmarkPutItem: parallel PutItems through the SDK (group commit shares the fsyncs).
func BenchmarkPutItem(b *testing.B) {
	e := startEngine(b, b.TempDir(), dynamo.Options{})
	createTable(b, e.c, pigeonTable("pigeon", types.StreamViewTypeNewImage))
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := e.c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("pigeon"), Item: benchItem(i)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkTransactWriteItems: parallel three-action transactions of the shape Pigeon's
// message delivery writes (two conditional puts and a condition check).
func BenchmarkTransactWriteItems(b *testing.B) {
	e := startEngine(b, b.TempDir(), dynamo.Options{})
	createTable(b, e.c, pigeonTable("pigeon", types.StreamViewTypeNewImage))
	mustPut(b, e.c, "pigeon", avmap{"pk": sv("inbox"), "sk": sv("inbox")})
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			thread := benchItem(i)
			thread["sk"] = sv("thread")
			_, err := e.c.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: aws.String("pigeon"), Item: benchItem(i), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
				{Put: &types.Put{TableName: aws.String("pigeon"), Item: thread, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
				{ConditionCheck: &types.ConditionCheck{TableName: aws.String("pigeon"), Key: keyOf("inbox", "inbox"),
					ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(deleting)")}},
			}})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPutItemWithStored: the cost of a put with n items already stored; it must not grow
// with n (minidyn's did: its transactions copy whole tables).
func BenchmarkPutItemWithStored(b *testing.B) {
	for _, stored := range []int{0, 10_000, 50_000} {
		b.Run(fmt.Sprintf("n=%d", stored), func(b *testing.B) {
			e := startEngine(b, b.TempDir(), dynamo.Options{})
			createTable(b, e.c, pigeonTable("pigeon", types.StreamViewTypeNewImage))
			preload(b, e.c, stored)
			var n atomic.Int64
			n.Store(int64(stored))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					if _, err := e.c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("pigeon"), Item: benchItem(i),
						ConditionExpression: aws.String("attribute_not_exists(pk)")}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// preload writes n items with BatchWriteItem, 25 a request, from 8 writers.
func preload(b *testing.B, c *dynamodb.Client, n int) {
	b.Helper()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				start := next.Add(25) - 25
				if start >= int64(n) {
					return
				}
				var reqs []types.WriteRequest
				for i := start; i < min(start+25, int64(n)); i++ {
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: benchItem(i)}})
				}
				if _, err := c.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{
					RequestItems: map[string][]types.WriteRequest{"pigeon": reqs}}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// benchItem is a message-like item of about 1 KB, in one of 100 inboxes, on two GSIs.
func benchItem(i int64) avmap {
	inbox := fmt.Sprintf("inbox#%02d", i%100)
	id := fmt.Sprintf("msg#%012d", i)
	return avmap{
		"pk": sv(inbox), "sk": sv(id),
		"gsi1pk": sv("thread#" + strconv.FormatInt(i/3, 10)), "gsi1sk": sv(id),
		"gsi2pk": sv(inbox + "#time"), "gsi2sk": sv(fmt.Sprintf("2026-01-01T00:00:%012d#%s", i, id)),
		"labels": lv(sv("inbox"), sv("unread")), "subject": sv("Hello " + id), "size": nv(strconv.FormatInt(i, 10)),
		"text": sv(strings.Repeat("lorem ipsum ", 70)),
	}
}

// TestEngineStreamRetention: records older than 24 hours are trimmed, and numbering never
// restarts below them, even when the trim left no record, the database was reopened, or the
// table was deleted and created again: a consumer's checkpoint must never skip a new record.
func TestEngineStreamRetention(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := newClock(time.Unix(1_700_000_000, 0))
	e := startEngine(t, dir, dynamo.Options{Now: clk.Now})
	createTable(t, e.c, pigeonTable("pigeon", types.StreamViewTypeNewImage))
	for _, sk := range []string{"1", "2", "3"} {
		mustPut(t, e.c, "pigeon", avmap{"pk": sv("p"), "sk": sv(sk)})
	}
	recs, err := readStream(e.db, ctx, "pigeon", "", 10)
	if err != nil || len(recs) != 3 {
		t.Fatalf("stream: %d records, %v", len(recs), err)
	}
	checkpoint := recs[2].Change.SequenceNumber
	clk.Advance(25 * time.Hour)
	if !eventually(5*time.Second, func() bool {
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := readStream(e.db, short, "pigeon", "", 10)
		return errors.Is(err, context.DeadlineExceeded) // no record left to read
	}) {
		t.Fatalf("records older than 24 hours still in the stream after 5 s")
	}
	if err := e.close(); err != nil {
		t.Fatal(err)
	}

	e = startEngine(t, dir, dynamo.Options{Now: clk.Now})
	mustPut(t, e.c, "pigeon", avmap{"pk": sv("p"), "sk": sv("4")})
	after := func(seq string) []string {
		t.Helper()
		short, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		recs, err := readStream(e.db, short, "pigeon", seq, 10)
		if err != nil {
			t.Fatalf("records after %s: %v", seq, err)
		}
		var out []string
		for _, r := range recs {
			out = append(out, r.Change.Keys["sk"].String())
			if seqOf(t, r.Change.SequenceNumber) <= seqOf(t, seq) {
				t.Errorf("record %s numbered %s, not above the checkpoint %s", out[len(out)-1], r.Change.SequenceNumber, seq)
			}
		}
		return out
	}
	if got := after(checkpoint); !slices.Equal(got, []string{"4"}) {
		t.Fatalf("after a trim that emptied the stream and a reopen, records after the checkpoint: %v, want [4]", got)
	}

	recs, err = readStream(e.db, ctx, "pigeon", checkpoint, 10)
	if err != nil || len(recs) != 1 {
		t.Fatalf("records after the checkpoint: %d, %v", len(recs), err)
	}
	checkpoint = recs[0].Change.SequenceNumber
	if _, err := e.c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("pigeon")}); err != nil {
		t.Fatal(err)
	}
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	e = startEngine(t, dir, dynamo.Options{Now: clk.Now})
	createTable(t, e.c, pigeonTable("pigeon", types.StreamViewTypeNewImage))
	mustPut(t, e.c, "pigeon", avmap{"pk": sv("p"), "sk": sv("5")})
	if got := after(checkpoint); !slices.Equal(got, []string{"5"}) {
		t.Fatalf("after deleting and creating the table again, records after the checkpoint: %v, want [5]", got)
	}
}

// TestEngineStreamTrimConsumed: with Options.TrimConsumed, a record goes at the next sweep
// once every named consumer has checkpointed past it, and not before.
func TestEngineStreamTrimConsumed(t *testing.T) {
	ctx := context.Background()
	e := startEngine(t, t.TempDir(), dynamo.Options{TrimConsumed: []string{"a", "b"}})
	createTable(t, e.c, pigeonTable("pigeon", types.StreamViewTypeNewImage))
	for _, sk := range []string{"1", "2", "3"} {
		mustPut(t, e.c, "pigeon", avmap{"pk": sv("p"), "sk": sv(sk)})
	}
	recs, err := readStream(e.db, ctx, "pigeon", "", 10)
	if err != nil || len(recs) != 3 {
		t.Fatalf("stream: %d records, %v", len(recs), err)
	}
	left := func() []string {
		recs, err := readStream(e.db, ctx, "pigeon", "", 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range recs {
			out = append(out, r.Change.Keys["sk"].String())
		}
		return out
	}
	if err := e.db.Checkpoint("a", "pigeon", recs[2].Change.SequenceNumber); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // two sweeps
	if got := left(); !slices.Equal(got, []string{"1", "2", "3"}) {
		t.Fatalf("with consumer b not yet started, records left %v, want all three", got)
	}
	if err := e.db.Checkpoint("b", "pigeon", recs[1].Change.SequenceNumber); err != nil {
		t.Fatal(err)
	}
	if !eventually(5*time.Second, func() bool { return slices.Equal(left(), []string{"3"}) }) {
		t.Fatalf("records left %v after both consumers passed the second, want [3]", left())
	}
	mustPut(t, e.c, "pigeon", avmap{"pk": sv("p"), "sk": sv("4")})
	if got := left(); !slices.Equal(got, []string{"3", "4"}) || seqOf(t, e.lastSeq(t)) != seqOf(t, recs[2].Change.SequenceNumber)+1 {
		t.Fatalf("records left %v, want [3 4] numbered on", got)
	}
}

func (e *engine) lastSeq(t *testing.T) string {
	t.Helper()
	recs, err := readStream(e.db, context.Background(), "pigeon", "", 100)
	if err != nil || len(recs) == 0 {
		t.Fatalf("stream: %d records, %v", len(recs), err)
	}
	return recs[len(recs)-1].Change.SequenceNumber
}
