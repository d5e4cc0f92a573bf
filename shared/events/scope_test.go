package events

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// directory is an in-memory Directory: inbox id → pod id, and a set of pods, all in org "org".
type directory struct {
	inboxes map[string]string
	pods    []string
	err     error
}

func (d directory) InboxPod(_ context.Context, orgID, inboxID string) (string, bool, error) {
	if d.err != nil {
		return "", false, d.err
	}
	pod, ok := d.inboxes[inboxID]
	return pod, ok && orgID == "org", nil
}

func (d directory) PodExists(_ context.Context, orgID, podID string) (bool, error) {
	if d.err != nil {
		return false, d.err
	}
	return orgID == "org" && slices.Contains(d.pods, podID), nil
}

var testDir = directory{
	inboxes: map[string]string{"a@x.test": "pod_a", "a2@x.test": "pod_a", "b@x.test": "pod_b"},
	pods:    []string{"pod_a", "pod_b"},
}

func TestAuthorize(t *testing.T) {
	org := Scope{OrgID: "org"}
	pod := Scope{OrgID: "org", PodID: "pod_a"}
	inbox := Scope{OrgID: "org", PodID: "pod_a", InboxID: "a@x.test"}
	noSpam := Scope{OrgID: "org", Permissions: map[string]bool{"message_read": true, "label_blocked_read": true, "label_unauthenticated_read": true}}
	tests := []struct {
		name    string
		scope   Scope
		sub     Subscription
		want    Subscription
		wantErr error
		msg     string
	}{
		{name: "org key, nothing asked = whole org", scope: org, sub: Subscription{}, want: Subscription{OrgID: "org"}},
		{name: "org key, inbox and pod", scope: org,
			sub:  Subscription{InboxIDs: []string{" B@X.test ", "b@x.test"}, PodIDs: []string{"pod_a"}, EventTypes: []string{MessageSent, MessageSent}},
			want: Subscription{OrgID: "org", InboxIDs: []string{"b@x.test"}, PodIDs: []string{"pod_a"}, EventTypes: []string{MessageSent}}},
		{name: "org key, unknown inbox", scope: org, sub: Subscription{InboxIDs: []string{"nobody@x.test"}}, wantErr: ErrNotFound, msg: "inbox nobody@x.test not found"},
		{name: "org key, unknown pod", scope: org, sub: Subscription{PodIDs: []string{"pod_z"}}, wantErr: ErrNotFound, msg: "pod pod_z not found"},
		{name: "unknown event type", scope: org, sub: Subscription{EventTypes: []string{"message.exploded"}}, wantErr: ErrInvalid},
		{name: "empty inbox id would widen", scope: org, sub: Subscription{InboxIDs: []string{""}}, wantErr: ErrInvalid, msg: "inbox_ids must not contain empty strings"},
		{name: "empty event type", scope: org, sub: Subscription{EventTypes: []string{" "}}, wantErr: ErrInvalid},

		{name: "pod key, nothing asked = its pod", scope: pod, sub: Subscription{}, want: Subscription{OrgID: "org", PodIDs: []string{"pod_a"}}},
		{name: "pod key, its pod", scope: pod, sub: Subscription{PodIDs: []string{"pod_a"}}, want: Subscription{OrgID: "org", PodIDs: []string{"pod_a"}}},
		{name: "pod key, inbox in its pod", scope: pod, sub: Subscription{InboxIDs: []string{"a2@x.test"}}, want: Subscription{OrgID: "org", InboxIDs: []string{"a2@x.test"}}},
		{name: "pod key, other pod", scope: pod, sub: Subscription{PodIDs: []string{"pod_b"}}, wantErr: ErrNotFound},
		{name: "pod key, inbox of other pod looks absent", scope: pod, sub: Subscription{InboxIDs: []string{"b@x.test"}}, wantErr: ErrNotFound, msg: "inbox b@x.test not found"},
		{name: "pod key, unknown inbox", scope: pod, sub: Subscription{InboxIDs: []string{"nobody@x.test"}}, wantErr: ErrNotFound},

		{name: "inbox key, nothing asked = its inbox", scope: inbox, sub: Subscription{}, want: Subscription{OrgID: "org", InboxIDs: []string{"a@x.test"}}},
		{name: "inbox key, its inbox", scope: inbox, sub: Subscription{InboxIDs: []string{"a@x.test"}, EventTypes: []string{MessageReceived}},
			want: Subscription{OrgID: "org", InboxIDs: []string{"a@x.test"}, EventTypes: []string{MessageReceived}}},
		{name: "inbox key, other inbox in same pod", scope: inbox, sub: Subscription{InboxIDs: []string{"a2@x.test"}}, wantErr: ErrNotFound},
		{name: "inbox key, its own pod", scope: inbox, sub: Subscription{PodIDs: []string{"pod_a"}}, wantErr: ErrForbidden},

		{name: "no label permission, all types = permitted types", scope: noSpam, sub: Subscription{},
			want: Subscription{OrgID: "org", EventTypes: []string{MessageReceived, MessageReceivedBlocked, MessageReceivedUnauthenticated,
				MessageSent, MessageDelivered, MessageBounced, MessageComplained, MessageRejected, MessageOpened, DomainVerified}}},
		{name: "no label permission, asked for spam", scope: noSpam, sub: Subscription{EventTypes: []string{MessageReceivedSpam}},
			wantErr: ErrForbidden, msg: "receiving message.received.spam needs the label_spam_read permission"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.scope.Authorize(context.Background(), testDir, tt.sub)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if tt.msg != "" && err.Error() != tt.msg {
					t.Errorf("message = %q, want %q", err.Error(), tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.OrgID != tt.want.OrgID || !slices.Equal(got.InboxIDs, tt.want.InboxIDs) ||
				!slices.Equal(got.PodIDs, tt.want.PodIDs) || !slices.Equal(got.EventTypes, tt.want.EventTypes) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestAuthorizeDirectoryFailure(t *testing.T) {
	boom := errors.New("table unavailable")
	_, err := Scope{OrgID: "org"}.Authorize(context.Background(), directory{err: boom}, Subscription{InboxIDs: []string{"a@x.test"}})
	if !errors.Is(err, boom) || errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want the directory's error, not a refusal", err)
	}
}
