package store

import (
	"context"
	"reflect"
	"testing"
	"time"
)

func TestAPIKeyRoundTrip(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	used := time.Date(2025, 2, 3, 4, 5, 6, 0, time.UTC)
	keys := []APIKey{
		{APIKeyID: "ak_all", Name: "all", Prefix: "am_abc", Hash: "h1", OrgID: "org"},
		{APIKeyID: "ak_none", Name: "none", Prefix: "am_def", Hash: "h2", OrgID: "org", PodID: "pod1", Permissions: map[string]bool{}},
		{APIKeyID: "ak_some", Name: "some", Prefix: "am_ghi", Hash: "h3", OrgID: "org", InboxID: "a@x.org",
			Permissions: map[string]bool{"message_read": true, "message_send": false}, UsedAt: &used},
	}
	for _, k := range keys {
		if err := s.PutAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range keys {
		got, err := s.APIKeyByHash(ctx, k.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if got.APIKeyID != k.APIKeyID || got.PodID != k.PodID || got.InboxID != k.InboxID || !reflect.DeepEqual(got.Permissions, k.Permissions) {
			t.Errorf("by hash %s = %+v, want %+v", k.Hash, got, k)
		}
		if (got.Permissions == nil) != (k.Permissions == nil) {
			t.Errorf("%s: nil permissions (= all) and empty permissions (= none) must stay apart", k.APIKeyID)
		}
		if (got.UsedAt == nil) != (k.UsedAt == nil) || got.CreatedAt.IsZero() {
			t.Errorf("%s: times = %v %v", k.APIKeyID, got.UsedAt, got.CreatedAt)
		}
	}
	_, err := s.APIKeyByHash(ctx, "nope")
	wantErr(t, err, ErrNotFound)

	all, next, err := s.ListAPIKeys(ctx, "org", "", "", Page{})
	if err != nil || next != "" || len(all) != 3 || all[0].APIKeyID != "ak_some" {
		t.Fatalf("org keys = %v %q %v", all, next, err)
	}
	pod, _, err := s.ListAPIKeys(ctx, "org", "pod1", "", Page{})
	if err != nil || len(pod) != 1 || pod[0].APIKeyID != "ak_none" {
		t.Fatalf("pod keys = %v %v", pod, err)
	}

	// Replacing a key with a new secret drops the old hash.
	k := keys[0]
	k.Hash, k.Name = "h1b", "renamed"
	if err := s.PutAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	_, err = s.APIKeyByHash(ctx, "h1")
	wantErr(t, err, ErrNotFound)
	if got := must(s.APIKeyByHash(ctx, "h1b")); got.Name != "renamed" {
		t.Errorf("replaced key = %+v", got)
	}
	if err := s.TouchAPIKey(ctx, k, used); err != nil {
		t.Fatal(err)
	}
	if got := must(s.APIKeyByHash(ctx, "h1b")); got.UsedAt == nil || !got.UsedAt.Equal(used) {
		t.Errorf("used_at = %v", got.UsedAt)
	}
	if err := s.DeleteAPIKey(ctx, "ak_all"); err != nil {
		t.Fatal(err)
	}
	_, err = s.APIKeyByHash(ctx, "h1b")
	wantErr(t, err, ErrNotFound)
	_, err = s.GetAPIKey(ctx, "ak_all")
	wantErr(t, err, ErrNotFound)
}
