package events

import "testing"

func TestMatches(t *testing.T) {
	ev := Envelope{OrgID: "org", PodID: "pod_a", InboxID: "a@x.test", EventType: MessageReceived}
	domain := Envelope{OrgID: "org", PodID: "pod_a", EventType: DomainVerified}
	orgDomain := Envelope{OrgID: "org", EventType: DomainVerified}
	tests := []struct {
		name string
		sub  Subscription
		ev   Envelope
		want bool
	}{
		{"org-wide, all types", Subscription{OrgID: "org"}, ev, true},
		{"other organisation", Subscription{OrgID: "other"}, ev, false},
		{"type listed", Subscription{OrgID: "org", EventTypes: []string{MessageSent, MessageReceived}}, ev, true},
		{"type not listed", Subscription{OrgID: "org", EventTypes: []string{MessageSent}}, ev, false},
		{"inbox listed", Subscription{OrgID: "org", InboxIDs: []string{"a@x.test"}}, ev, true},
		{"other inbox", Subscription{OrgID: "org", InboxIDs: []string{"b@x.test"}}, ev, false},
		{"pod listed", Subscription{OrgID: "org", PodIDs: []string{"pod_a"}}, ev, true},
		{"other pod", Subscription{OrgID: "org", PodIDs: []string{"pod_b"}}, ev, false},
		{"union: pod misses, inbox hits", Subscription{OrgID: "org", InboxIDs: []string{"a@x.test"}, PodIDs: []string{"pod_b"}}, ev, true},
		{"union: inbox misses, pod hits", Subscription{OrgID: "org", InboxIDs: []string{"b@x.test"}, PodIDs: []string{"pod_a"}}, ev, true},
		{"filters hit but type does not", Subscription{OrgID: "org", InboxIDs: []string{"a@x.test"}, EventTypes: []string{MessageOpened}}, ev, false},
		{"domain event, org-wide", Subscription{OrgID: "org"}, domain, true},
		{"domain event, its pod", Subscription{OrgID: "org", PodIDs: []string{"pod_a"}}, domain, true},
		{"domain event, inbox subscription", Subscription{OrgID: "org", InboxIDs: []string{"a@x.test"}}, domain, false},
		{"org domain event, pod subscription", Subscription{OrgID: "org", PodIDs: []string{"pod_a"}}, orgDomain, false},
		{"org domain event, org-wide", Subscription{OrgID: "org"}, orgDomain, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Matches(tt.sub, tt.ev); got != tt.want {
				t.Errorf("Matches(%+v, %+v) = %v, want %v", tt.sub, tt.ev, got, tt.want)
			}
		})
	}
}

func TestTypes(t *testing.T) {
	if len(Types()) != 11 {
		t.Fatalf("Types() has %d entries, want the 11 event types of AgentMail v0", len(Types()))
	}
	for _, ty := range Types() {
		if !IsType(ty) {
			t.Errorf("IsType(%q) = false", ty)
		}
	}
	for _, bad := range []string{"", "message", "message.received.", "MESSAGE.RECEIVED", "label.added"} {
		if IsType(bad) {
			t.Errorf("IsType(%q) = true", bad)
		}
	}
	if err := CheckTypes([]string{MessageSent, "message.exploded"}); err == nil || err.Error() != `unknown event type "message.exploded"` {
		t.Errorf("CheckTypes: %v", err)
	}
	if Permission(MessageReceivedSpam) != "label_spam_read" || Permission(MessageReceived) != "" {
		t.Errorf("Permission: %q %q", Permission(MessageReceivedSpam), Permission(MessageReceived))
	}
}
