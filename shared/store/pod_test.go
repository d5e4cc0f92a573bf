package store

import (
	"context"
	"testing"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

func TestPods(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()

	def := must(s.EnsureDefaultPod(ctx, "org"))
	again := must(s.EnsureDefaultPod(ctx, "org"))
	if def.PodID != DefaultPodID || def.Name != "Default" || !again.CreatedAt.Equal(def.CreatedAt) {
		t.Fatalf("default pod = %+v then %+v", def, again)
	}

	p1, created, err := s.CreatePod(ctx, "org", wire.Pod{Name: "one", ClientID: "c-1"})
	if err != nil || !created || p1.PodID == "" {
		t.Fatalf("create = %+v %v %v", p1, created, err)
	}
	p1again, created, err := s.CreatePod(ctx, "org", wire.Pod{Name: "other name", ClientID: "c-1"})
	if err != nil || created || p1again.PodID != p1.PodID || p1again.Name != "one" {
		t.Fatalf("same client_id = %+v %v %v, want the first pod", p1again, created, err)
	}
	_, _, err = s.CreatePod(ctx, "org", wire.Pod{PodID: p1.PodID, Name: "dup"})
	wantErr(t, err, ErrTaken)
	_, err = s.GetPod(ctx, "other-org", p1.PodID)
	wantErr(t, err, ErrNotFound)

	pods, next, err := s.ListPods(ctx, "org", Page{})
	if err != nil || next != "" || len(pods) != 2 || pods[0].PodID != p1.PodID || pods[1].PodID != DefaultPodID {
		t.Fatalf("pods = %+v %q %v", pods, next, err)
	}

	if _, _, err := s.CreateInbox(ctx, "org", wire.Inbox{Email: "a@x.org", PodID: p1.PodID}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DeletePod(ctx, "org", p1.PodID), ErrConflict)
	if err := s.DeleteInbox(ctx, "a@x.org"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePod(ctx, "org", p1.PodID); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetPod(ctx, "org", p1.PodID)
	wantErr(t, err, ErrNotFound)
	// The client_id is free again once its pod is gone.
	if _, created, err := s.CreatePod(ctx, "org", wire.Pod{Name: "one again", ClientID: "c-1"}); err != nil || !created {
		t.Fatalf("recreate = %v %v", created, err)
	}
}
