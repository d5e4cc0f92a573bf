package httpapi

import (
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/store"
)

// Page sizes. AgentMail does not state a default or a maximum for plain lists; Pigeon uses the cap it
// documents for filtered lists and searches everywhere.
const (
	defaultLimit = 50
	maxLimit     = 100
	// maxPageToken bounds page_token; real tokens are a few hundred bytes.
	maxPageToken = 2048
)

// listPage reads the common list parameters: limit (1..100, default 50), page_token,
// ascending, before and after. Unknown parameters are ignored.
func listPage(q url.Values) (store.Page, error) {
	var pg store.Page
	var err error
	if pg.Limit, err = limitParam(q, defaultLimit, maxLimit); err != nil {
		return pg, err
	}
	if pg.Token = q.Get("page_token"); len(pg.Token) > maxPageToken {
		return pg, invalid("page_token", "page_token is not valid for this list")
	}
	if pg.Ascending, err = boolParam(q, "ascending"); err != nil {
		return pg, err
	}
	if pg.Before, err = timeParam(q, "before"); err != nil {
		return pg, err
	}
	if pg.After, err = timeParam(q, "after"); err != nil {
		return pg, err
	}
	return pg, nil
}

// limitParam reads limit: an integer in 1..max, def when absent.
func limitParam(q url.Values, def, max int) (int, error) {
	v := strings.TrimSpace(q.Get("limit"))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, invalid("limit", "limit must be an integer from 1 to %d", max)
	}
	return n, nil
}

// boolParam reads a boolean parameter (`true`/`false`, as the SDKs send; also 1/0); absent is false.
func boolParam(q url.Values, name string) (bool, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, invalid(name, "%s must be true or false", name)
	}
	return b, nil
}

// timeLayouts are the ISO-8601 forms accepted for before/after. The SDKs send
// Date.toISOString() (`2025-01-02T03:04:05.000Z`); a time without a zone is taken as UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"}

// timeParam reads an ISO-8601 timestamp parameter; absent is nil.
func timeParam(q url.Values, name string) (*time.Time, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return nil, nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, invalid(name, "%s must be an ISO-8601 timestamp such as 2025-01-02T03:04:05.000Z", name)
}

// arrayParam reads an array-valued parameter in any of the three encodings the SDKs use:
// one value that is a JSON array (TypeScript, recent Python),
// repeated keys (older Python), or comma-joined values (Go). `name[]` keys count too.
func arrayParam(q url.Values, name string) ([]string, error) {
	values := append(append([]string(nil), q[name]...), q[name+"[]"]...)
	if len(values) == 1 && strings.HasPrefix(strings.TrimSpace(values[0]), "[") {
		var items []string
		if err := json.Unmarshal([]byte(values[0]), &items); err != nil {
			return nil, invalid(name, "%s must be a JSON array of strings, repeated values or a comma-separated list", name)
		}
		return compact(items), nil
	}
	var items []string
	for _, v := range values {
		items = append(items, strings.Split(v, ",")...)
	}
	return compact(items), nil
}

// compact trims items and drops empty ones.
func compact(items []string) []string {
	out := items[:0]
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// filteredPage reads a message or thread list's parameters: listPage's plus labels[] (all must
// be present) and include_spam / include_blocked / include_unauthenticated / include_trash.
// Those four labels are excluded unless the matching include_* is true (or the label is asked
// for in labels) and the key holds the matching label_*_read permission.
//
// substringFilters names, per query parameter, the attributes its values are looked for in
// (case-insensitive substrings; every value of every parameter must match).
func filteredPage(q url.Values, p auth.Principal, substringFilters map[string][]string) (store.Page, error) {
	pg, err := listPage(q)
	if err != nil {
		return pg, err
	}
	for _, name := range slices.Sorted(maps.Keys(substringFilters)) {
		vs, err := arrayParam(q, name)
		if err != nil {
			return pg, err
		}
		for _, v := range vs {
			if len(v) > maxSubstringFilter {
				return pg, invalid(name, "%s filters are at most %d characters", name, maxSubstringFilter)
			}
			pg.Contains = append(pg.Contains, store.Substring{Attributes: substringFilters[name], Value: v})
		}
	}
	if len(pg.Contains) > maxSubstringFilters {
		return pg, invalid("", "at most %d substring filter values", maxSubstringFilters)
	}
	labels, err := arrayParam(q, "labels")
	if err != nil {
		return pg, err
	}
	for i, l := range labels {
		labels[i] = strings.ToLower(l)
	}
	pg.Labels = labels
	for _, h := range hiddenLabels {
		include, err := boolParam(q, h.param)
		if err != nil {
			return pg, err
		}
		asked := include || contains(labels, h.label)
		if !asked || !p.Can(h.perm) {
			pg.ExcludeLabels = append(pg.ExcludeLabels, h.label)
		}
	}
	return pg, nil
}

// Limits of the substring filters of message and thread lists.
const (
	maxSubstringFilter  = 256
	maxSubstringFilters = 20
)

// Substring filters of message and thread lists: query parameter → attributes searched.
var (
	messageFilters = map[string][]string{"from": {"from"}, "to": {"to", "cc", "bcc"}, "subject": {"subject"}}
	threadFilters  = map[string][]string{"senders": {"senders"}, "recipients": {"recipients"}, "subject": {"subject"}}
)

func contains(items []string, s string) bool {
	for _, it := range items {
		if it == s {
			return true
		}
	}
	return false
}
