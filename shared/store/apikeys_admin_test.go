package store

import (
	"context"
	"reflect"
	"testing"
)

func TestUpdateAPIKey(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	k := APIKey{APIKeyID: "ak_1", Name: "one", Prefix: "am_1", Hash: "h1", OrgID: "org", PodID: "pod1"}
	if err := s.PutAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	name := "renamed"
	got, err := s.UpdateAPIKey(ctx, "ak_1", APIKeyUpdate{Name: &name})
	if err != nil || got.Name != name || got.Permissions != nil || !got.UpdatedAt.After(got.CreatedAt) {
		t.Fatalf("rename = %+v %v", got, err)
	}
	got, err = s.UpdateAPIKey(ctx, "ak_1", APIKeyUpdate{Permissions: map[string]bool{}})
	if err != nil || got.Permissions == nil || len(got.Permissions) != 0 || got.Name != name {
		t.Fatalf("no permissions = %+v %v", got, err)
	}
	byHash := must(s.APIKeyByHash(ctx, "h1"))
	if byHash.Name != name || byHash.Permissions == nil || len(byHash.Permissions) != 0 {
		t.Fatalf("by-hash copy = %+v", byHash)
	}
	perms := map[string]bool{"inbox_read": true}
	if _, err := s.UpdateAPIKey(ctx, "ak_1", APIKeyUpdate{Permissions: perms}); err != nil {
		t.Fatal(err)
	}
	if got := must(s.APIKeyByHash(ctx, "h1")); !reflect.DeepEqual(got.Permissions, perms) {
		t.Fatalf("permissions = %v", got.Permissions)
	}
	_, err = s.UpdateAPIKey(ctx, "ak_nope", APIKeyUpdate{Name: &name})
	wantErr(t, err, ErrNotFound)
}

func TestListAndDeleteScopedAPIKeys(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	for _, k := range []APIKey{
		{APIKeyID: "ak_org", Hash: "h0", OrgID: "org"},
		{APIKeyID: "ak_pod", Hash: "h1", OrgID: "org", PodID: "pod1"},
		{APIKeyID: "ak_in1", Hash: "h2", OrgID: "org", PodID: "pod1", InboxID: "a@x.org"},
		{APIKeyID: "ak_in2", Hash: "h3", OrgID: "org", PodID: "pod1", InboxID: "b@x.org"},
		{APIKeyID: "ak_pod2", Hash: "h4", OrgID: "org", PodID: "pod2"},
	} {
		if err := s.PutAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(podID, inboxID string) []string {
		ks, _, err := s.ListAPIKeys(ctx, "org", podID, inboxID, Page{Ascending: true})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range ks {
			out = append(out, k.APIKeyID)
		}
		return out
	}
	if got := ids("pod1", ""); !reflect.DeepEqual(got, []string{"ak_pod", "ak_in1", "ak_in2"}) {
		t.Fatalf("pod1 keys = %v", got)
	}
	if got := ids("pod1", "a@x.org"); !reflect.DeepEqual(got, []string{"ak_in1"}) {
		t.Fatalf("inbox keys = %v", got)
	}
	if err := s.DeleteAPIKeysOf(ctx, "org", "", "a@x.org"); err != nil {
		t.Fatal(err)
	}
	_, err := s.APIKeyByHash(ctx, "h2")
	wantErr(t, err, ErrNotFound)
	if err := s.DeleteAPIKeysOf(ctx, "org", "pod1", ""); err != nil {
		t.Fatal(err)
	}
	if got := ids("", ""); !reflect.DeepEqual(got, []string{"ak_org", "ak_pod2"}) {
		t.Fatalf("left = %v", got)
	}
}
