// Package delivery is the delivery lifecycle of an outbound message: the state machine that SES
// event notifications (Send, Delivery, Bounce, Complaint, Reject, DeliveryDelay, Rendering
// Failure) drive, kept per recipient, and the rule that summarises the recipients into the
// message's status.
//
// SNS delivers at least once and in no particular order, so Apply is written to be safe under
// both: every recipient's status only moves forward (by rank), a notification already applied
// (same id) changes nothing, and a change emits its event once — the first time a recipient
// reaches a state.
package delivery

import (
	"slices"
	"strings"
	"time"
)

// Status is where a message, or one recipient of it, stands.
type Status string

const (
	Queued     Status = "queued"     // accepted by Pigeon, not yet handed to SES
	Sending    Status = "sending"    // being handed to SES
	Sent       Status = "sent"       // SES accepted it (Send event, or SendEmail returned)
	Delayed    Status = "delayed"    // SES is retrying a recipient (DeliveryDelay)
	Delivered  Status = "delivered"  // the recipient's server accepted it
	Bounced    Status = "bounced"    // permanent or given-up bounce
	Complained Status = "complained" // the recipient marked it as spam
	Rejected   Status = "rejected"   // SES refused the message (virus)
	Failed     Status = "failed"     // Pigeon or SES could not send it (rendering failure, SES unreachable)
)

// rank orders statuses: a recipient never moves to a lower rank. A Complaint after a Delivery
// is recorded (complained outranks delivered); a late Send after a Delivery changes nothing.
var rank = map[Status]int{
	Queued: 0, Sending: 1, Sent: 2, Delayed: 3, Delivered: 4, Bounced: 5, Complained: 6,
	Rejected: 7, Failed: 7,
}

// Terminal reports whether s ends the message's lifecycle as a whole.
func (s Status) Terminal() bool { return s == Rejected || s == Failed }

// Kind is the type of an SES event notification.
type Kind string

const (
	KindSend             Kind = "Send"
	KindDelivery         Kind = "Delivery"
	KindBounce           Kind = "Bounce"
	KindComplaint        Kind = "Complaint"
	KindReject           Kind = "Reject"
	KindDeliveryDelay    Kind = "DeliveryDelay"
	KindRenderingFailure Kind = "Rendering Failure"
)

// Notification is one SES event about one message, reduced to what the lifecycle needs.
type Notification struct {
	ID         string    // dedupe key: feedbackId for bounces/complaints, else the SNS MessageId
	Kind       Kind      //
	Timestamp  time.Time // when SES says it happened
	Recipients []string  // the recipients this event covers (empty for Send/Reject/Rendering Failure)
	Type       string    // bounceType / complaintFeedbackType / delayType
	SubType    string    // bounceSubType / complaintSubType
	Reason     string    // reject reason, rendering error, or a diagnostic code
	// Diagnostics holds per-recipient SMTP status or diagnostic text, when SES gives one.
	Diagnostics map[string]string
}

// Recipient is the outcome for one recipient of a message.
type Recipient struct {
	Address   string    `json:"address"`
	Status    Status    `json:"status"`
	Detail    string    `json:"detail,omitempty"` // bounce type/subtype, diagnostic, complaint type
	UpdatedAt time.Time `json:"updated_at"`
}

// State is the lifecycle of one message: its recipients' outcomes and the notifications seen.
type State struct {
	Status     Status      `json:"status"`
	Recipients []Recipient `json:"recipients"`
	Reason     string      `json:"reason,omitempty"` // why it was rejected or failed
	Applied    []string    `json:"applied,omitempty"`
}

// MaxApplied bounds how many notification ids a State remembers. Duplicates beyond it are still
// harmless: a recipient's status cannot move twice to the same state, so no event repeats.
const MaxApplied = 64

// New is the state of a message addressed to recipients that Pigeon has not yet handed to SES.
func New(recipients []string) State {
	s := State{Status: Queued}
	for _, r := range recipients {
		addr := normalise(r)
		if addr == "" || slices.ContainsFunc(s.Recipients, func(x Recipient) bool { return x.Address == addr }) {
			continue
		}
		s.Recipients = append(s.Recipients, Recipient{Address: addr, Status: Queued})
	}
	return s
}

// Change is one user-visible event that applying a notification produced.
type Change struct {
	Kind       Kind
	Recipients []string // the recipients that newly reached this state (as SES wrote them)
	Type       string
	SubType    string
	Reason     string
	Timestamp  time.Time
}

// Apply returns the state after n and the events it emits. It never mutates s.
func Apply(s State, n Notification) (State, []Change) {
	next := s.clone()
	if n.ID != "" {
		if slices.Contains(s.Applied, n.ID) {
			return s, nil
		}
		next.Applied = append(next.Applied, n.ID)
		if len(next.Applied) > MaxApplied {
			next.Applied = next.Applied[len(next.Applied)-MaxApplied:]
		}
	}
	var changes []Change
	switch n.Kind {
	case KindSend:
		if moved := next.advance(nil, Sent, nil, n.Timestamp); len(moved) > 0 {
			changes = append(changes, Change{Kind: KindSend, Recipients: moved, Timestamp: n.Timestamp})
		}
	case KindDelivery:
		if moved := next.advance(n.Recipients, Delivered, n.Diagnostics, n.Timestamp); len(moved) > 0 {
			changes = append(changes, Change{Kind: KindDelivery, Recipients: moved, Timestamp: n.Timestamp})
		}
	case KindDeliveryDelay:
		next.advance(n.Recipients, Delayed, n.Diagnostics, n.Timestamp)
	case KindBounce:
		detail := map[string]string{}
		for _, r := range n.Recipients {
			detail[normalise(r)] = strings.Trim(n.Type+"/"+n.SubType, "/")
			if d := n.Diagnostics[r]; d != "" {
				detail[normalise(r)] += ": " + d
			}
		}
		if moved := next.advance(n.Recipients, Bounced, detail, n.Timestamp); len(moved) > 0 {
			changes = append(changes, Change{Kind: KindBounce, Recipients: moved, Type: n.Type, SubType: n.SubType, Timestamp: n.Timestamp})
		}
	case KindComplaint:
		if moved := next.advance(n.Recipients, Complained, nil, n.Timestamp); len(moved) > 0 {
			changes = append(changes, Change{Kind: KindComplaint, Recipients: moved, Type: n.Type, SubType: n.SubType, Timestamp: n.Timestamp})
		}
	case KindReject, KindRenderingFailure:
		if !next.Status.Terminal() {
			next.Status, next.Reason = Rejected, n.Reason
			if n.Kind == KindRenderingFailure {
				next.Status = Failed
			}
			if n.Kind == KindReject {
				changes = append(changes, Change{Kind: KindReject, Reason: n.Reason, Timestamp: n.Timestamp})
			}
		}
	}
	next.summarise()
	return next, changes
}

// Fail marks a message that could not be handed to SES at all.
func Fail(s State, reason string) State {
	next := s.clone()
	if !next.Status.Terminal() {
		next.Status, next.Reason = Failed, reason
	}
	return next
}

// advance moves the named recipients (all of them when names is nil) to st where that is
// forward, and returns the addresses that moved. An address SES reports that the message did
// not list (SES may report a recipient in another form) is added, so nothing is lost.
func (s *State) advance(names []string, st Status, detail map[string]string, at time.Time) []string {
	if names == nil {
		for _, r := range s.Recipients {
			names = append(names, r.Address)
		}
	}
	var moved []string
	for _, name := range names {
		addr := normalise(name)
		if addr == "" {
			continue
		}
		i := slices.IndexFunc(s.Recipients, func(r Recipient) bool { return r.Address == addr })
		if i < 0 {
			s.Recipients = append(s.Recipients, Recipient{Address: addr, Status: Queued})
			i = len(s.Recipients) - 1
		}
		r := &s.Recipients[i]
		if rank[st] <= rank[r.Status] {
			continue
		}
		r.Status, r.UpdatedAt = st, at
		if d := detail[addr]; d != "" {
			r.Detail = d
		} else if d := detail[name]; d != "" {
			r.Detail = d
		}
		moved = append(moved, name)
	}
	return moved
}

// summarise derives the message status from its recipients, by this rule:
//
//	rejected / failed  stay (set by Reject, Rendering Failure or a failed send)
//	complained         if any recipient complained
//	bounced            else if any recipient bounced (recipients tell which)
//	delivered          else if every recipient was delivered
//	delayed            else if any recipient is delayed
//	sent / sending / queued   else the least advanced recipient's state
//
// Each recipient only moves forward, and this rule is monotone in every recipient, so the
// message status never moves backwards either.
func (s *State) summarise() {
	if s.Status.Terminal() {
		return
	}
	count := map[Status]int{}
	least := Complained
	for _, r := range s.Recipients {
		count[r.Status]++
		if rank[r.Status] < rank[least] {
			least = r.Status
		}
	}
	var st Status
	switch {
	case count[Complained] > 0:
		st = Complained
	case count[Bounced] > 0:
		st = Bounced
	case len(s.Recipients) > 0 && count[Delivered] == len(s.Recipients):
		st = Delivered
	case count[Delayed] > 0:
		st = Delayed
	case len(s.Recipients) == 0:
		st = s.Status
	default: // some recipients are still on their way: the least advanced one speaks
		st = least
	}
	if rank[st] > rank[s.Status] {
		s.Status = st
	}
}

func (s State) clone() State {
	s.Recipients = slices.Clone(s.Recipients)
	s.Applied = slices.Clone(s.Applied)
	return s
}

// normalise is the form recipients are compared in: the bare address, lower-cased.
func normalise(addr string) string {
	addr = strings.TrimSpace(addr)
	if i := strings.LastIndexByte(addr, '<'); i >= 0 {
		addr = strings.TrimSuffix(addr[i+1:], ">")
	}
	return strings.ToLower(strings.TrimSpace(addr))
}
