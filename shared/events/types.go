// Package events is what Pigeon's real-time events are and who gets them: the event types of
// AgentMail v0, subscriptions and the rule that matches an event to one,
// the scope check that keeps a pod or inbox key inside its tenancy, and the size rule that fits
// an event into an API Gateway WebSocket frame.
//
// The package knows no storage and no transport. The store writes the event items and keeps
// connections, subscriptions and webhooks; fanout asks Matches which of them want an event;
// package wsproto turns a client's subscribe frame into a Subscription through Scope.Authorize.
package events

import (
	"fmt"
	"slices"
)

// The event types, exactly as the SDKs spell them.
const (
	MessageReceived                = "message.received"
	MessageReceivedSpam            = "message.received.spam"
	MessageReceivedBlocked         = "message.received.blocked"
	MessageReceivedUnauthenticated = "message.received.unauthenticated"
	MessageSent                    = "message.sent"
	MessageDelivered               = "message.delivered"
	MessageBounced                 = "message.bounced"
	MessageComplained              = "message.complained"
	MessageRejected                = "message.rejected"
	MessageOpened                  = "message.opened"
	DomainVerified                 = "domain.verified"
)

var allTypes = []string{
	MessageReceived, MessageReceivedSpam, MessageReceivedBlocked, MessageReceivedUnauthenticated,
	MessageSent, MessageDelivered, MessageBounced, MessageComplained, MessageRejected,
	MessageOpened, DomainVerified,
}

// Types returns every event type, in the order of the spec.
func Types() []string { return slices.Clone(allTypes) }

// IsType reports whether t is one of the event types.
func IsType(t string) bool { return slices.Contains(allTypes, t) }

// Permission is the API key permission needed to receive events of type t, or "" when the
// type needs none beyond the key's scope. Mail that lands in spam, blocked or unauthenticated
// is only visible to keys that may read those labels, over webhooks and
// WebSocket alike.
func Permission(t string) string {
	switch t {
	case MessageReceivedSpam:
		return "label_spam_read"
	case MessageReceivedBlocked:
		return "label_blocked_read"
	case MessageReceivedUnauthenticated:
		return "label_unauthenticated_read"
	}
	return ""
}

// CheckTypes reports the first entry of ts that is not an event type, as an error wrapping
// ErrInvalid. An empty list is valid (it means every type).
func CheckTypes(ts []string) error {
	for _, t := range ts {
		if !IsType(t) {
			return deny(ErrInvalid, fmt.Sprintf("unknown event type %q", t))
		}
	}
	return nil
}
