package faults

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// State is what a run left behind: for each kind of thing ("table", "s3", "ses", "frames",
// "webhooks", …) its entries, normalised (Normalize) and sorted. Two runs that did the same
// have equal States whatever their clocks and random ids; a duplicate shows as an entry
// twice, a loss as one missing.
type State map[string][]string

// Add records entries under kind, normalised.
func (s State) Add(kind string, entries ...string) {
	for _, e := range entries {
		s[kind] = append(s[kind], Normalize(e))
	}
	slices.Sort(s[kind])
}

// Diff describes how got differs from want ("" when equal): per kind, the entries only one
// of them has (counted, so a duplicate is an extra entry).
func Diff(got, want State) string {
	var b strings.Builder
	var kinds []string
	for k := range want {
		kinds = append(kinds, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		left := map[string]int{}
		for _, e := range want[k] {
			left[e]++
		}
		var extra []string
		for _, e := range got[k] {
			if left[e] > 0 {
				left[e]--
				continue
			}
			extra = append(extra, e)
		}
		for _, e := range extra {
			fmt.Fprintf(&b, "%s: extra   %s\n", k, e)
		}
		for _, e := range want[k] {
			if left[e] > 0 {
				left[e]--
				fmt.Fprintf(&b, "%s: missing %s\n", k, e)
			}
		}
	}
	return b.String()
}

// What Normalize replaces: the values that differ between two runs doing the same thing.
// Order matters: SES ids contain hex runs, and dates come before bare numbers.
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	// RFC 3339 times (created_at, updated_at, timestamps in events and bodies).
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`), "<time>"},
	// RFC 5322 dates (Date headers of composed mail).
	{regexp.MustCompile(`(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}`), "<date>"},
	// SES message ids: 0100018c2f3a4b5c-1a2b3c4d-….
	{regexp.MustCompile(`[0-9a-f]{16}-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}-[0-9a-f]{6}`), "<ses-id>"},
	// UUIDs (SNS message ids, which delivery states remember as applied).
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), "<uuid>"},
	// ULIDs (event, thread, draft ids: evt_…, thr_…), lower-cased as Pigeon writes them.
	{regexp.MustCompile(`\b[0-9a-hjkmnp-tv-z]{26}\b`), "<ulid>"},
	{regexp.MustCompile(`\b[0-9A-HJKMNP-TV-Z]{26}\b`), "<ULID>"},
	// Random hex: composed Message-IDs, MIME boundaries, object names hashed from them,
	// signatures.
	{regexp.MustCompile(`[0-9a-f]{16,}`), "<hex>"},
	// Base64 runs of 24+ characters (webhook signatures, svix ids, SES/SNS ids).
	{regexp.MustCompile(`[A-Za-z0-9+/]{24,}={0,2}`), "<b64>"},
	// Loopback ports of the servers a run starts (webhook receivers, SES).
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:<port>"},
	// Epoch seconds and milliseconds (ttl, claimed_at, webhook timestamps).
	{regexp.MustCompile(`\b1\d{9}(\d{3})?\b`), "<epoch>"},
}

// Normalize replaces what legitimately differs between runs (times, dates, epoch numbers,
// ULIDs, SES ids, random hex and base64 runs, loopback ports) with placeholders. What stays is the shape and
// the content: the keys, the labels, the statuses, the texts, the counts.
func Normalize(s string) string {
	for _, v := range volatile {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}

// Table is every item of the table, each as JSON with sorted keys.
func Table(ctx context.Context, db *dynamodb.Client, table string) ([]string, error) {
	var out []string
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("faults: scan %s: %w", table, err)
		}
		for _, item := range page.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(item, &m); err != nil {
				return nil, err
			}
			sortStringLists(m)
			// An API key's last use is written in the background, best effort, by design.
			delete(m, "used_at")
			data, err := json.Marshal(m) // maps marshal with sorted keys
			if err != nil {
				return nil, err
			}
			out = append(out, string(data))
		}
	}
	return out, nil
}

// sortStringLists sorts every list of strings in v: lists that Pigeon fills from concurrent
// work (the connections a fanout marker records) have no order, and no list of strings in
// an item means anything by its order that a fault could change (labels are sets).
func sortStringLists(v any) {
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			sortStringLists(e)
		}
	case []string: // string sets
		slices.SortFunc(v, func(a, b string) int { return strings.Compare(Normalize(a), Normalize(b)) })
	case []any:
		strs := true
		for _, e := range v {
			_, ok := e.(string)
			strs = strs && ok
			sortStringLists(e)
		}
		if strs {
			slices.SortFunc(v, func(a, b any) int { return strings.Compare(Normalize(a.(string)), Normalize(b.(string))) })
		}
	}
}

// Objects is every object of the bucket as "key sha256" of its normalised content (a
// missing bucket has none).
func Objects(ctx context.Context, c *s3.Client, bucket string) ([]string, error) {
	var out []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if strings.Contains(err.Error(), "NoSuchBucket") {
				return nil, nil
			}
			return nil, fmt.Errorf("faults: list %s: %w", bucket, err)
		}
		for _, o := range page.Contents {
			obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				return nil, err
			}
			data, err := io.ReadAll(obj.Body)
			obj.Body.Close()
			if err != nil {
				return nil, err
			}
			sum := sha256.Sum256([]byte(Normalize(string(data))))
			out = append(out, aws.ToString(o.Key)+" "+hex.EncodeToString(sum[:6])) // short enough to survive Normalize
		}
	}
	return out, nil
}
