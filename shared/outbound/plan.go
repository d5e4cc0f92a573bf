package outbound

import (
	"errors"
	"fmt"
	"html"
	netmail "net/mail"
	"slices"
	"strings"
	"time"

	"github.com/pigeon-mail/pigeon/shared/mail"
	"github.com/pigeon-mail/pigeon/shared/ses"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Kind is what a send does.
type Kind string

const (
	KindSend     Kind = "send"      // a new message (POST …/messages/send)
	KindReply    Kind = "reply"     // an answer to the original's sender (…/reply)
	KindReplyAll Kind = "reply-all" // an answer to everyone on the original (…/reply-all)
	KindForward  Kind = "forward"   // the original passed on to new recipients (…/forward)
)

// Request is one send as the API received it, shapes already checked.
type Request struct {
	Kind Kind
	// Original is the message answered or forwarded (bodies loaded), resolved by the caller
	// within the key's scope; nil for KindSend.
	Original *store.MessageRecord
	// ReplyAll turns a KindReply into a reply to everyone (reply_all: true).
	ReplyAll bool
	// Recipients. For replies, To and Cc replace the derived ones when given, and Bcc adds to
	// them; reply-all takes none of these (its recipients are derived).
	To, Cc, Bcc, ReplyTo []string
	Subject              string // send and forward; replies answer "Re: <original subject>"
	Text, HTML           string
	Labels               []string // added to "sent"; lower-cased
	Headers              map[string]string
	Attachments          []Attachment
	IdempotencyKey       string
	// Fingerprint is what IdempotencyKey is bound to: the caller's digest of the request (its
	// route, target and body). The key reused with another fingerprint is
	// store.ErrIdempotencyKeyReused.
	Fingerprint string
	// Delivery overrides the inbox's delivery mode for this send: wire.DeliveryEmail or
	// wire.DeliveryDryRun; "" keeps the inbox's.
	Delivery string
}

// Attachment is one attachment of a request: Content (base64) or URL, exactly one.
type Attachment struct {
	Filename           string
	ContentType        string
	ContentDisposition string
	ContentID          string
	Content            string // base64
	URL                string
}

// plan is a request checked and derived into the mail to compose, before attachments are
// gathered.
type plan struct {
	out       mail.Outgoing
	labels    []string // user labels, lower-cased, no lifecycle ones
	envelope  []string // bare addresses of to, cc and bcc, each once
	forwarded bool     // re-attach the original's attachments
}

// forwardDateLayout shows the original's date in a forward, as Gmail does.
const forwardDateLayout = "Mon, 2 Jan 2006 at 15:04"

// newPlan checks req against the rules of its kind and derives what it leaves to the server:
//
//   - send: at least one recipient, a text or html body;
//   - reply: recipients from the original (Reply-To, else From; reply-all adds its To and Cc;
//     never the inbox itself: mail.ReplyRecipients), "Re: " subject, In-Reply-To and
//     References continuing the original's (mail.ReplyReferences), so the reply joins the
//     original's thread here and in the recipients' mail clients;
//   - forward: recipients from the caller, "Fwd: " subject unless one is given, the caller's
//     text and html followed by the original's in a forwarded-message block (mail.ForwardBody),
//     the original's attachments re-attached, and In-Reply-To/References to the original so
//     that the forward stays in the original's thread in this inbox (as Gmail does);
//   - everywhere: at most ses.MaxRecipients recipients, addresses SES can send to, labels that
//     are not lifecycle labels (lower-cased).
func newPlan(inbox store.InboxRecord, req Request, now time.Time) (*plan, error) {
	p := &plan{}
	labels, err := userLabels("labels", req.Labels)
	if err != nil {
		return nil, err
	}
	p.labels = labels

	from := netmail.Address{Name: strings.TrimSpace(inbox.DisplayName), Address: inbox.InboxID}
	p.out = mail.Outgoing{From: from.String(), ReplyTo: req.ReplyTo, Bcc: req.Bcc, Headers: req.Headers, Date: now}
	if from.Name == "" {
		p.out.From = inbox.InboxID
	}

	orig := req.Original
	if req.Kind != KindSend && orig == nil {
		return nil, fmt.Errorf("outbound: a %s needs the original message", req.Kind)
	}
	switch req.Kind {
	case KindSend:
		p.out.To, p.out.Cc, p.out.Subject = req.To, req.Cc, req.Subject
		p.out.Text, p.out.HTML = req.Text, req.HTML
	case KindReply, KindReplyAll:
		all := req.Kind == KindReplyAll || req.ReplyAll
		to, cc := mail.ReplyRecipients(mail.Original{From: orig.From, ReplyTo: orig.ReplyTo, To: orig.To, Cc: orig.Cc}, inbox.InboxID, all)
		if req.Kind == KindReply && (len(req.To) > 0 || len(req.Cc) > 0) {
			to, cc = req.To, req.Cc
		}
		if req.Kind == KindReplyAll {
			p.out.Bcc = nil
		}
		p.out.To, p.out.Cc = to, cc
		p.out.Subject = mail.ReplySubject(orig.Subject)
		p.out.InReplyTo, p.out.References = mail.ReplyReferences(mail.HeaderMessageID(orig.MessageID, orig.Headers), orig.References)
		p.out.Text, p.out.HTML = req.Text, req.HTML
	case KindForward:
		p.out.To, p.out.Cc = req.To, req.Cc
		p.out.Subject = req.Subject
		if strings.TrimSpace(p.out.Subject) == "" {
			p.out.Subject = mail.ForwardSubject(orig.Subject)
		}
		p.out.InReplyTo, p.out.References = mail.ReplyReferences(mail.HeaderMessageID(orig.MessageID, orig.Headers), orig.References)
		p.out.Text, p.out.HTML = forwardBodies(req.Text, req.HTML, orig)
		p.forwarded = true
	default:
		return nil, fmt.Errorf("outbound: unknown kind %q", req.Kind)
	}

	if p.envelope, err = envelope(p.out.To, p.out.Cc, p.out.Bcc); err != nil {
		return nil, err
	}
	if _, err := parseField("reply_to", p.out.ReplyTo); err != nil {
		return nil, err
	}
	switch n := len(p.envelope); {
	case n == 0 && req.Kind != KindSend && req.Kind != KindForward:
		return nil, invalid("to", "the original message names nobody to reply to; give to")
	case n == 0:
		return nil, invalid("to", "at least one recipient (to, cc or bcc) is required")
	case n > ses.MaxRecipients:
		return nil, invalid("to", "%d recipients; SES sends one message to at most %d (to, cc and bcc together)", n, ses.MaxRecipients)
	}
	if strings.TrimSpace(p.out.Text) == "" && strings.TrimSpace(p.out.HTML) == "" {
		return nil, invalid("text", "text or html is required")
	}
	return p, nil
}

// forwardBodies are the text and html of a forward: the caller's words, then the original in
// a forwarded-message block. When the caller gave only text, the html carries it escaped.
func forwardBodies(text, htmlBody string, orig *store.MessageRecord) (string, string) {
	date := ""
	if !orig.Timestamp.IsZero() {
		date = orig.Timestamp.UTC().Format(forwardDateLayout)
	}
	fText, fHTML := mail.ForwardBody(orig.From, date, orig.Subject, strings.Join(orig.To, ", "), orig.Text, orig.HTML)
	outText := fText
	if strings.TrimSpace(text) != "" {
		outText = strings.TrimRight(text, "\r\n") + "\n\n" + fText
	}
	own := htmlBody
	if strings.TrimSpace(own) == "" && strings.TrimSpace(text) != "" {
		own = strings.ReplaceAll(html.EscapeString(strings.TrimRight(text, "\r\n")), "\n", "<br>\n")
	}
	outHTML := fHTML
	if strings.TrimSpace(own) != "" {
		outHTML = "<div>" + own + "</div><br>\n" + fHTML
	}
	return outText, outHTML
}

// envelope returns the bare addresses of to, cc and bcc, each once (case-insensitively),
// checking that every entry is an address SES can send to.
func envelope(to, cc, bcc []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, f := range []struct {
		name string
		list []string
	}{{"to", to}, {"cc", cc}, {"bcc", bcc}} {
		addrs, err := parseField(f.name, f.list)
		if err != nil {
			return nil, err
		}
		for _, a := range addrs {
			if k := strings.ToLower(a.Address); !seen[k] {
				seen[k] = true
				out = append(out, a.Address)
			}
		}
	}
	return out, nil
}

// parseField is mail.ParseAddressList with the error naming the request field.
func parseField(field string, list []string) ([]*netmail.Address, error) {
	addrs, err := mail.ParseAddressList(list)
	var ae *mail.AddressError
	if errors.As(err, &ae) {
		return nil, invalid(fmt.Sprintf("%s[%d]", field, ae.Index), "%s", ae.Error())
	}
	return addrs, err
}

// userLabels lower-cases and trims labels, drops blanks and repeats, and refuses the lifecycle
// labels only the server sets (received, sent, delivered, …).
func userLabels(field string, labels []string) ([]string, error) {
	var out []string
	for i, l := range labels {
		l = strings.ToLower(strings.TrimSpace(l))
		switch {
		case l == "":
			continue
		case wire.IsLifecycleLabel(l):
			return nil, invalid(fmt.Sprintf("%s[%d]", field, i), "%q is a system label set by the server", l)
		case len(l) > maxLabelBytes:
			return nil, invalid(fmt.Sprintf("%s[%d]", field, i), "labels are at most %d bytes", maxLabelBytes)
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	if len(out) > maxLabels {
		return nil, invalid(field, "at most %d labels", maxLabels)
	}
	return out, nil
}

// Bounds on labels, so a message item stays small.
const (
	maxLabelBytes = 256
	maxLabels     = 50
)

// UserLabels is the label rule of newPlan for label updates: lower-cased, trimmed, no blanks
// or repeats, no lifecycle labels (an *InvalidError naming field[i]).
func UserLabels(field string, labels []string) ([]string, error) { return userLabels(field, labels) }
