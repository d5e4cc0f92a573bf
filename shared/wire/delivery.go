package wire

import "time"

// Delivery modes: how an inbox's sends leave Pigeon. They are Pigeon's additions to the wire
// format — Inbox.Delivery, and the per-send override SendMessageRequest.Delivery — and appear
// in REST bodies only. The TypeScript SDK strips unknown request keys, so its users choose
// the mode per inbox (a raw HTTP client can also choose it per send).
const (
	// DeliveryEmail sends through SES (the default).
	DeliveryEmail = "email"
	// DeliveryDryRun runs the whole send path except the SES call: the message is composed,
	// checked, stored and threaded as usual, gets a synthetic SES id, and its outcome is
	// simulated per recipient by the rules of SES's mailbox simulator (any other address is
	// delivered), producing the same status changes and events as real mail.
	DeliveryDryRun = "dry-run"
)

// ValidDelivery reports whether mode is a delivery mode ("" is not: callers default it).
func ValidDelivery(mode string) bool { return mode == DeliveryEmail || mode == DeliveryDryRun }

// DeliveryRecipient is where one recipient of a sent message stands: REST responses list them
// in Message.Delivery (Pigeon's addition, like Message.Status; never inside event payloads).
// Status is one of the message statuses (queued, sent, delayed, delivered, bounced,
// complained, rejected, failed); Detail is SES's explanation when it gave one (bounce type and
// diagnostic, complaint type).
type DeliveryRecipient struct {
	Address   string    `json:"address"`
	Status    string    `json:"status"`
	Detail    string    `json:"detail,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}
