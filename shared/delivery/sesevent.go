package delivery

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// SESEvent is an SES event-publishing record, as SNS carries it in Records[].Sns.Message
// (aws-lambda-go has no type for it).
type SESEvent struct {
	EventType        string            `json:"eventType"`
	NotificationType string            `json:"notificationType"` // identity notifications use this instead
	Mail             SESMail           `json:"mail"`
	Bounce           *SESBounce        `json:"bounce,omitempty"`
	Complaint        *SESComplaint     `json:"complaint,omitempty"`
	Delivery         *SESDelivery      `json:"delivery,omitempty"`
	Reject           *SESReject        `json:"reject,omitempty"`
	DeliveryDelay    *SESDeliveryDelay `json:"deliveryDelay,omitempty"`
	Failure          *SESFailure       `json:"failure,omitempty"`
	Send             *struct{}         `json:"send,omitempty"`
}

// SESMail is the mail object every event carries.
type SESMail struct {
	Timestamp   time.Time           `json:"timestamp"`
	MessageID   string              `json:"messageId"` // the SES message id
	Source      string              `json:"source"`
	Destination []string            `json:"destination"`
	Tags        map[string][]string `json:"tags,omitempty"`
}

type SESBounce struct {
	BounceType        string `json:"bounceType"`
	BounceSubType     string `json:"bounceSubType"`
	BouncedRecipients []struct {
		EmailAddress   string `json:"emailAddress"`
		Action         string `json:"action,omitempty"`
		Status         string `json:"status,omitempty"`
		DiagnosticCode string `json:"diagnosticCode,omitempty"`
	} `json:"bouncedRecipients"`
	Timestamp  time.Time `json:"timestamp"`
	FeedbackID string    `json:"feedbackId"`
}

type SESComplaint struct {
	ComplainedRecipients []struct {
		EmailAddress string `json:"emailAddress"`
	} `json:"complainedRecipients"`
	Timestamp             time.Time `json:"timestamp"`
	FeedbackID            string    `json:"feedbackId"`
	ComplaintSubType      *string   `json:"complaintSubType"`
	ComplaintFeedbackType string    `json:"complaintFeedbackType,omitempty"`
}

type SESDelivery struct {
	Timestamp    time.Time `json:"timestamp"`
	Recipients   []string  `json:"recipients"`
	SMTPResponse string    `json:"smtpResponse"`
}

type SESReject struct {
	Reason string `json:"reason"`
}

type SESDeliveryDelay struct {
	DelayType         string `json:"delayType"`
	DelayedRecipients []struct {
		EmailAddress   string `json:"emailAddress"`
		Status         string `json:"status,omitempty"`
		DiagnosticCode string `json:"diagnosticCode,omitempty"`
	} `json:"delayedRecipients"`
	Timestamp time.Time `json:"timestamp"`
}

type SESFailure struct {
	TemplateName string `json:"templateName"`
	ErrorMessage string `json:"errorMessage"`
}

// ErrNotLifecycle marks an SES event that does not concern the delivery lifecycle (Open,
// Click, Subscription, identity notifications): callers acknowledge and skip it.
var ErrNotLifecycle = errors.New("delivery: not a delivery lifecycle event")

// ParseSESEvent reads an SES event record. snsMessageID is the dedupe key for events that have
// no feedbackId of their own.
func ParseSESEvent(body []byte, snsMessageID string) (sesMessageID string, n Notification, err error) {
	var ev SESEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return "", Notification{}, fmt.Errorf("delivery: SES event is not JSON: %w", err)
	}
	if ev.Mail.MessageID == "" {
		return "", Notification{}, fmt.Errorf("delivery: SES event without mail.messageId")
	}
	n = Notification{ID: snsMessageID, Kind: Kind(ev.EventType), Timestamp: ev.Mail.Timestamp}
	switch n.Kind {
	case KindSend:
	case KindDelivery:
		if ev.Delivery == nil {
			return "", Notification{}, fmt.Errorf("delivery: Delivery event without delivery object")
		}
		n.Timestamp, n.Recipients, n.Reason = ev.Delivery.Timestamp, ev.Delivery.Recipients, ev.Delivery.SMTPResponse
	case KindBounce:
		if ev.Bounce == nil {
			return "", Notification{}, fmt.Errorf("delivery: Bounce event without bounce object")
		}
		b := ev.Bounce
		n.Timestamp, n.Type, n.SubType = b.Timestamp, b.BounceType, b.BounceSubType
		if b.FeedbackID != "" {
			n.ID = b.FeedbackID
		}
		n.Diagnostics = map[string]string{}
		for _, r := range b.BouncedRecipients {
			n.Recipients = append(n.Recipients, r.EmailAddress)
			if d := firstNonEmpty(r.DiagnosticCode, r.Status); d != "" {
				n.Diagnostics[r.EmailAddress] = d
			}
		}
	case KindComplaint:
		if ev.Complaint == nil {
			return "", Notification{}, fmt.Errorf("delivery: Complaint event without complaint object")
		}
		c := ev.Complaint
		n.Timestamp, n.Type = c.Timestamp, firstNonEmpty(c.ComplaintFeedbackType, "abuse")
		if c.ComplaintSubType != nil {
			n.SubType = *c.ComplaintSubType
		}
		if c.FeedbackID != "" {
			n.ID = c.FeedbackID
		}
		for _, r := range c.ComplainedRecipients {
			n.Recipients = append(n.Recipients, r.EmailAddress)
		}
	case KindReject:
		if ev.Reject != nil {
			n.Reason = ev.Reject.Reason
		}
	case KindDeliveryDelay:
		if ev.DeliveryDelay == nil {
			return "", Notification{}, fmt.Errorf("delivery: DeliveryDelay event without deliveryDelay object")
		}
		d := ev.DeliveryDelay
		n.Timestamp, n.Type = d.Timestamp, d.DelayType
		n.Diagnostics = map[string]string{}
		for _, r := range d.DelayedRecipients {
			n.Recipients = append(n.Recipients, r.EmailAddress)
			if diag := firstNonEmpty(r.DiagnosticCode, r.Status); diag != "" {
				n.Diagnostics[r.EmailAddress] = diag
			}
		}
	case KindRenderingFailure:
		if ev.Failure != nil {
			n.Reason = ev.Failure.ErrorMessage
		}
	default:
		return ev.Mail.MessageID, Notification{}, ErrNotLifecycle
	}
	if n.Timestamp.IsZero() {
		n.Timestamp = ev.Mail.Timestamp
	}
	n.Timestamp = n.Timestamp.UTC()
	return ev.Mail.MessageID, n, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
