package sesevents

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/pigeon-mail/pigeon/shared/ses"
)

// DryRun stands in for SES on dry-run sends (wire.DeliveryDryRun): the send path runs
// unchanged up to the SES call, DryRun.Send takes the message as SES would (same checks, an
// SES-shaped synthetic id, nothing leaves Pigeon), and once the message is recorded the send
// path calls Settle, which runs the notifications SES would have published (Simulate: the
// mailbox simulator's rules, any other address delivered) through Handler, in order, before
// the send answers.
//
// Settle runs in the process that sent — the api function in AWS, the local stack's API
// locally — rather than through SNS: there is no SES to publish, and a Lambda function's
// process may be frozen as soon as it answers, so nothing is left to run after the response.
// The outcome is therefore already settled (delivered, bounced, …) when the send returns,
// with the same status changes, labels, events and suppressions as real mail.
type DryRun struct {
	Handler          *Handler
	Topic            Topic            // the account and Region the notifications claim to come from
	ConfigurationSet string           // mail.tags.ses:configuration-set, as for real sends
	Now              func() time.Time // time.Now when nil
}

// DryRunIDPrefix starts every synthetic SES id, so dry-run messages are recognisable by their
// message id (<dryrun-…@email.amazonses.com>).
const DryRunIDPrefix = "dryrun-"

// Send checks in as SES's SendEmail does and returns a synthetic SES message id. Errors are
// *ses.Error values matching ses.ErrRejected, as SES's would be.
func (d *DryRun) Send(ctx context.Context, in ses.SendInput) (string, error) {
	switch {
	case len(in.Recipients) == 0:
		return "", &ses.Error{Kind: ses.ErrRejected, Reason: "the message has no recipients"}
	case len(in.Recipients) > ses.MaxRecipients:
		return "", &ses.Error{Kind: ses.ErrRejected, Reason: fmt.Sprintf("%d recipients; SES sends to at most %d per message", len(in.Recipients), ses.MaxRecipients)}
	case base64.StdEncoding.EncodedLen(len(in.Raw)) > ses.MaxMessageSize:
		return "", &ses.Error{Kind: ses.ErrRejected, Reason: fmt.Sprintf("the message is %d bytes; SES accepts at most 40 MB after base64 encoding", len(in.Raw))}
	}
	return fmt.Sprintf("%s%012x-%s-000000", DryRunIDPrefix, d.now().UnixMilli(), newUUID()), nil
}

// Settle applies to the recorded message sesMessageID (from Send) the notifications SES would
// have published for in. An error means a notification could not be applied; the message
// then stays where the earlier ones left it.
func (d *DryRun) Settle(ctx context.Context, sesMessageID string, in ses.SendInput) error {
	tags := make(map[string]string, len(in.Tags))
	for k, v := range in.Tags {
		if k, v = tagText(k), tagText(v); k != "" && v != "" {
			tags[k] = v
		}
	}
	mail := Mail{
		SESMessageID: sesMessageID, Source: in.From, Destination: in.Recipients, Raw: in.Raw,
		Tags: tags, ConfigurationSet: d.ConfigurationSet, Timestamp: d.now().UTC(),
	}
	for _, ev := range Simulate(mail, d.Topic) {
		if err := d.Handler.HandleSNS(ctx, ev); err != nil {
			return fmt.Errorf("sesevents: dry run of %s: %w", sesMessageID, err)
		}
	}
	return nil
}

// tagText maps s into SES's tag alphabet as the real sender does (package ses): letters,
// digits, "_" and "-", anything else "_".
func tagText(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

func (d *DryRun) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}
