package store

import (
	"context"
	"slices"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pigeon-mail/pigeon/shared/events"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// found lists who is indexed under t, as "conn:<id>" / "hook:<id>", sorted.
func found(t *testing.T, s *Store, target Target) []string {
	t.Helper()
	subs, err := s.Subscribers(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, sub := range subs {
		if sub.ConnectionID != "" {
			out = append(out, "conn:"+sub.ConnectionID)
		} else {
			out = append(out, "hook:"+sub.Webhook.WebhookID)
		}
	}
	sort.Strings(out)
	return out
}

func TestConnectionSubscriptions(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	inbox, pod, org := Target{"inbox", "a@x.org"}, Target{"pod", "p1"}, Target{"org", "org"}

	if err := s.PutConnection(ctx, Connection{ConnectionID: "c1", APIKeyID: "k1", OrgID: "org"}); err != nil {
		t.Fatal(err)
	}
	c := must(s.GetConnection(ctx, "c1"))
	if c.APIKeyID != "k1" || c.Subscription != nil || c.ConnectedAt.IsZero() {
		t.Fatalf("connection = %+v", c)
	}
	if got := found(t, s, org); len(got) != 0 {
		t.Fatalf("indexed before subscribing: %v", got)
	}

	// Whole organisation.
	must(0, s.SetSubscription(ctx, "c1", events.Subscription{OrgID: "org", EventTypes: []string{events.MessageReceived}}))
	if got := found(t, s, org); !slices.Equal(got, []string{"conn:c1"}) {
		t.Fatalf("org = %v", got)
	}
	subs := must(s.Subscribers(ctx, org))
	if subs[0].APIKeyID != "k1" || !slices.Equal(subs[0].Subscription.EventTypes, []string{events.MessageReceived}) {
		t.Fatalf("subscriber = %+v", subs[0])
	}

	// Replaced as a whole: an inbox and a pod; the organisation entry goes.
	must(0, s.SetSubscription(ctx, "c1", events.Subscription{OrgID: "org", InboxIDs: []string{"a@x.org"}, PodIDs: []string{"p1"}}))
	if got := found(t, s, org); len(got) != 0 {
		t.Fatalf("org after replace = %v", got)
	}
	if got := found(t, s, inbox); !slices.Equal(got, []string{"conn:c1"}) {
		t.Fatalf("inbox = %v", got)
	}
	if got := found(t, s, pod); !slices.Equal(got, []string{"conn:c1"}) {
		t.Fatalf("pod = %v", got)
	}
	c = must(s.GetConnection(ctx, "c1"))
	if c.Subscription == nil || !slices.Equal(c.Subscription.PodIDs, []string{"p1"}) || len(c.Subscription.EventTypes) != 0 {
		t.Fatalf("stored subscription = %+v", c.Subscription)
	}

	// Deleting removes the connection and every index entry; twice is fine.
	must(0, s.DeleteConnection(ctx, "c1"))
	must(0, s.DeleteConnection(ctx, "c1"))
	if _, err := s.GetConnection(ctx, "c1"); err != ErrNotFound {
		t.Fatalf("get deleted = %v", err)
	}
	if got := append(found(t, s, inbox), found(t, s, pod)...); len(got) != 0 {
		t.Fatalf("left behind: %v", got)
	}
	wantErr(t, s.SetSubscription(ctx, "c1", events.Subscription{OrgID: "org"}), ErrNotFound)
}

func TestDeleteConnections(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	inbox, org := Target{"inbox", "a@x.org"}, Target{"org", "org"}
	must(0, s.PutConnection(ctx, Connection{ConnectionID: "c1", APIKeyID: "k1", OrgID: "org"}))
	must(0, s.SetSubscription(ctx, "c1", events.Subscription{OrgID: "org", InboxIDs: []string{"a@x.org"}}))
	c.t.Add(1000)
	must(0, s.PutConnection(ctx, Connection{ConnectionID: "c2", APIKeyID: "k1", OrgID: "org"}))
	must(0, s.SetSubscription(ctx, "c2", events.Subscription{OrgID: "org"}))
	must(0, s.PutConnection(ctx, Connection{ConnectionID: "c3", APIKeyID: "k1", OrgID: "org"})) // never subscribed
	must(0, s.PutConnection(ctx, Connection{ConnectionID: "other", APIKeyID: "k9", OrgID: "org2"}))
	must(0, s.SetSubscription(ctx, "other", events.Subscription{OrgID: "org2"}))
	hook := must3(s.CreateWebhook(ctx, Webhook{Webhook: wire.Webhook{URL: "https://h.example/x", Secret: "whsec_AAAA"}, OrgID: "org"}))

	if ids := must(s.ConnectionIDs(ctx, "org")); !slices.Equal(ids, []string{"c1", "c2", "c3"}) {
		t.Fatalf("connections = %v", ids)
	}
	if n := must(s.DeleteConnections(ctx, "org")); n != 3 {
		t.Fatalf("deleted %d", n)
	}
	for _, id := range []string{"c1", "c2", "c3"} {
		if _, err := s.GetConnection(ctx, id); err != ErrNotFound {
			t.Fatalf("%s after DeleteConnections: %v", id, err)
		}
		if keys := must(s.partition(ctx, connectionPK(id))); len(keys) != 0 {
			t.Fatalf("%s left %v", id, keys)
		}
	}
	if got := append(found(t, s, inbox), found(t, s, org)...); !slices.Equal(got, []string{"hook:" + hook.WebhookID}) {
		t.Fatalf("index after DeleteConnections = %v", got)
	}
	// Another organisation's connections stay.
	if _, err := s.GetConnection(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	if got := found(t, s, Target{"org", "org2"}); !slices.Equal(got, []string{"conn:other"}) {
		t.Fatalf("org2 = %v", got)
	}
	if n := must(s.DeleteConnections(ctx, "org")); n != 0 {
		t.Fatalf("deleted %d the second time", n)
	}
}

func TestConnectionExpires(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	must(0, s.PutConnection(ctx, Connection{ConnectionID: "c1", APIKeyID: "k1", OrgID: "org"}))
	must(0, s.SetSubscription(ctx, "c1", events.Subscription{OrgID: "org"}))
	c.t.Add(ConnectionTTL.Milliseconds())
	if _, err := s.GetConnection(ctx, "c1"); err != ErrNotFound {
		t.Fatalf("expired connection: %v", err)
	}
	if got := found(t, s, Target{"org", "org"}); len(got) != 0 {
		t.Fatalf("expired connection still indexed: %v", got)
	}
}

func TestWebhookStore(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	base := Webhook{Webhook: wire.Webhook{URL: "https://h.example/x", Secret: "whsec_AAAA", EventTypes: []string{events.MessageReceived}}, OrgID: "org"}

	orgWide := base
	orgWide.ClientID = "c1"
	w1, created, err := s.CreateWebhook(ctx, orgWide)
	if err != nil || !created || !w1.Enabled || w1.WebhookID[:3] != "ep_" {
		t.Fatalf("create = %+v %v %v", w1, created, err)
	}
	again, created, err := s.CreateWebhook(ctx, orgWide)
	if err != nil || created || again.WebhookID != w1.WebhookID {
		t.Fatalf("same client_id = %+v %v %v", again, created, err)
	}
	podHook := base
	podHook.ScopePodID, podHook.PodIDs = "p1", []string{"p1"}
	podHook.Headers = map[string]string{"X-Token": "t"}
	w2 := must3(s.CreateWebhook(ctx, podHook))
	inboxHook := base
	inboxHook.ScopePodID, inboxHook.ScopeInboxID, inboxHook.InboxIDs = "p1", "a@x.org", []string{"a@x.org"}
	w3 := must3(s.CreateWebhook(ctx, inboxHook))

	if got := found(t, s, Target{"org", "org"}); !slices.Equal(got, []string{"hook:" + w1.WebhookID}) {
		t.Fatalf("org = %v", got)
	}
	if got := found(t, s, Target{"pod", "p1"}); !slices.Equal(got, []string{"hook:" + w2.WebhookID}) {
		t.Fatalf("pod = %v", got)
	}
	subs := must(s.Subscribers(ctx, Target{"pod", "p1"}))
	if subs[0].Webhook.Headers["X-Token"] != "t" || subs[0].Webhook.Secret != "whsec_AAAA" {
		t.Fatalf("index copy = %+v", subs[0].Webhook)
	}
	if got := found(t, s, Target{"inbox", "a@x.org"}); !slices.Equal(got, []string{"hook:" + w3.WebhookID}) {
		t.Fatalf("inbox = %v", got)
	}

	// Lists: the organisation sees all three, a scope its own.
	all, _ := must2(s.ListWebhooks(ctx, "org", "", "", Page{}))
	if len(all) != 3 || all[0].WebhookID != w3.WebhookID {
		t.Fatalf("org list = %d", len(all))
	}
	pods, _ := must2(s.ListWebhooks(ctx, "org", "p1", "", Page{}))
	if len(pods) != 1 || pods[0].WebhookID != w2.WebhookID {
		t.Fatalf("pod list = %+v", pods)
	}

	// An update moves the organisation webhook to one inbox; its index follows.
	up, err := s.UpdateWebhook(ctx, w1.WebhookID, func(w *Webhook) error {
		w.InboxIDs = []string{"b@x.org"}
		return nil
	})
	if err != nil || !up.UpdatedAt.After(w1.UpdatedAt) {
		t.Fatalf("update = %+v %v", up, err)
	}
	if got := found(t, s, Target{"org", "org"}); len(got) != 0 {
		t.Fatalf("org after update = %v", got)
	}
	if got := found(t, s, Target{"inbox", "b@x.org"}); !slices.Equal(got, []string{"hook:" + w1.WebhookID}) {
		t.Fatalf("inbox b = %v", got)
	}

	// Delete: gone with its index entries and its client_id.
	must(0, s.DeleteWebhook(ctx, w1.WebhookID))
	wantErr(t, s.DeleteWebhook(ctx, w1.WebhookID), ErrNotFound)
	if got := found(t, s, Target{"inbox", "b@x.org"}); len(got) != 0 {
		t.Fatalf("left behind: %v", got)
	}
	fresh, created, err := s.CreateWebhook(ctx, orgWide)
	if err != nil || !created || fresh.WebhookID == w1.WebhookID {
		t.Fatalf("client_id after delete = %+v %v %v", fresh, created, err)
	}
}

func TestWebhookSubscription(t *testing.T) {
	tests := []struct {
		name string
		w    Webhook
		want events.Subscription
	}{
		{"organisation", Webhook{OrgID: "o"}, events.Subscription{OrgID: "o"}},
		{"organisation filters", Webhook{OrgID: "o", Webhook: wire.Webhook{InboxIDs: []string{"a"}, PodIDs: []string{"p"}}},
			events.Subscription{OrgID: "o", InboxIDs: []string{"a"}, PodIDs: []string{"p"}}},
		{"pod", Webhook{OrgID: "o", ScopePodID: "p", Webhook: wire.Webhook{PodIDs: []string{"p"}}}, events.Subscription{OrgID: "o", PodIDs: []string{"p"}}},
		{"pod inboxes", Webhook{OrgID: "o", ScopePodID: "p", Webhook: wire.Webhook{PodIDs: []string{"p"}, InboxIDs: []string{"a"}}},
			events.Subscription{OrgID: "o", InboxIDs: []string{"a"}}},
		{"inbox", Webhook{OrgID: "o", ScopePodID: "p", ScopeInboxID: "a"}, events.Subscription{OrgID: "o", InboxIDs: []string{"a"}}},
	}
	for _, tt := range tests {
		got := tt.w.Subscription()
		if got.OrgID != tt.want.OrgID || !slices.Equal(got.InboxIDs, tt.want.InboxIDs) || !slices.Equal(got.PodIDs, tt.want.PodIDs) {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestFanoutProgress(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	done := must(s.FanoutProgress(ctx, "evt_1"))
	if len(done.Connections)+len(done.Webhooks) != 0 {
		t.Fatalf("new event = %+v", done)
	}
	must(0, s.RecordFanout(ctx, "evt_1", []string{"c1", "c2"}, nil))
	must(0, s.RecordFanout(ctx, "evt_1", []string{"c2", "c3"}, []string{"ep_1"}))
	must(0, s.RecordFanout(ctx, "evt_1", nil, nil))
	done = must(s.FanoutProgress(ctx, "evt_1"))
	if len(done.Connections) != 3 || !done.Connections["c3"] || !done.Webhooks["ep_1"] || len(done.Webhooks) != 1 {
		t.Fatalf("progress = %+v", done)
	}
}

func TestDirectory(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	must3(s.CreateInbox(ctx, "org", wire.Inbox{Email: "a@x.org"}))
	if pod, ok, err := s.InboxPod(ctx, "org", "A@x.org"); err != nil || !ok || pod != DefaultPodID {
		t.Fatalf("InboxPod = %q %v %v", pod, ok, err)
	}
	if _, ok, err := s.InboxPod(ctx, "other", "a@x.org"); err != nil || ok {
		t.Fatalf("InboxPod of another organisation = %v %v", ok, err)
	}
	if ok, err := s.PodExists(ctx, "org", DefaultPodID); err != nil || !ok {
		t.Fatalf("PodExists = %v %v", ok, err)
	}
	if ok, err := s.PodExists(ctx, "org", "nope"); err != nil || ok {
		t.Fatalf("PodExists(nope) = %v %v", ok, err)
	}
}

func TestLabelEvents(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	in := must3(s.CreateInbox(ctx, "org", wire.Inbox{Email: "a@x.org"}))
	if evs, next := must2(s.LabelEvents(ctx, in.InboxID, Page{})); len(evs) != 0 || next != "" {
		t.Fatalf("no label events yet: %v %q", evs, next)
	}
	for i, added := range []bool{true, false} {
		put, err := s.labelEventPut("org", in.PodID, in.InboxID, "<m@x>", "urgent", added, s.now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.TransactWriteItems(ctx, txOf(put)); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	evs, _ := must2(s.LabelEvents(ctx, in.InboxID, Page{}))
	if len(evs) != 2 || evs[0].EventType != wire.EventLabelRemoved || evs[1].EventType != wire.EventLabelAdded ||
		evs[0].Label != "urgent" || evs[0].MessageID != "<m@x>" || evs[0].OrganizationID != "org" || evs[0].PodID != in.PodID {
		t.Fatalf("events = %+v", evs)
	}
	asc, _ := must2(s.LabelEvents(ctx, in.InboxID, Page{Ascending: true}))
	if asc[0].EventID != evs[1].EventID {
		t.Fatal("ascending order")
	}
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

func must3[A, B any](a A, _ B, err error) A {
	if err != nil {
		panic(err)
	}
	return a
}

func txOf(items ...types.TransactWriteItem) *dynamodb.TransactWriteItemsInput {
	return &dynamodb.TransactWriteItemsInput{TransactItems: items}
}
