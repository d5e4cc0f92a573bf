package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

func TestInboxCreate(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()

	in, created, err := s.CreateInbox(ctx, "org", wire.Inbox{Email: "Agent@Example.ORG", DisplayName: "Agent", ClientID: "c1",
		Metadata: map[string]any{"team": "ops", "n": 3.0, "on": true}})
	if err != nil || !created {
		t.Fatalf("create = %v %v", created, err)
	}
	if in.InboxID != "agent@example.org" || in.Email != in.InboxID || in.PodID != DefaultPodID || in.CreatedAt.IsZero() {
		t.Fatalf("inbox = %+v", in)
	}
	got := must(s.GetInbox(ctx, "AGENT@example.org"))
	if got.OrgID != "org" || got.DisplayName != "Agent" || got.Metadata["n"] != 3.0 || got.Metadata["on"] != true || !got.CreatedAt.Equal(in.CreatedAt) {
		t.Fatalf("get = %+v", got)
	}

	// Same client_id: the existing inbox, whatever else the request says.
	again, created, err := s.CreateInbox(ctx, "org", wire.Inbox{Email: "other@example.org", ClientID: "c1"})
	if err != nil || created || again.InboxID != in.InboxID {
		t.Fatalf("same client_id = %+v %v %v", again, created, err)
	}
	// Same address, other or no client_id: taken.
	_, _, err = s.CreateInbox(ctx, "org", wire.Inbox{Email: "agent@example.org", ClientID: "c2"})
	wantErr(t, err, ErrTaken)
	_, _, err = s.CreateInbox(ctx, "org", wire.Inbox{Email: "AGENT@example.org"})
	wantErr(t, err, ErrTaken)
	// Unknown pod.
	_, _, err = s.CreateInbox(ctx, "org", wire.Inbox{Email: "p@example.org", PodID: "nope"})
	wantErr(t, err, ErrNotFound)
}

func TestInboxUpdateAndDelete(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	in, _, err := s.CreateInbox(ctx, "org", wire.Inbox{Email: "a@x.org", ClientID: "c", Metadata: map[string]any{"a": "1", "b": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	name := "New name"
	up, err := s.UpdateInbox(ctx, in.InboxID, InboxUpdate{DisplayName: &name, Metadata: map[string]any{"a": nil, "c": 3.0}})
	if err != nil {
		t.Fatal(err)
	}
	if up.DisplayName != name || len(up.Metadata) != 2 || up.Metadata["b"] != "2" || up.Metadata["c"] != 3.0 || !up.UpdatedAt.After(in.UpdatedAt) {
		t.Fatalf("updated = %+v", up)
	}
	up, err = s.UpdateInbox(ctx, in.InboxID, InboxUpdate{ClearMetadata: true})
	if err != nil || up.Metadata != nil || up.DisplayName != name {
		t.Fatalf("cleared = %+v %v", up, err)
	}
	if got := must(s.GetInbox(ctx, in.InboxID)); got.Metadata != nil || got.DisplayName != name {
		t.Fatalf("stored = %+v", got)
	}
	_, err = s.UpdateInbox(ctx, "nobody@x.org", InboxUpdate{DisplayName: &name})
	wantErr(t, err, ErrNotFound)

	if err := s.DeleteInbox(ctx, in.InboxID); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetInbox(ctx, in.InboxID)
	wantErr(t, err, ErrNotFound)
	wantErr(t, s.DeleteInbox(ctx, in.InboxID), ErrNotFound)
	if list, _, _ := s.ListInboxes(ctx, "org", "", Page{}); len(list) != 0 {
		t.Fatalf("list after delete = %+v", list)
	}
	// Address and client_id are free again.
	if _, created, err := s.CreateInbox(ctx, "org", wire.Inbox{Email: "a@x.org", ClientID: "c"}); err != nil || !created {
		t.Fatalf("recreate = %v %v", created, err)
	}
}

func ids(list []wire.Inbox) []string {
	out := make([]string, len(list))
	for i, in := range list {
		out[i] = strings.TrimSuffix(in.InboxID, "@x.org")
	}
	return out
}

// Pages of 2 through 5 inboxes, both directions; tokens are bound to their list.
func TestInboxPagination(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	pod, _, _ := s.CreatePod(ctx, "org", wire.Pod{Name: "p"})
	for i := range 5 {
		if _, _, err := s.CreateInbox(ctx, "org", wire.Inbox{Email: fmt.Sprintf("i%d@x.org", i), PodID: pod.PodID}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.CreateInbox(ctx, "org", wire.Inbox{Email: "other@x.org"}); err != nil {
		t.Fatal(err)
	}
	walk := func(podID string, asc bool) ([]string, []string) {
		var all, tokens []string
		pg := Page{Limit: 2, Ascending: asc}
		for {
			list, next, err := s.ListInboxes(ctx, "org", podID, pg)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, ids(list)...)
			if next == "" {
				return all, tokens
			}
			tokens = append(tokens, next)
			pg.Token = next
		}
	}
	desc, tokens := walk(pod.PodID, false)
	if want := []string{"i4", "i3", "i2", "i1", "i0"}; !slices.Equal(desc, want) {
		t.Fatalf("descending = %v, want %v", desc, want)
	}
	asc, _ := walk(pod.PodID, true)
	if want := []string{"i0", "i1", "i2", "i3", "i4"}; !slices.Equal(asc, want) {
		t.Fatalf("ascending = %v, want %v", asc, want)
	}
	org, _ := walk("", false)
	if want := []string{"other", "i4", "i3", "i2", "i1", "i0"}; !slices.Equal(org, want) {
		t.Fatalf("organisation = %v, want %v", org, want)
	}

	tok := tokens[0]
	for name, pg := range map[string]Page{
		"tampered":     {Limit: 2, Token: tok[:len(tok)-2] + "AA"},
		"garbage":      {Limit: 2, Token: "not-a-token"},
		"other order":  {Limit: 2, Token: tok, Ascending: true},
		"other filter": {Limit: 2, Token: tok, Labels: []string{"x"}},
		"truncated":    {Limit: 2, Token: tok[:len(tok)-8]},
	} {
		if _, _, err := s.ListInboxes(ctx, "org", pod.PodID, pg); !errors.Is(err, ErrBadPageToken) {
			t.Errorf("%s token: err = %v, want ErrBadPageToken", name, err)
		}
	}
	// A token of the pod list is no good for the organisation list.
	_, _, err := s.ListInboxes(ctx, "org", "", Page{Limit: 2, Token: tok})
	wantErr(t, err, ErrBadPageToken)
	// A different limit with the same token is fine.
	if list, _, err := s.ListInboxes(ctx, "org", pod.PodID, Page{Limit: 10, Token: tok}); err != nil || len(list) != 3 {
		t.Fatalf("limit change = %v %v", ids(list), err)
	}
}
