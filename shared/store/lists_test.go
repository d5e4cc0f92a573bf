package store

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/pigeon-mail/pigeon/shared/lists"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

func TestListEntries(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	org := Scope{OrgID: "org"}
	inbox := Scope{OrgID: "org", PodID: "pod1", InboxID: "a@x.org"}

	e, created, err := s.CreateListEntry(ctx, org, wire.ListEntry{Entry: " Spam@Example.COM ", Direction: "receive", ListType: "block", Reason: "spam"})
	if err != nil || !created {
		t.Fatal(created, err)
	}
	if e.Entry != "spam@example.com" || e.EntryType != "email" || e.OrganizationID != "org" || e.PodID != "" || e.CreatedAt.IsZero() || e.Reason != "spam" {
		t.Fatalf("created %+v", e)
	}
	again, created, err := s.CreateListEntry(ctx, org, wire.ListEntry{Entry: "spam@example.com", Direction: "receive", ListType: "block", Reason: "other"})
	if err != nil || created || again != e {
		t.Fatalf("repeat = %+v %v %v, want the first entry", again, created, err)
	}
	in, _, err := s.CreateListEntry(ctx, inbox, wire.ListEntry{Entry: "example.com", Direction: "receive", ListType: "allow"})
	if err != nil || in.PodID != "pod1" || in.InboxID != "a@x.org" || in.EntryType != "domain" {
		t.Fatalf("inbox entry %+v %v", in, err)
	}
	if _, _, err := s.CreateListEntry(ctx, org, wire.ListEntry{Entry: "not an address", Direction: "receive", ListType: "block"}); !errors.Is(err, lists.ErrInvalidEntry) {
		t.Fatalf("invalid entry: %v", err)
	}
	if _, _, err := s.CreateListEntry(ctx, org, wire.ListEntry{Entry: "a.com", Direction: "forward", ListType: "block"}); err == nil {
		t.Fatal("unknown direction accepted")
	}

	got, err := s.GetListEntry(ctx, org, "receive", "block", "SPAM@example.com")
	if err != nil || got != e {
		t.Fatalf("get = %+v %v", got, err)
	}
	for _, miss := range []struct {
		sc              Scope
		dir, typ, entry string
	}{
		{org, "receive", "allow", "spam@example.com"}, {org, "send", "block", "spam@example.com"},
		{inbox, "receive", "block", "spam@example.com"}, {org, "receive", "block", "%%%"},
	} {
		_, err := s.GetListEntry(ctx, miss.sc, miss.dir, miss.typ, miss.entry)
		wantErr(t, err, ErrNotFound)
	}

	// Pages in entry order.
	for i := range 5 {
		if _, _, err := s.CreateListEntry(ctx, org, wire.ListEntry{Entry: fmt.Sprintf("d%d.example", 4-i), Direction: "send", ListType: "allow"}); err != nil {
			t.Fatal(err)
		}
	}
	var all []string
	pg := Page{Limit: 2}
	for {
		es, next, err := s.ListListEntries(ctx, org, "send", "allow", pg)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			all = append(all, e.Entry)
		}
		if next == "" {
			break
		}
		pg.Token = next
	}
	if fmt.Sprint(all) != "[d0.example d1.example d2.example d3.example d4.example]" {
		t.Fatalf("paged = %v", all)
	}
	if _, _, err := s.ListListEntries(ctx, org, "send", "block", pg); !errors.Is(err, ErrBadPageToken) {
		t.Fatalf("token of another list: %v", err)
	}

	if err := s.DeleteListEntry(ctx, org, "receive", "block", "Spam@Example.com"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DeleteListEntry(ctx, org, "receive", "block", "spam@example.com"), ErrNotFound)
	_, err = s.GetListEntry(ctx, org, "receive", "block", "spam@example.com")
	wantErr(t, err, ErrNotFound)
}

func TestCheckList(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	org := Scope{OrgID: "org"}
	pod := Scope{OrgID: "org", PodID: "pod1"}
	inbox := Scope{OrgID: "org", PodID: "pod1", InboxID: "a@x.org"}
	add := func(sc Scope, dir, typ, entry string) {
		t.Helper()
		if _, _, err := s.CreateListEntry(ctx, sc, wire.ListEntry{Entry: entry, Direction: dir, ListType: typ}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(podID, inboxID, dir, addr string, allowed bool, by string) {
		t.Helper()
		d, err := s.CheckList(ctx, "org", podID, inboxID, dir, addr)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if d.Entry != nil {
			got = d.Entry.Entry
		}
		if d.Allowed != allowed || got != by {
			t.Errorf("CheckList(%s %s %s %s) = %v by %q, want %v by %q", podID, inboxID, dir, addr, d.Allowed, got, allowed, by)
		}
	}
	check("pod1", "a@x.org", "receive", "x@example.com", true, "")

	add(org, "receive", "block", "example.com")
	add(pod, "receive", "allow", "friend@example.com")
	add(inbox, "receive", "block", "friend@example.com")
	check("pod1", "a@x.org", "receive", "Joe <joe@mail.example.com>", false, "example.com")
	check("pod1", "a@x.org", "receive", "friend@example.com", false, "friend@example.com") // inbox beats pod
	check("pod1", "b@x.org", "receive", "friend@example.com", true, "friend@example.com")  // another inbox of pod1
	check("pod2", "", "receive", "friend@example.com", false, "example.com")               // another pod
	check("pod1", "a@x.org", "send", "joe@example.com", true, "")                          // another direction

	// An allow entry at any scope turns on allow-list mode for the scopes below it, even when
	// it does not match; deleting it turns it off again.
	check("pod1", "a@x.org", "receive", "joe@other.org", false, "")
	check("pod2", "c@x.org", "receive", "joe@other.org", true, "")
	if err := s.DeleteListEntry(ctx, pod, "receive", "allow", "friend@example.com"); err != nil {
		t.Fatal(err)
	}
	check("pod1", "a@x.org", "receive", "joe@other.org", true, "")
	check("pod1", "b@x.org", "receive", "friend@example.com", false, "example.com")

	// A repeated create does not count an allow entry twice.
	add(org, "send", "allow", "partner.com")
	add(org, "send", "allow", "partner.com")
	check("", "", "send", "a@partner.com", true, "partner.com")
	check("", "", "send", "a@elsewhere.com", false, "")
	if err := s.DeleteListEntry(ctx, org, "send", "allow", "partner.com"); err != nil {
		t.Fatal(err)
	}
	check("", "", "send", "a@elsewhere.com", true, "")

	if _, err := s.CheckList(ctx, "org", "", "", "forward", "a@b.c"); err == nil {
		t.Fatal("unknown direction accepted")
	}
	check("pod1", "a@x.org", "receive", "", true, "")
	deep := "x@" + "a.b.c.d.e.f.g.h.i.j.k.l.m.example.com"
	check("pod1", "a@x.org", "receive", deep, false, "example.com")
}

func TestAddSuppression(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if err := s.AddSuppression(ctx, "org", "Bounce <Gone@Example.com>", "hard bounce", "<m1@x>"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSuppression(ctx, "org", "gone@example.com", "complaint", "<m2@x>"); err != nil {
		t.Fatal(err)
	}
	e, err := s.GetListEntry(ctx, Scope{OrgID: "org"}, "send", "block", "gone@example.com")
	if err != nil || e.Reason != "hard bounce" || e.ReadOnly || e.EntryType != "email" {
		t.Fatalf("suppression entry %+v %v", e, err)
	}
	d, err := s.CheckList(ctx, "org", "pod", "a@x.org", "send", "gone@example.com")
	if err != nil || d.Allowed {
		t.Fatalf("suppressed address allowed: %+v %v", d, err)
	}
	if err := s.AddSuppression(ctx, "org", "not an address", "", ""); !errors.Is(err, lists.ErrInvalidEntry) {
		t.Fatalf("invalid address: %v", err)
	}
}

func TestDeleteListsOf(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	inbox := Scope{OrgID: "org", PodID: "pod1", InboxID: "a@x.org"}
	other := Scope{OrgID: "org", PodID: "pod1", InboxID: "b@x.org"}
	for _, sc := range []Scope{inbox, other} {
		for _, e := range []wire.ListEntry{
			{Entry: "a.com", Direction: "send", ListType: "allow"},
			{Entry: "b.com", Direction: "receive", ListType: "block"},
		} {
			if _, _, err := s.CreateListEntry(ctx, sc, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.DeleteListsOf(ctx, "", "a@x.org"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		inbox   string
		allowed bool
	}{{"a@x.org", true}, {"b@x.org", false}} {
		d, err := s.CheckList(ctx, "org", "pod1", c.inbox, "send", "z@z.com")
		if err != nil || d.Allowed != c.allowed {
			t.Errorf("%s: %+v %v, want allowed %v", c.inbox, d, err, c.allowed)
		}
	}
	if es, _, err := s.ListListEntries(ctx, inbox, "receive", "block", Page{}); err != nil || len(es) != 0 {
		t.Fatalf("left: %v %v", es, err)
	}
}
