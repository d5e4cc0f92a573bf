package wire

import "slices"

// Lifecycle labels, set by the server as a message moves through sending and delivery,
// besides LabelReceived and LabelSent. LabelFailed is Pigeon's: a
// message SES could not be reached for, recorded so that it is not lost.
const (
	LabelDelivered  = "delivered"
	LabelBounced    = "bounced"
	LabelComplained = "complained"
	LabelDelayed    = "delayed"
	LabelRejected   = "rejected"
	LabelOpened     = "opened"
	LabelFailed     = "failed"
)

// lifecycleLabels are the labels clients may neither add nor remove.
var lifecycleLabels = []string{
	LabelReceived, LabelSent, LabelDelivered, LabelBounced, LabelComplained, LabelDelayed,
	LabelRejected, LabelOpened, LabelFailed,
}

// IsLifecycleLabel reports whether l (lower-case) is a label only the server sets.
func IsLifecycleLabel(l string) bool { return slices.Contains(lifecycleLabels, l) }
