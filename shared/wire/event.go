package wire

// Event types (agentmail-v0 §7.1).
const (
	EventMessageReceived                = "message.received"
	EventMessageReceivedSpam            = "message.received.spam"
	EventMessageReceivedBlocked         = "message.received.blocked"
	EventMessageReceivedUnauthenticated = "message.received.unauthenticated"
	EventMessageSent                    = "message.sent"
	EventMessageDelivered               = "message.delivered"
	EventMessageBounced                 = "message.bounced"
	EventMessageComplained              = "message.complained"
	EventMessageRejected                = "message.rejected"
	EventMessageOpened                  = "message.opened"
	EventDomainVerified                 = "domain.verified"
)

// EventTypeEvent is the literal `type` of every event frame and webhook body.
const EventTypeEvent = "event"

// Event is the body of a webhook delivery and of a WebSocket event frame: the envelope and
// the payload keys of its event type (message + thread for the message.received family).
// Payload types for the other event types are added with the code that emits them.
type Event struct {
	Type      string      `json:"type"`
	EventType string      `json:"event_type"`
	EventID   string      `json:"event_id"`
	Message   *Message    `json:"message,omitempty"`
	Thread    *ThreadItem `json:"thread,omitempty"`
}
