package wire

import "time"

// Event types of AgentMail v0.
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
// Exactly one payload is set, the one of its event type.
type Event struct {
	Type      string      `json:"type"`
	EventType string      `json:"event_type"`
	EventID   string      `json:"event_id"`
	Message   *Message    `json:"message,omitempty"`
	Thread    *ThreadItem `json:"thread,omitempty"`
	Send      *Send       `json:"send,omitempty"`
	Delivery  *Delivery   `json:"delivery,omitempty"`
	Bounce    *Bounce     `json:"bounce,omitempty"`
	Complaint *Complaint  `json:"complaint,omitempty"`
	Reject    *Reject     `json:"reject,omitempty"`
}

// MessageID is the id of the message the event is about, whichever payload it carries ("" for
// events about no message, such as domain.verified).
func (e Event) MessageID() string {
	switch {
	case e.Message != nil:
		return e.Message.MessageID
	case e.Send != nil:
		return e.Send.MessageID
	case e.Delivery != nil:
		return e.Delivery.MessageID
	case e.Bounce != nil:
		return e.Bounce.MessageID
	case e.Complaint != nil:
		return e.Complaint.MessageID
	case e.Reject != nil:
		return e.Reject.MessageID
	}
	return ""
}

// Send is the payload of message.sent: SES accepted the message for these recipients.
type Send struct {
	InboxID    string    `json:"inbox_id"`
	ThreadID   string    `json:"thread_id"`
	MessageID  string    `json:"message_id"`
	Timestamp  time.Time `json:"timestamp"`
	Recipients []string  `json:"recipients"`
}

// Delivery is the payload of message.delivered: the recipients' servers accepted it.
type Delivery struct {
	InboxID    string    `json:"inbox_id"`
	ThreadID   string    `json:"thread_id"`
	MessageID  string    `json:"message_id"`
	Timestamp  time.Time `json:"timestamp"`
	Recipients []string  `json:"recipients"`
}

// Bounce is the payload of message.bounced. Type and SubType are SES's bounceType and
// bounceSubType (Permanent/General, Transient/MailboxFull, …).
type Bounce struct {
	InboxID    string            `json:"inbox_id"`
	ThreadID   string            `json:"thread_id"`
	MessageID  string            `json:"message_id"`
	Timestamp  time.Time         `json:"timestamp"`
	Type       string            `json:"type"`
	SubType    string            `json:"sub_type"`
	Recipients []BounceRecipient `json:"recipients"`
}

// BounceRecipient is one bounced recipient and its status (SMTP status or SES's action).
type BounceRecipient struct {
	Address string `json:"address"`
	Status  string `json:"status"`
}

// Complaint is the payload of message.complained.
type Complaint struct {
	InboxID    string    `json:"inbox_id"`
	ThreadID   string    `json:"thread_id"`
	MessageID  string    `json:"message_id"`
	Timestamp  time.Time `json:"timestamp"`
	Type       string    `json:"type"`
	SubType    string    `json:"sub_type"`
	Recipients []string  `json:"recipients"`
}

// Reject is the payload of message.rejected.
type Reject struct {
	InboxID   string    `json:"inbox_id"`
	ThreadID  string    `json:"thread_id"`
	MessageID string    `json:"message_id"`
	Timestamp time.Time `json:"timestamp"`
	Reason    string    `json:"reason"`
}

// Inbox event types: the label audit log of GET /v0/inboxes/{inbox_id}/events (§7.3). They
// are listed, never pushed to WebSocket connections or webhooks.
const (
	EventLabelAdded   = "label.added"
	EventLabelRemoved = "label.removed"
)

// InboxEvent is one entry of an inbox's label audit log.
type InboxEvent struct {
	OrganizationID string    `json:"organization_id"`
	PodID          string    `json:"pod_id"`
	InboxID        string    `json:"inbox_id"`
	EventID        string    `json:"event_id"`
	EventType      string    `json:"event_type"`
	MessageID      string    `json:"message_id"`
	Label          string    `json:"label"`
	EventAt        time.Time `json:"event_at"`
	CreatedAt      time.Time `json:"created_at"`
}

// ListInboxEventsResponse is a page of an inbox's label events, newest first.
type ListInboxEventsResponse struct {
	Count         int          `json:"count"`
	Limit         int          `json:"limit,omitempty"`
	NextPageToken string       `json:"next_page_token,omitempty"`
	Events        []InboxEvent `json:"events"`
}
