package events

import "slices"

// Subscription is what a WebSocket connection or a webhook asks to receive, as accepted by
// Scope.Authorize: the organisation it belongs to and three filters.
//
//   - EventTypes: the types wanted; empty means every type.
//   - InboxIDs and PodIDs: where from. An event matches when its inbox is in InboxIDs or its
//     pod is in PodIDs (a union: "these inboxes and these pods"). Both empty means the whole
//     organisation. Authorize never leaves them both empty for a pod or inbox key: it fills in
//     the key's pod or inbox, so a stored subscription is self-contained and can be indexed by
//     inbox, by pod or by organisation.
//
// Inbox ids are lower-case addresses, as everywhere in Pigeon.
type Subscription struct {
	OrgID      string
	InboxIDs   []string
	PodIDs     []string
	EventTypes []string
}

// Envelope is what fanout knows about an event without reading its body: where it happened and
// its type. InboxID is empty for events that belong to no inbox (domain.verified), and PodID is
// empty for an organisation-wide domain.
type Envelope struct {
	OrgID     string
	PodID     string
	InboxID   string
	EventType string
}

// Matches reports whether sub wants ev.
//
// An event without an inbox (domain.verified) reaches organisation-wide subscriptions and those
// naming its pod, never a subscription limited to inboxes.
func Matches(sub Subscription, ev Envelope) bool {
	if sub.OrgID != ev.OrgID {
		return false
	}
	if len(sub.EventTypes) > 0 && !slices.Contains(sub.EventTypes, ev.EventType) {
		return false
	}
	if len(sub.InboxIDs) == 0 && len(sub.PodIDs) == 0 {
		return true
	}
	if ev.InboxID != "" && slices.Contains(sub.InboxIDs, ev.InboxID) {
		return true
	}
	return ev.PodID != "" && slices.Contains(sub.PodIDs, ev.PodID)
}
