package thread

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestAncestors(t *testing.T) {
	tests := []struct {
		inReplyTo string
		refs      []string
		want      []string
	}{
		{"", nil, nil},
		{"<p@X.org>", []string{"<a@x.org>", "<b@x.org>", "<p@x.org>"}, []string{"<p@x.org>", "<b@x.org>", "<a@x.org>"}},
		{"", []string{"<a@x.org>", "< b@x.org >"}, []string{"<b@x.org>", "<a@x.org>"}},
		{"Your message of Monday <p@x.org>", nil, []string{"<p@x.org>"}},
	}
	for _, tt := range tests {
		if got := Ancestors(tt.inReplyTo, tt.refs); !slices.Equal(got, tt.want) {
			t.Errorf("Ancestors(%q, %q) = %q, want %q", tt.inReplyTo, tt.refs, got, tt.want)
		}
	}
	var many []string
	for i := range 3 * MaxLookups {
		many = append(many, fmt.Sprintf("<%d@x.org>", i))
	}
	got := Ancestors("", many)
	if len(got) != MaxLookups || got[0] != many[len(many)-1] {
		t.Errorf("long References: %d ids starting %s", len(got), got[0])
	}
}

func TestFind(t *testing.T) {
	known := map[string]string{"<a@x.org>": "thr_a", "<b@x.org>": "thr_b"}
	lookup := func(_ context.Context, ids []string) (map[string]string, error) {
		out := map[string]string{}
		for _, id := range ids {
			if th, ok := known[id]; ok {
				out[id] = th
			}
		}
		return out, nil
	}
	tests := []struct {
		inReplyTo string
		refs      []string
		want      string
	}{
		{"<b@X.ORG>", []string{"<a@x.org>"}, "thr_b"},                    // In-Reply-To first
		{"<unknown@x.org>", []string{"<a@x.org>", "<b@x.org>"}, "thr_b"}, // then the latest reference
		{"", []string{"<a@x.org>", "<zz@x.org>"}, "thr_a"},
		{"<zz@x.org>", nil, ""},
		{"", nil, ""},
	}
	for _, tt := range tests {
		got, err := Find(context.Background(), lookup, tt.inReplyTo, tt.refs)
		if err != nil || got != tt.want {
			t.Errorf("Find(%q, %q) = %q, %v; want %q", tt.inReplyTo, tt.refs, got, err, tt.want)
		}
	}
	boom := errors.New("boom")
	if _, err := Find(context.Background(), func(context.Context, []string) (map[string]string, error) { return nil, boom }, "<a@x.org>", nil); !errors.Is(err, boom) {
		t.Errorf("lookup error = %v", err)
	}
	if id := NewID(); !strings.HasPrefix(id, "thr_") || len(id) != 30 || id != strings.ToLower(id) {
		t.Errorf("NewID() = %q", id)
	}
}
