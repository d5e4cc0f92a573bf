package wsproto

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pigeon-mail/pigeon/shared/events"
)

type directory struct {
	inboxes map[string]string // inbox → pod
	err     error
}

func (d directory) InboxPod(_ context.Context, _, inboxID string) (string, bool, error) {
	pod, ok := d.inboxes[inboxID]
	return pod, ok, d.err
}

func (d directory) PodExists(_ context.Context, _, podID string) (bool, error) {
	for _, p := range d.inboxes {
		if p == podID {
			return true, d.err
		}
	}
	return false, d.err
}

var dir = directory{inboxes: map[string]string{"a@x.test": "pod_a", "a2@x.test": "pod_a", "b@x.test": "pod_b"}}

var (
	orgKey   = events.Scope{OrgID: "org"}
	podKey   = events.Scope{OrgID: "org", PodID: "pod_a"}
	inboxKey = events.Scope{OrgID: "org", PodID: "pod_a", InboxID: "a@x.test"}
	noSpam   = events.Scope{OrgID: "org", Permissions: map[string]bool{"message_read": true}}
)

func TestReceive(t *testing.T) {
	tests := []struct {
		name  string
		scope events.Scope
		frame string
		want  string // exact reply
	}{
		{"subscribe to everything", orgKey, `{"type":"subscribe"}`, `{"type":"subscribed"}`},
		{"filters echoed normalised", orgKey,
			`{"type":"subscribe","event_types":["message.received","message.received"],"inbox_ids":["A@X.test"],"pod_ids":["pod_b"],"extra":1}`,
			`{"type":"subscribed","event_types":["message.received"],"inbox_ids":["a@x.test"],"pod_ids":["pod_b"]}`},
		{"null lists are absent", orgKey, `{"type":"subscribe","inbox_ids":null,"event_types":null}`, `{"type":"subscribed"}`},
		{"pod key gets its pod", podKey, `{"type":"subscribe"}`, `{"type":"subscribed","pod_ids":["pod_a"]}`},
		{"inbox key gets its inbox", inboxKey, `{"type":"subscribe","event_types":["message.sent"]}`,
			`{"type":"subscribed","event_types":["message.sent"],"inbox_ids":["a@x.test"]}`},
		{"types narrowed to permissions", noSpam, `{"type":"subscribe"}`,
			`{"type":"subscribed","event_types":["message.received","message.sent","message.delivered","message.bounced","message.complained","message.rejected","message.opened","domain.verified"]}`},

		{"not JSON", orgKey, `subscribe please`, `{"type":"error","name":"ValidationError","message":"frame is not a JSON object"}`},
		{"JSON but not an object", orgKey, `["subscribe"]`, `{"type":"error","name":"ValidationError","message":"frame is not a JSON object"}`},
		{"no type", orgKey, `{"inbox_ids":[]}`, `{"type":"error","name":"ValidationError","message":"frame has no \"type\"; send {\"type\":\"subscribe\", ...}"}`},
		{"wrong type", orgKey, `{"type":"ping"}`, `{"type":"error","name":"ValidationError","message":"unknown frame type \"ping\"; the only one is \"subscribe\""}`},
		{"list not an array", orgKey, `{"type":"subscribe","inbox_ids":"a@x.test"}`, `{"type":"error","name":"ValidationError","message":"inbox_ids must be an array of strings"}`},
		{"list of numbers", orgKey, `{"type":"subscribe","pod_ids":[1]}`, `{"type":"error","name":"ValidationError","message":"pod_ids must be an array of strings"}`},
		{"unknown event type", orgKey, `{"type":"subscribe","event_types":["message.read"]}`, `{"type":"error","name":"ValidationError","message":"unknown event type \"message.read\""}`},
		{"unknown inbox", orgKey, `{"type":"subscribe","inbox_ids":["nobody@x.test"]}`, `{"type":"error","name":"NotFoundError","message":"inbox nobody@x.test not found"}`},
		{"unknown pod", orgKey, `{"type":"subscribe","pod_ids":["pod_z"]}`, `{"type":"error","name":"NotFoundError","message":"pod pod_z not found"}`},
		{"pod key, inbox of another pod", podKey, `{"type":"subscribe","inbox_ids":["b@x.test"]}`, `{"type":"error","name":"NotFoundError","message":"inbox b@x.test not found"}`},
		{"pod key, another pod", podKey, `{"type":"subscribe","pod_ids":["pod_b"]}`, `{"type":"error","name":"NotFoundError","message":"pod pod_b not found"}`},
		{"inbox key, another inbox", inboxKey, `{"type":"subscribe","inbox_ids":["a2@x.test"]}`, `{"type":"error","name":"NotFoundError","message":"inbox a2@x.test not found"}`},
		{"inbox key, pods", inboxKey, `{"type":"subscribe","pod_ids":["pod_a"]}`, `{"type":"error","name":"ForbiddenError","message":"an inbox-scoped key can subscribe only to its inbox, not to pods"}`},
		{"missing label permission", noSpam, `{"type":"subscribe","event_types":["message.received.blocked"]}`,
			`{"type":"error","name":"ForbiddenError","message":"receiving message.received.blocked needs the label_blocked_read permission"}`},
		{"too many ids", orgKey, `{"type":"subscribe","inbox_ids":[` + strings.Repeat(`"a@x.test",`, 100) + `"a@x.test"]}`,
			`{"type":"error","name":"ValidationError","message":"inbox_ids has more than 100 entries"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Connection{Scope: tt.scope}
			reply, changed, err := c.Receive(context.Background(), dir, []byte(tt.frame))
			if err != nil {
				t.Fatal(err)
			}
			if string(reply) != tt.want {
				t.Errorf("reply\n got %s\nwant %s", reply, tt.want)
			}
			accepted := strings.Contains(tt.want, `"subscribed"`)
			if changed != accepted || (c.Subscription != nil) != accepted {
				t.Errorf("changed = %v, subscription = %v, want accepted = %v", changed, c.Subscription, accepted)
			}
			var frame map[string]any
			if json.Unmarshal(reply, &frame) != nil {
				t.Error("reply is not JSON")
			}
		})
	}
}

func TestSubscribeReplacesAndRefusalKeeps(t *testing.T) {
	c := &Connection{Scope: orgKey}
	ev := events.Envelope{OrgID: "org", PodID: "pod_a", InboxID: "a@x.test", EventType: events.MessageReceived}
	if c.Wants(ev) {
		t.Fatal("events flow before any subscribe")
	}
	steps := []struct {
		frame     string
		changed   bool
		wantsA    bool
		inboxes   []string
		eventType []string
	}{
		{`{"type":"subscribe","inbox_ids":["a@x.test"]}`, true, true, []string{"a@x.test"}, nil},
		{`{"type":"subscribe","inbox_ids":["b@x.test"],"event_types":["message.sent"]}`, true, false, []string{"b@x.test"}, []string{"message.sent"}},
		{`{"type":"subscribe","inbox_ids":["nobody@x.test"]}`, false, false, []string{"b@x.test"}, []string{"message.sent"}}, // refused: previous stays
		{`{"type":"subscribe"}`, true, true, nil, nil},                                                                       // a new subscribe replaces the old one entirely
	}
	for i, s := range steps {
		_, changed, err := c.Receive(context.Background(), dir, []byte(s.frame))
		if err != nil {
			t.Fatal(err)
		}
		if changed != s.changed || c.Wants(ev) != s.wantsA ||
			!slices.Equal(c.Subscription.InboxIDs, s.inboxes) || !slices.Equal(c.Subscription.EventTypes, s.eventType) {
			t.Errorf("step %d: changed %v, wants %v, subscription %+v", i, changed, c.Wants(ev), *c.Subscription)
		}
	}
}

func TestReceiveDirectoryFailure(t *testing.T) {
	boom := errors.New("dynamodb down")
	c := &Connection{Scope: orgKey}
	reply, changed, err := c.Receive(context.Background(), directory{err: boom}, []byte(`{"type":"subscribe","inbox_ids":["a@x.test"]}`))
	if !errors.Is(err, boom) || reply != nil || changed {
		t.Fatalf("reply %s, changed %v, err %v", reply, changed, err)
	}
}
