package drafts

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/k3a/html2text"

	"github.com/pigeon-mail/pigeon/shared/mail"
	"github.com/pigeon-mail/pigeon/shared/outbound"
	"github.com/pigeon-mail/pigeon/shared/ses"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Limits of a draft (see the package comment).
const (
	MaxSubjectBytes   = 2 << 10
	MaxBodyBytes      = outbound.MaxRequestBytes
	MaxClientIDLength = 256
	maxReplyTo        = 50
	previewRunes      = 200
)

// KindOf is what sending d does: a reply, a forward or a new message.
func KindOf(d wire.Draft) outbound.Kind {
	switch {
	case d.InReplyTo != "":
		return outbound.KindReply
	case d.ForwardOf != "":
		return outbound.KindForward
	}
	return outbound.KindSend
}

// Derive completes a new reply or forward draft from orig, the message it answers or
// forwards (found by the caller in the key's scope):
//
//   - reply: to and cc from the original unless the draft gives either (mail.ReplyRecipients:
//     Reply-To or From; with replyAll, also the original's To and Cc; never the inbox itself),
//     the "Re:" subject, in_reply_to = the original's message_id, references continuing its own;
//   - forward: the "Fwd:" subject unless one is given, forward_of = the original's message_id,
//     references as a reply's (the forward stays in the original's thread here).
func Derive(d *wire.Draft, inbox store.InboxRecord, orig *store.MessageRecord, replyAll bool) {
	_, refs := mail.ReplyReferences(orig.MessageID, orig.References)
	switch KindOf(*d) {
	case outbound.KindReply:
		if len(d.To) == 0 && len(d.Cc) == 0 {
			d.To, d.Cc = mail.ReplyRecipients(mail.Original{From: orig.From, ReplyTo: orig.ReplyTo, To: orig.To, Cc: orig.Cc}, inbox.InboxID, replyAll)
		}
		d.Subject = mail.ReplySubject(orig.Subject)
		d.InReplyTo, d.References = orig.MessageID, refs
	case outbound.KindForward:
		if strings.TrimSpace(d.Subject) == "" {
			d.Subject = mail.ForwardSubject(orig.Subject)
		}
		d.ForwardOf, d.References = orig.MessageID, refs
	}
}

// Check holds a draft about to be stored to the limits of the package comment, so that what
// is accepted can be sent. Errors are *outbound.InvalidError naming the field.
func Check(d *wire.Draft) error {
	count := 0
	for _, f := range []struct {
		name string
		list []string
	}{{"to", d.To}, {"cc", d.Cc}, {"bcc", d.Bcc}, {"reply_to", d.ReplyTo}} {
		addrs, err := mail.ParseAddressList(f.list)
		var ae *mail.AddressError
		if errors.As(err, &ae) {
			return invalid(fmt.Sprintf("%s[%d]", f.name, ae.Index), "%s", ae.Error())
		} else if err != nil {
			return invalid(f.name, "%v", err)
		}
		if f.name == "reply_to" {
			if len(addrs) > maxReplyTo {
				return invalid(f.name, "at most %d addresses", maxReplyTo)
			}
			continue
		}
		count += len(addrs)
	}
	if count > ses.MaxRecipients {
		return invalid("to", "%d recipients; a message goes to at most %d (to, cc and bcc together)", count, ses.MaxRecipients)
	}
	if len(d.Subject) > MaxSubjectBytes {
		return invalid("subject", "at most %d bytes", MaxSubjectBytes)
	}
	if strings.ContainsAny(d.Subject, "\r\n") {
		return invalid("subject", "must be one line")
	}
	if len(d.Text)+len(d.HTML) > MaxBodyBytes {
		return invalid("text", "text and html together are at most %d MB", MaxBodyBytes>>20)
	}
	if d.SendAt != nil && d.SendStatus != wire.DraftFailed {
		kind := KindOf(*d)
		if kind != outbound.KindReply && count == 0 {
			return invalid("send_at", "a scheduled draft needs a recipient (to, cc or bcc)")
		}
		if kind != outbound.KindForward && strings.TrimSpace(d.Text) == "" && strings.TrimSpace(d.HTML) == "" {
			return invalid("send_at", "a scheduled draft needs a body (text or html)")
		}
	}
	return nil
}

// Labels checks labels given to a draft (field names the request field): outbound's rule for
// user labels, and no control characters.
func Labels(field string, labels []string) ([]string, error) {
	out, err := outbound.UserLabels(field, labels)
	if err != nil {
		return nil, err
	}
	for i, l := range out {
		if strings.IndexFunc(l, unicode.IsControl) >= 0 {
			return nil, invalid(fmt.Sprintf("%s[%d]", field, i), "labels may not contain control characters")
		}
	}
	return out, nil
}

// Preview is the start of a draft's text (or of its html as text) on one line.
func Preview(text, htmlBody string) string {
	if strings.TrimSpace(text) == "" && htmlBody != "" {
		text = html2text.HTML2TextWithOptions(htmlBody, html2text.WithUnixLineBreaks())
	}
	var b strings.Builder
	n, space := 0, false
	for _, r := range text {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if n >= previewRunes {
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

func invalid(field, format string, args ...any) error {
	return &outbound.InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
