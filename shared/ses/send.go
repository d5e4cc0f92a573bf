package ses

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// SES's limits for one SendEmail call.
const (
	MaxRecipients  = 50       // To + Cc + Bcc
	MaxMessageSize = 40 << 20 // bytes of the raw message after base64 encoding
	maxTagLength   = 256      // characters of a tag name or value
)

// Sender sends raw mail through SES v2.
type Sender struct {
	Client           *sesv2.Client
	ConfigurationSet string // passed on every send when set, so SES publishes the message's events
}

// SendInput is one message to send.
type SendInput struct {
	From       string   // the sending address (an identity SES has verified); the raw From header is what recipients see
	Recipients []string // the envelope: To, Cc and Bcc together
	Raw        []byte   // the complete message, as mail.Compose writes it
	// Tags travel with the message into every event SES publishes for it (mail.tags), which
	// is how those events find their message: e.g. inbox_id, message key. Names and values are
	// sanitised to SES's alphabet (see sanitizeTag); empty ones are dropped.
	Tags map[string]string
}

// Send submits in to SES and returns SES's message id. SES replaces the message's Message-ID
// header; MessageIDHeader(id, region) is the one recipients see. Errors are *Error values
// matching ErrRejected, ErrThrottled or ErrUnavailable (see classify), except a cancelled
// context and failures that are Pigeon's own configuration (credentials, permissions).
//
// Every recipient is given in Destination.ToAddresses: with raw content SES takes the envelope
// from Destination and leaves the headers alone, so Bcc recipients stay hidden.
func (s *Sender) Send(ctx context.Context, in SendInput) (string, error) {
	switch {
	case len(in.Recipients) == 0:
		return "", &Error{Kind: ErrRejected, Reason: "the message has no recipients"}
	case len(in.Recipients) > MaxRecipients:
		return "", &Error{Kind: ErrRejected, Reason: fmt.Sprintf("%d recipients; SES sends to at most %d per message", len(in.Recipients), MaxRecipients)}
	case base64.StdEncoding.EncodedLen(len(in.Raw)) > MaxMessageSize:
		return "", &Error{Kind: ErrRejected, Reason: fmt.Sprintf("the message is %d bytes; SES accepts at most 40 MB after base64 encoding", len(in.Raw))}
	}
	input := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(in.From),
		Destination:      &types.Destination{ToAddresses: in.Recipients},
		Content:          &types.EmailContent{Raw: &types.RawMessage{Data: in.Raw}},
		EmailTags:        messageTags(in.Tags),
	}
	if s.ConfigurationSet != "" {
		input.ConfigurationSetName = aws.String(s.ConfigurationSet)
	}
	out, err := s.Client.SendEmail(ctx, input)
	if err != nil {
		return "", classify(err)
	}
	if out.MessageId == nil || *out.MessageId == "" {
		return "", &Error{Kind: ErrUnavailable, Reason: "SES accepted the message but returned no message id"}
	}
	return *out.MessageId, nil
}

// messageTags converts tags to SES message tags, sorted by name.
func messageTags(tags map[string]string) []types.MessageTag {
	out := make([]types.MessageTag, 0, len(tags))
	for name, value := range tags {
		name, value = sanitizeTag(name), sanitizeTag(value)
		if name == "" || value == "" {
			continue
		}
		out = append(out, types.MessageTag{Name: aws.String(name), Value: aws.String(value)})
	}
	sort.Slice(out, func(i, j int) bool { return *out[i].Name < *out[j].Name })
	if len(out) == 0 {
		return nil
	}
	return out
}

// sanitizeTag maps s into SES's tag alphabet (ASCII letters, digits, "_" and "-"; at most 256
// characters, SESv2 API_MessageTag): every other character becomes "_". Pigeon's ids (inbox
// addresses, message keys) keep their shape recognisably: "agent@pigeon.local" →
// "agent_pigeon_local".
func sanitizeTag(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b = append(b, byte(r))
		default:
			b = append(b, '_')
		}
		if len(b) == maxTagLength {
			break
		}
	}
	return string(b)
}
