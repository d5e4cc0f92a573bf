package outbound

import (
	"fmt"
	"strings"
)

// InvalidError is a request that cannot be sent as given: Field names the offending input in
// the API's terms ("to[2]", "attachments[0].content"), Reason says why. The API answers 400.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Reason }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// TooLargeError is a request over one of the size limits. The API answers 413.
type TooLargeError struct {
	Field  string
	Reason string
}

func (e *TooLargeError) Error() string { return e.Field + ": " + e.Reason }

// BlockedError is a recipient that a send list (or the suppression list, which is the
// organisation's send block list) refuses. The API answers 403 MessageRejectedError.
type BlockedError struct {
	Address string
	Entry   string // the list entry that decided; "" in allow-list mode
	Reason  string // the entry's reason: for a suppression, the bounce or complaint and its message
}

// Error names the address and why, e.g. "bounce@simulator.amazonses.com is on the block list:
// permanent bounce (Permanent/General) of message <…@email.amazonses.com>".
func (e *BlockedError) Error() string {
	switch {
	case e.Entry == "":
		return "recipient " + e.Address + " is not on the send allow list"
	case e.Reason == "":
		return "recipient " + e.Address + " is blocked by the send list entry " + e.Entry
	case strings.EqualFold(e.Address, e.Entry):
		return e.Entry + " is on the block list: " + e.Reason
	}
	return "recipient " + e.Address + " is blocked by the send list entry " + e.Entry + ": " + e.Reason
}

// UnsentError is a send that SES did not take for a reason other than throttling or
// rejection: the message was recorded with status failed (MessageID, ThreadID). It unwraps to
// SES's error (ses.ErrUnavailable, usually).
type UnsentError struct {
	MessageID string
	ThreadID  string
	Err       error
}

func (e *UnsentError) Error() string {
	return fmt.Sprintf("message %s was not sent and is recorded as failed: %v", e.MessageID, e.Err)
}

func (e *UnsentError) Unwrap() error { return e.Err }
