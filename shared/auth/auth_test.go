package auth

import (
	"context"
	"strings"
	"testing"

	"github.com/pigeon-mail/pigeon/infra/local/embedded"
	"github.com/pigeon-mail/pigeon/shared/blob"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

func TestSecrets(t *testing.T) {
	s1, p1 := NewSecret()
	s2, _ := NewSecret()
	if s1 == s2 || !strings.HasPrefix(s1, "am_") || len(s1) != 3+43 || p1 != s1[:12] {
		t.Fatalf("secret %q prefix %q", s1, p1)
	}
	for _, c := range s1[3:] {
		if !strings.ContainsRune(base62, c) {
			t.Fatalf("secret %q has %q", s1, c)
		}
	}
	if Hash("abc") != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("Hash(abc) = %s", Hash("abc"))
	}
	if string(TokenKey("a")) == string(TokenKey("b")) || len(TokenKey("a")) != 32 {
		t.Fatal("TokenKey")
	}
}

func TestPrincipal(t *testing.T) {
	org := Principal{OrgID: "o"}
	pod := Principal{OrgID: "o", PodID: "p"}
	inbox := Principal{OrgID: "o", PodID: "p", InboxID: "a@x"}
	inP := store.InboxRecord{Inbox: wire.Inbox{InboxID: "a@x", PodID: "p"}, OrgID: "o"}
	inP2 := store.InboxRecord{Inbox: wire.Inbox{InboxID: "b@x", PodID: "p"}, OrgID: "o"}
	inQ := store.InboxRecord{Inbox: wire.Inbox{InboxID: "c@x", PodID: "q"}, OrgID: "o"}
	inOtherOrg := store.InboxRecord{Inbox: wire.Inbox{InboxID: "d@x", PodID: "p"}, OrgID: "o2"}
	tests := []struct {
		p    Principal
		in   store.InboxRecord
		want bool
	}{
		{org, inP, true}, {org, inQ, true}, {org, inOtherOrg, false},
		{pod, inP, true}, {pod, inP2, true}, {pod, inQ, false},
		{inbox, inP, true}, {inbox, inP2, false}, {inbox, inQ, false},
	}
	for _, tt := range tests {
		if got := tt.p.CanSeeInbox(tt.in); got != tt.want {
			t.Errorf("%s key, inbox %s: %v", tt.p.ScopeType(), tt.in.InboxID, got)
		}
	}
	if !org.CanSeePod("q") || pod.CanSeePod("q") || !inbox.CanSeePod("p") {
		t.Error("CanSeePod")
	}
	th := store.ThreadRecord{ThreadItem: wire.ThreadItem{InboxID: "b@x"}, OrgID: "o", PodID: "p"}
	if !pod.CanSeeThread(th) || inbox.CanSeeThread(th) {
		t.Error("CanSeeThread")
	}
	if !org.Can("anything") {
		t.Error("nil permissions must grant all")
	}
	limited := Principal{Permissions: map[string]bool{"inbox_read": true, "pod_read": false}}
	if !limited.Can("inbox_read") || limited.Can("pod_read") || limited.Can("message_read") {
		t.Error("explicit permissions")
	}
}

func TestBootstrap(t *testing.T) {
	srv, err := embedded.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	st := store.New(srv.DynamoDB(), blob.New(srv.S3(), "b", ""), "boot", []byte("k"))
	if err := st.EnsureTable(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := Bootstrap(ctx, st, "org_x", "am_first"); err != nil {
			t.Fatal(err)
		}
	}
	k, err := st.APIKeyByHash(ctx, Hash("am_first"))
	if err != nil || k.APIKeyID != BootstrapKeyID || k.OrgID != "org_x" || k.Permissions != nil || k.PodID != "" {
		t.Fatalf("key %+v, %v", k, err)
	}
	if _, err := st.GetPod(ctx, "org_x", store.DefaultPodID); err != nil {
		t.Fatalf("default pod: %v", err)
	}
	// A rotated secret replaces the old one.
	if err := Bootstrap(ctx, st, "org_x", "am_second"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.APIKeyByHash(ctx, Hash("am_first")); err == nil {
		t.Fatal("old bootstrap secret still works")
	}
	k2, err := st.APIKeyByHash(ctx, Hash("am_second"))
	if err != nil || !k2.CreatedAt.Equal(k.CreatedAt) {
		t.Fatalf("rotated key %+v, %v", k2, err)
	}
	if err := Bootstrap(ctx, st, "org_x", ""); err == nil {
		t.Fatal("empty secret accepted")
	}
}
