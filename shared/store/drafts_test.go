package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/mail"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

func draftInbox(t *testing.T, s *Store, addr, pod string) InboxRecord {
	t.Helper()
	ctx := context.Background()
	if pod != "" {
		if _, _, err := s.CreatePod(ctx, "org", wire.Pod{PodID: pod, Name: pod}); err != nil && !errors.Is(err, ErrTaken) {
			t.Fatal(err)
		}
	}
	if _, _, err := s.CreateInbox(ctx, "org", wire.Inbox{Email: addr, PodID: pod}); err != nil {
		t.Fatal(err)
	}
	return must(s.GetInbox(ctx, addr))
}

func draftIDs(items []wire.DraftItem) []string {
	var ids []string
	for _, it := range items {
		ids = append(ids, it.DraftID)
	}
	return ids
}

func TestDraftCRUD(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	a := draftInbox(t, s, "a@x.org", "p1")
	b := draftInbox(t, s, "b@x.org", "p2")

	d1, created, err := s.CreateDraft(ctx, a, wire.Draft{To: []string{"bob@example.com"}, Subject: "One", Text: "hi", Labels: []string{"todo"}},
		[]mail.Attachment{{Attachment: wire.Attachment{Filename: "a.txt", ContentType: "text/plain"}, Content: []byte("hello")}})
	if err != nil || !created {
		t.Fatalf("create = %v %v", created, err)
	}
	if !strings.HasPrefix(d1.DraftID, "drf_") || d1.InboxID != a.InboxID || d1.CreatedAt.IsZero() || d1.SendStatus != "" {
		t.Fatalf("draft = %+v", d1)
	}
	if len(d1.Attachments) != 1 || d1.Attachments[0].Size != 5 || !strings.HasPrefix(d1.Attachments[0].AttachmentID, "att_") {
		t.Fatalf("attachments = %+v", d1.Attachments)
	}
	key := d1.AttachmentKeys[d1.Attachments[0].AttachmentID]
	if !strings.HasPrefix(key, "att/a@x.org/") || string(must(s.Blobs().Get(ctx, key))) != "hello" {
		t.Fatalf("attachment key %q", key)
	}
	d2 := mustDraft(s.CreateDraft(ctx, a, wire.Draft{Subject: "Two"}, nil))
	d3 := mustDraft(s.CreateDraft(ctx, b, wire.Draft{Subject: "Three", Text: strings.Repeat("long ", InlineBodyLimit/4)}, nil))

	got := must(s.GetDraft(ctx, "B@x.org", d3.DraftID))
	if got.Text != d3.Text || got.Labels == nil {
		t.Fatalf("large body not read back: %d bytes", len(got.Text))
	}
	_, err = s.GetDraft(ctx, b.InboxID, d1.DraftID)
	wantErr(t, err, ErrNotFound)
	_, err = s.GetDraft(ctx, a.InboxID, "drf_nope")
	wantErr(t, err, ErrNotFound)
	if found := must(s.FindDraft(ctx, d2.DraftID)); found.InboxID != a.InboxID || found.Subject != "Two" {
		t.Fatalf("find = %+v", found)
	}

	list := func(sc Scope, pg Page) []string {
		t.Helper()
		items, _, err := s.ListDrafts(ctx, sc, pg)
		if err != nil {
			t.Fatal(err)
		}
		return draftIDs(items)
	}
	if got := list(Scope{OrgID: "org"}, Page{}); strings.Join(got, ",") != strings.Join([]string{d3.DraftID, d2.DraftID, d1.DraftID}, ",") {
		t.Fatalf("org list = %v", got)
	}
	if got := list(Scope{OrgID: "org", PodID: "p2"}, Page{}); len(got) != 1 || got[0] != d3.DraftID {
		t.Fatalf("pod list = %v", got)
	}
	if got := list(Scope{OrgID: "org", InboxID: a.InboxID}, Page{Labels: []string{"todo"}}); len(got) != 1 || got[0] != d1.DraftID {
		t.Fatalf("labelled list = %v", got)
	}

	// An update moves the draft up and may change anything but its kind.
	up, err := s.UpdateDraft(ctx, a.InboxID, d1.DraftID,
		[]mail.Attachment{{Attachment: wire.Attachment{Filename: "b.bin"}, Content: []byte("12345678")}},
		func(d *DraftRecord) error {
			d.Subject, d.Cc = "One, again", []string{"carol@example.com"}
			d.Attachments = d.Attachments[1:] // drop a.txt
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if up.Subject != "One, again" || len(up.Attachments) != 1 || up.Attachments[0].Filename != "b.bin" || len(up.AttachmentKeys) != 1 || !up.UpdatedAt.After(d1.UpdatedAt) {
		t.Fatalf("updated = %+v", up)
	}
	if got := list(Scope{OrgID: "org", InboxID: a.InboxID}, Page{}); got[0] != d1.DraftID {
		t.Fatalf("updated draft not first: %v", got)
	}
	refused := errors.New("no")
	if _, err := s.UpdateDraft(ctx, a.InboxID, d1.DraftID, nil, func(*DraftRecord) error { return refused }); err != refused {
		t.Fatalf("refused update = %v", err)
	}

	if err := s.DeleteDraft(ctx, a.InboxID, d1.DraftID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DeleteDraft(ctx, a.InboxID, d1.DraftID), ErrNotFound)
	_, err = s.FindDraft(ctx, d1.DraftID)
	wantErr(t, err, ErrNotFound)
	_, err = s.UpdateDraft(ctx, a.InboxID, d1.DraftID, nil, func(*DraftRecord) error { return nil })
	wantErr(t, err, ErrNotFound)
	if got := list(Scope{OrgID: "org", InboxID: a.InboxID}, Page{}); len(got) != 1 || got[0] != d2.DraftID {
		t.Fatalf("after delete = %v", got)
	}

	// Deleting the inbox takes its drafts.
	if err := s.DeleteInbox(ctx, b.InboxID); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetDraft(ctx, b.InboxID, d3.DraftID)
	wantErr(t, err, ErrNotFound)
	_, err = s.FindDraft(ctx, d3.DraftID)
	wantErr(t, err, ErrNotFound)
	_, _, err = s.CreateDraft(ctx, b, wire.Draft{}, nil)
	wantErr(t, err, ErrNotFound)
}

func mustDraft(d DraftRecord, _ bool, err error) DraftRecord {
	if err != nil {
		panic(err)
	}
	return d
}

func TestDraftClientID(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	a := draftInbox(t, s, "a@x.org", "")
	b := draftInbox(t, s, "b@x.org", "")

	d, created, err := s.CreateDraft(ctx, a, wire.Draft{ClientID: "c1", Subject: "first"}, nil)
	if err != nil || !created {
		t.Fatal(created, err)
	}
	again, created, err := s.CreateDraft(ctx, a, wire.Draft{ClientID: "c1", Subject: "second"}, nil)
	if err != nil || created || again.DraftID != d.DraftID || again.Subject != "first" {
		t.Fatalf("repeat = %+v %v %v", again, created, err)
	}
	other, created, err := s.CreateDraft(ctx, b, wire.Draft{ClientID: "c1"}, nil)
	if err != nil || !created || other.DraftID == d.DraftID {
		t.Fatalf("other inbox = %+v %v %v", other, created, err)
	}

	// Concurrent creates with one client_id make one draft.
	var wg sync.WaitGroup
	ids := make([]string, 6)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, _, err := s.CreateDraft(ctx, a, wire.Draft{ClientID: "race"}, nil)
			if err != nil {
				t.Error(err)
			}
			ids[i] = rec.DraftID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent creates made %v", ids)
		}
	}

	// Deleting frees the client_id; sending keeps it (a repeat must not send twice).
	if err := s.DeleteDraft(ctx, a.InboxID, d.DraftID); err != nil {
		t.Fatal(err)
	}
	fresh := mustDraft(s.CreateDraft(ctx, a, wire.Draft{ClientID: "c1"}, nil))
	if fresh.DraftID == d.DraftID {
		t.Fatal("client_id not freed by delete")
	}
	claim, err := s.ClaimDraft(ctx, a.InboxID, fresh.DraftID, "k", "fp", false, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FinishDraftSend(ctx, claim, SendResult{MessageID: "<m@x>", ThreadID: "th"}); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.CreateDraft(ctx, a, wire.Draft{ClientID: "c1"}, nil)
	var sent *DraftSentError
	if !errors.As(err, &sent) || sent.MessageID != "<m@x>" || sent.DraftID != fresh.DraftID {
		t.Fatalf("create after send = %v", err)
	}
}

func TestDraftSchedule(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	a := draftInbox(t, s, "a@x.org", "")
	at := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

	d, _, err := s.CreateDraft(ctx, a, wire.Draft{Subject: "later", SendAt: &at}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.SendStatus != wire.DraftScheduled || !d.SendAt.Equal(at) {
		t.Fatalf("scheduled = %+v", d.Draft)
	}
	due := func(now time.Time) []DueDraft {
		t.Helper()
		return must(s.DueDrafts(ctx, now, 100))
	}
	if got := due(at.Add(-time.Millisecond)); len(got) != 0 {
		t.Fatalf("due early: %+v", got)
	}
	if got := due(at); len(got) != 1 || got[0].DraftID != d.DraftID || got[0].InboxID != a.InboxID || !got[0].SendAt.Equal(at) {
		t.Fatalf("due = %+v", got)
	}
	_, err = s.ClaimDraft(ctx, a.InboxID, d.DraftID, "k1", "fp", true, at.Add(-time.Second))
	wantErr(t, err, ErrDraftNotDue)

	// Rescheduling moves the due item; unscheduling removes it.
	later := at.Add(time.Hour)
	if _, err := s.UpdateDraft(ctx, a.InboxID, d.DraftID, nil, func(r *DraftRecord) error { r.Schedule(&later); return nil }); err != nil {
		t.Fatal(err)
	}
	if got := due(later); len(got) != 1 || !got[0].SendAt.Equal(later) {
		t.Fatalf("rescheduled due = %+v", got)
	}
	if _, err := s.UpdateDraft(ctx, a.InboxID, d.DraftID, nil, func(r *DraftRecord) error { r.Schedule(nil); return nil }); err != nil {
		t.Fatal(err)
	}
	if got := due(later); len(got) != 0 {
		t.Fatalf("unscheduled still due: %+v", got)
	}
	_, err = s.ClaimDraft(ctx, a.InboxID, d.DraftID, "k1", "fp", true, later)
	wantErr(t, err, ErrDraftNotDue)
	if _, err := s.UpdateDraft(ctx, a.InboxID, d.DraftID, nil, func(r *DraftRecord) error { r.Schedule(&at); return nil }); err != nil {
		t.Fatal(err)
	}

	// Claimed: sending, not editable, not claimable again, still listed as due until done.
	claim, err := s.ClaimDraft(ctx, a.InboxID, d.DraftID, "k1", "fp", true, at)
	if err != nil {
		t.Fatal(err)
	}
	if claim.SendStatus != wire.DraftSending || claim.SendKey != "k1" {
		t.Fatalf("claim = %+v", claim)
	}
	_, err = s.UpdateDraft(ctx, a.InboxID, d.DraftID, nil, func(*DraftRecord) error { return nil })
	wantErr(t, err, ErrDraftSending)
	_, err = s.ClaimDraft(ctx, a.InboxID, d.DraftID, "k2", "fp", false, at)
	wantErr(t, err, ErrDraftSending)

	// A transient failure puts it back; a permanent one marks it failed and no longer due.
	if err := s.ReleaseDraft(ctx, claim, DraftRelease{Status: wire.DraftScheduled, CountAttempt: true}); err != nil {
		t.Fatal(err)
	}
	back := must(s.GetDraft(ctx, a.InboxID, d.DraftID))
	if back.SendStatus != wire.DraftScheduled || back.SendAttempts != 1 || back.SendKey != "" || len(due(at)) != 1 {
		t.Fatalf("released = %+v", back)
	}
	claim = must(s.ClaimDraft(ctx, a.InboxID, d.DraftID, "k3", "fp", true, at))
	if claim.SendKey != "k3" {
		t.Fatalf("key after release = %q", claim.SendKey)
	}
	if err := s.ReleaseDraft(ctx, claim, DraftRelease{Status: wire.DraftFailed, Error: "recipient refused"}); err != nil {
		t.Fatal(err)
	}
	failed := must(s.GetDraft(ctx, a.InboxID, d.DraftID))
	if failed.SendStatus != wire.DraftFailed || failed.SendError != "recipient refused" || len(due(at)) != 0 {
		t.Fatalf("failed = %+v", failed)
	}
	_, err = s.ClaimDraft(ctx, a.InboxID, d.DraftID, "k4", "fp", true, at)
	wantErr(t, err, ErrDraftNotDue)

	// A send request may take a failed draft; success deletes it with its due item.
	claim = must(s.ClaimDraft(ctx, a.InboxID, d.DraftID, "k5", "fp", false, at))
	if err := s.FinishDraftSend(ctx, claim, SendResult{MessageID: "<m@x>"}); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetDraft(ctx, a.InboxID, d.DraftID)
	wantErr(t, err, ErrNotFound)
	_, err = s.ClaimDraft(ctx, a.InboxID, d.DraftID, "k6", "fp", false, at)
	wantErr(t, err, ErrNotFound)
}

func TestDraftClaimRace(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	a := draftInbox(t, s, "a@x.org", "")
	at := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	d := mustDraft(s.CreateDraft(ctx, a, wire.Draft{SendAt: &at}, nil))

	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.ClaimDraft(ctx, a.InboxID, d.DraftID, "key", "fp", i%2 == 0, at.Add(time.Minute))
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ErrDraftSending):
			t.Fatalf("loser err = %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d claims won: %v", won, errs)
	}

	// A claim whose sender died is taken over after the timeout, keeping its key.
	_, err := s.ClaimDraft(ctx, a.InboxID, d.DraftID, "other", "fp", true, at.Add(time.Minute+claimTimeout-time.Second))
	wantErr(t, err, ErrDraftSending)
	took, err := s.ClaimDraft(ctx, a.InboxID, d.DraftID, "other", "fp", true, at.Add(2*time.Minute+claimTimeout))
	if err != nil || took.SendKey != "key" {
		t.Fatalf("takeover = %+v %v", took, err)
	}
}

func TestDueDraftsOfDeletedInbox(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	a := draftInbox(t, s, "a@x.org", "")
	at := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	var ids []string
	for range 20 { // spread over the shards
		ids = append(ids, mustDraft(s.CreateDraft(ctx, a, wire.Draft{SendAt: &at}, nil)).DraftID)
	}
	if got := must(s.DueDrafts(ctx, at, 100)); len(got) != len(ids) {
		t.Fatalf("due = %d, want %d", len(got), len(ids))
	}
	if err := s.DeleteInbox(ctx, a.InboxID); err != nil {
		t.Fatal(err)
	}
	due := must(s.DueDrafts(ctx, at, 100))
	for _, d := range due {
		_, err := s.ClaimDraft(ctx, d.InboxID, d.DraftID, "k", "fp", true, at)
		wantErr(t, err, ErrNotFound)
		if err := s.ForgetDue(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if got := must(s.DueDrafts(ctx, at, 100)); len(got) != 0 {
		t.Fatalf("due after forget = %+v", got)
	}
}
