// Package wsproto is the WebSocket protocol of AgentMail v0 without the
// transport: what a client may send (a subscribe frame), what Pigeon answers (subscribed or
// error) and how a connection's subscription changes. The ws function runs it on API Gateway's
// $default route; the frames it returns go back to the client as the route's response.
//
// Decisions on the points the spec leaves open (§12):
//   - A connection receives nothing until it subscribes; the SDK never relies on events before
//     its first sendSubscribe.
//   - A subscribe with no inbox_ids and no pod_ids means everything the key may see; without
//     event_types, every type the key may receive (events.Scope.Authorize).
//   - A new subscribe replaces the previous subscription as a whole. A refused subscribe answers
//     an error frame and leaves the previous subscription in force.
//   - Error names follow the REST API's: ValidationError (malformed frame, unknown type or event
//     type), ForbiddenError (what the key's kind or permissions exclude), NotFoundError (an
//     inbox or pod that does not exist or is outside the key's scope — the two look alike, as
//     over REST).
package wsproto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pigeon-mail/pigeon/shared/events"
)

// Frame types.
const (
	TypeSubscribe  = "subscribe"
	TypeSubscribed = "subscribed"
	TypeError      = "error"
)

// Error names sent in error frames.
const (
	ValidationError = "ValidationError"
	ForbiddenError  = "ForbiddenError"
	NotFoundError   = "NotFoundError"
)

// maxIDs bounds each list of a subscribe frame.
const maxIDs = 100

// Subscribe is the one frame a client sends.
type Subscribe struct {
	Type       string   `json:"type"`
	EventTypes []string `json:"event_types,omitempty"`
	InboxIDs   []string `json:"inbox_ids,omitempty"`
	PodIDs     []string `json:"pod_ids,omitempty"`
}

// Subscribed acknowledges a subscribe with the subscription as accepted: ids normalised and, for
// pod and inbox keys, the key's pod or inbox filled in when the client named none.
type Subscribed struct {
	Type       string   `json:"type"`
	EventTypes []string `json:"event_types,omitempty"`
	InboxIDs   []string `json:"inbox_ids,omitempty"`
	PodIDs     []string `json:"pod_ids,omitempty"`
}

// Error refuses a frame.
type Error struct {
	Type    string `json:"type"`
	Name    string `json:"name"`
	Message string `json:"message"`
}

// Connection is the protocol state of one WebSocket connection: the scope of the API key it
// authenticated with at $connect and its current subscription (nil before the first accepted
// subscribe). The store keeps it between invocations of the ws function.
type Connection struct {
	Scope        events.Scope
	Subscription *events.Subscription
}

// Receive handles one frame from the client: it returns the frame to send back and whether the
// subscription changed (so the caller knows to save it). err is not nil only when the directory
// failed; the caller then fails the invocation and API Gateway tells the client there was an
// internal error.
func (c *Connection) Receive(ctx context.Context, dir events.Directory, frame []byte) (reply []byte, changed bool, err error) {
	sub, refusal, err := c.subscribe(ctx, dir, frame)
	if err != nil {
		return nil, false, err
	}
	if refusal != nil {
		return encode(refusal), false, nil
	}
	c.Subscription = &sub
	return encode(Subscribed{
		Type: TypeSubscribed, EventTypes: sub.EventTypes, InboxIDs: sub.InboxIDs, PodIDs: sub.PodIDs,
	}), true, nil
}

// Wants reports whether the connection's subscription matches ev.
func (c *Connection) Wants(ev events.Envelope) bool {
	return c.Subscription != nil && events.Matches(*c.Subscription, ev)
}

func (c *Connection) subscribe(ctx context.Context, dir events.Directory, frame []byte) (events.Subscription, *Error, error) {
	req, refusal := Parse(frame)
	if refusal != nil {
		return events.Subscription{}, refusal, nil
	}
	sub, err := c.Scope.Authorize(ctx, dir, events.Subscription{
		InboxIDs: req.InboxIDs, PodIDs: req.PodIDs, EventTypes: req.EventTypes,
	})
	switch {
	case err == nil:
		return sub, nil, nil
	case errors.Is(err, events.ErrInvalid):
		return sub, refuse(ValidationError, err.Error()), nil
	case errors.Is(err, events.ErrForbidden):
		return sub, refuse(ForbiddenError, err.Error()), nil
	case errors.Is(err, events.ErrNotFound):
		return sub, refuse(NotFoundError, err.Error()), nil
	}
	return sub, nil, err
}

// Parse decodes a client frame into a Subscribe, or the error frame that refuses it: not a
// JSON object, a type other than "subscribe", lists that are not arrays of strings, or more
// than 100 entries in a list. Unknown keys are ignored (the SDK strips its own unknown keys;
// other clients may add some). null lists count as absent.
func Parse(frame []byte) (Subscribe, *Error) {
	var head struct {
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(frame, &head); err != nil || !bytes.HasPrefix(bytes.TrimSpace(frame), []byte("{")) {
		return Subscribe{}, refuse(ValidationError, "frame is not a JSON object")
	}
	if head.Type == nil {
		return Subscribe{}, refuse(ValidationError, `frame has no "type"; send {"type":"subscribe", ...}`)
	}
	if *head.Type != TypeSubscribe {
		return Subscribe{}, refuse(ValidationError, fmt.Sprintf("unknown frame type %q; the only one is %q", *head.Type, TypeSubscribe))
	}
	var s Subscribe
	if err := json.Unmarshal(frame, &s); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return Subscribe{}, refuse(ValidationError, typeErr.Field+" must be an array of strings")
		}
		return Subscribe{}, refuse(ValidationError, "frame is not a valid subscribe message")
	}
	for _, l := range []struct {
		name string
		ids  []string
	}{{"event_types", s.EventTypes}, {"inbox_ids", s.InboxIDs}, {"pod_ids", s.PodIDs}} {
		if len(l.ids) > maxIDs {
			return Subscribe{}, refuse(ValidationError, fmt.Sprintf("%s has more than %d entries", l.name, maxIDs))
		}
	}
	return s, nil
}

func refuse(name, msg string) *Error { return &Error{Type: TypeError, Name: name, Message: msg} }

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("wsproto: " + err.Error()) // the frame types are plain strings and string lists
	}
	return b
}
