package sesevents

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// SimulatorDomain is the domain of SES's mailbox simulator.
const SimulatorDomain = "simulator.amazonses.com"

// Mail is a message SES accepted, as the mail object of its event notifications shows it.
type Mail struct {
	SESMessageID     string
	Source           string            // the envelope sender (FromEmailAddress)
	Destination      []string          // the envelope recipients (To, Cc and Bcc)
	Raw              []byte            // the message as submitted, for mail.headers and mail.commonHeaders
	Tags             map[string]string // the EmailTags of the send (mail.tags.<name> = [value])
	ConfigurationSet string            // "" when the send named none
	Timestamp        time.Time         // when SES accepted the message
}

// Topic is where the simulated notifications are published: the configuration set's SNS
// topic and the account and Region they come from. Zero fields take the local stack's values
// (us-east-1, account 000000000000 as LocalStack uses, topic pigeon-ses-events).
type Topic struct {
	Region    string
	AccountID string
	ARN       string
}

func (t Topic) withDefaults() Topic {
	if t.Region == "" {
		t.Region = "us-east-1"
	}
	if t.AccountID == "" {
		t.AccountID = "000000000000"
	}
	if t.ARN == "" {
		t.ARN = "arn:aws:sns:" + t.Region + ":" + t.AccountID + ":pigeon-ses-events"
	}
	return t
}

// Outcome is what SES's mailbox simulator does with a recipient, and what Simulate publishes
// for it (labels such as bounce+anything@ work as in SES):
//
//	success@simulator.amazonses.com          Delivery
//	bounce@simulator.amazonses.com           Bounce Permanent/General, smtp; 550 5.1.1 user unknown
//	suppressionlist@simulator.amazonses.com  Bounce Permanent/OnAccountSuppressionList
//	complaint@simulator.amazonses.com        Delivery, then Complaint (abuse)
//	ooto@simulator.amazonses.com             Delivery (the auto-reply itself is not simulated)
//	any other address                        Delivery
type Outcome string

const (
	Delivered         Outcome = "delivered"
	HardBounce        Outcome = "bounce"
	SuppressionBounce Outcome = "suppressionlist"
	Complaint         Outcome = "complaint"
)

// OutcomeOf is the simulated outcome for a recipient address.
func OutcomeOf(address string) Outcome {
	addr := strings.ToLower(strings.TrimSpace(address))
	if a, err := netmail.ParseAddress(address); err == nil {
		addr = strings.ToLower(a.Address)
	}
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || domain != SimulatorDomain {
		return Delivered
	}
	local, _, _ = strings.Cut(local, "+")
	switch local {
	case "bounce":
		return HardBounce
	case "suppressionlist":
		return SuppressionBounce
	case "complaint":
		return Complaint
	}
	return Delivered
}

// Simulate returns the SNS-to-Lambda events SES would publish through the configuration set's
// topic for m, in the order SES publishes them: Send; then per recipient, in envelope order,
// its Delivery or Bounce; then the Complaints, which come after their Delivery. Each event
// holds one SES event record in SES's JSON shapes (the samples in events/
// are of the same form), with timestamps a little after m.Timestamp.
func Simulate(m Mail, t Topic) []events.SNSEvent {
	t = t.withDefaults()
	mail := mailObject(m, t)
	at := func(ms int) time.Time { return m.Timestamp.Add(time.Duration(ms) * time.Millisecond) }
	records := []sesRecord{{EventType: "Send", Mail: mail, Send: &struct{}{}}}
	var complaints []sesRecord
	for i, rcpt := range m.Destination {
		done := at(250 + 10*i)
		switch OutcomeOf(rcpt) {
		case HardBounce:
			records = append(records, bounceRecord(mail, rcpt, "General", "5.1.1", "smtp; 550 5.1.1 user unknown", "dsn; a8-50.smtp-out.amazonses.com", done))
		case SuppressionBounce:
			records = append(records, bounceRecord(mail, rcpt, "OnAccountSuppressionList", "5.1.1",
				"Amazon SES did not send the message to this address because it is on the suppression list for your account. For more information about removing addresses from the suppression list, see the Amazon SES Developer Guide at https://docs.aws.amazon.com/ses/latest/DeveloperGuide/sending-email-suppression-list.html",
				"dns; amazonses.com", done))
		case Complaint:
			records = append(records, deliveryRecord(mail, rcpt, m.Timestamp, done))
			complaints = append(complaints, sesRecord{EventType: "Complaint", Mail: mail, Complaint: &sesComplaint{
				FeedbackID: feedbackID(), ComplaintSubType: nil,
				ComplainedRecipients: []sesAddress{{EmailAddress: rcpt}},
				Timestamp:            jsonTime(at(500 + 10*i)), UserAgent: "Amazon SES Mailbox Simulator",
				ComplaintFeedbackType: "abuse", ArrivalDate: jsonTime(done),
			}})
		default:
			records = append(records, deliveryRecord(mail, rcpt, m.Timestamp, done))
		}
	}
	records = append(records, complaints...)
	out := make([]events.SNSEvent, 0, len(records))
	for _, r := range records {
		out = append(out, wrapSNS(r, t, r.published()))
	}
	return out
}

// sesRecord is one SES event record, as SNS carries it in Records[].Sns.Message.
type sesRecord struct {
	EventType string        `json:"eventType"`
	Mail      sesMail       `json:"mail"`
	Send      *struct{}     `json:"send,omitempty"`
	Delivery  *sesDelivery  `json:"delivery,omitempty"`
	Bounce    *sesBounce    `json:"bounce,omitempty"`
	Complaint *sesComplaint `json:"complaint,omitempty"`
}

// published is when the record's event happened.
func (r sesRecord) published() string {
	switch {
	case r.Delivery != nil:
		return r.Delivery.Timestamp
	case r.Bounce != nil:
		return r.Bounce.Timestamp
	case r.Complaint != nil:
		return r.Complaint.Timestamp
	}
	return r.Mail.Timestamp
}

type sesMail struct {
	Timestamp        string              `json:"timestamp"`
	Source           string              `json:"source"`
	SourceArn        string              `json:"sourceArn"`
	SendingAccountID string              `json:"sendingAccountId"`
	MessageID        string              `json:"messageId"`
	Destination      []string            `json:"destination"`
	HeadersTruncated bool                `json:"headersTruncated"`
	Headers          []Header            `json:"headers"`
	CommonHeaders    sesCommonHeaders    `json:"commonHeaders"`
	Tags             map[string][]string `json:"tags"`
}

// Header is one {name, value} entry of mail.headers, in SES's event and receipt notifications
// alike.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// sesCommonHeaders lists a field only when the message has that header.
type sesCommonHeaders struct {
	From      []string `json:"from,omitempty"`
	ReplyTo   []string `json:"replyTo,omitempty"`
	Date      string   `json:"date,omitempty"`
	To        []string `json:"to,omitempty"`
	Cc        []string `json:"cc,omitempty"`
	MessageID string   `json:"messageId,omitempty"`
	Subject   string   `json:"subject,omitempty"`
}

type sesDelivery struct {
	Timestamp            string   `json:"timestamp"`
	ProcessingTimeMillis int64    `json:"processingTimeMillis"`
	Recipients           []string `json:"recipients"`
	SMTPResponse         string   `json:"smtpResponse"`
	ReportingMTA         string   `json:"reportingMTA"`
}

type sesBounce struct {
	BounceType        string                `json:"bounceType"`
	BounceSubType     string                `json:"bounceSubType"`
	BouncedRecipients []sesBouncedRecipient `json:"bouncedRecipients"`
	Timestamp         string                `json:"timestamp"`
	FeedbackID        string                `json:"feedbackId"`
	ReportingMTA      string                `json:"reportingMTA"`
}

type sesBouncedRecipient struct {
	EmailAddress   string `json:"emailAddress"`
	Action         string `json:"action"`
	Status         string `json:"status"`
	DiagnosticCode string `json:"diagnosticCode"`
}

type sesComplaint struct {
	FeedbackID            string       `json:"feedbackId"`
	ComplaintSubType      *string      `json:"complaintSubType"` // null unless the address was on the suppression list
	ComplainedRecipients  []sesAddress `json:"complainedRecipients"`
	Timestamp             string       `json:"timestamp"`
	UserAgent             string       `json:"userAgent"`
	ComplaintFeedbackType string       `json:"complaintFeedbackType"`
	ArrivalDate           string       `json:"arrivalDate"`
}

type sesAddress struct {
	EmailAddress string `json:"emailAddress"`
}

func deliveryRecord(mail sesMail, rcpt string, start, at time.Time) sesRecord {
	return sesRecord{EventType: "Delivery", Mail: mail, Delivery: &sesDelivery{
		Timestamp: jsonTime(at), ProcessingTimeMillis: at.Sub(start).Milliseconds(), Recipients: []string{rcpt},
		SMTPResponse: "250 2.6.0 Message received", ReportingMTA: "a8-50.smtp-out.amazonses.com",
	}}
}

func bounceRecord(mail sesMail, rcpt, subType, status, diagnostic, mta string, at time.Time) sesRecord {
	return sesRecord{EventType: "Bounce", Mail: mail, Bounce: &sesBounce{
		BounceType: "Permanent", BounceSubType: subType,
		BouncedRecipients: []sesBouncedRecipient{{EmailAddress: rcpt, Action: "failed", Status: status, DiagnosticCode: diagnostic}},
		Timestamp:         jsonTime(at), FeedbackID: feedbackID(), ReportingMTA: mta,
	}}
}

// mailObject is the mail object every record of m carries. SES adds its own ses:* tags to
// the send's EmailTags.
func mailObject(m Mail, t Topic) sesMail {
	source := m.Source
	if a, err := netmail.ParseAddress(source); err == nil {
		source = a.Address
	}
	domain := source[strings.LastIndexByte(source, '@')+1:]
	tags := map[string][]string{
		"ses:source-ip":       {"127.0.0.1"},
		"ses:from-domain":     {domain},
		"ses:caller-identity": {"pigeon"},
	}
	if m.ConfigurationSet != "" {
		tags["ses:configuration-set"] = []string{m.ConfigurationSet}
	}
	for k, v := range m.Tags {
		tags[k] = []string{v}
	}
	headers := HeaderFields(m.Raw)
	return sesMail{
		Timestamp: jsonTime(m.Timestamp), Source: source,
		SourceArn:        "arn:aws:ses:" + t.Region + ":" + t.AccountID + ":identity/" + domain,
		SendingAccountID: t.AccountID, MessageID: m.SESMessageID,
		Destination: append([]string{}, m.Destination...), Headers: headers,
		CommonHeaders: commonHeaders(headers), Tags: tags,
	}
}

// HeaderFields reads the header section of raw in order, unfolded, as SES lists it in
// mail.headers (never nil). It stops at the first empty line, or at a line that is neither a
// field nor a continuation (a broken header: what was read so far is the header, as for most
// MTAs).
func HeaderFields(raw []byte) []Header {
	fields := []Header{}
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(fields) > 0 {
				fields[len(fields)-1].Value += string(line)
			}
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			break
		}
		fields = append(fields, Header{Name: string(name), Value: strings.TrimLeft(string(value), " \t")})
	}
	return fields
}

// commonHeaders is SES's digest of the headers: address lists as "Name <addr>" strings, the
// subject decoded.
func commonHeaders(headers []Header) sesCommonHeaders {
	var c sesCommonHeaders
	dec := new(mime.WordDecoder)
	for _, h := range headers {
		switch strings.ToLower(h.Name) {
		case "from":
			c.From = addressList(h.Value)
		case "reply-to":
			c.ReplyTo = addressList(h.Value)
		case "to":
			c.To = addressList(h.Value)
		case "cc":
			c.Cc = addressList(h.Value)
		case "date":
			c.Date = h.Value
		case "message-id":
			c.MessageID = strings.TrimSpace(h.Value)
		case "subject":
			c.Subject = h.Value
			if d, err := dec.DecodeHeader(h.Value); err == nil {
				c.Subject = d
			}
		}
	}
	return c
}

func addressList(value string) []string {
	list, err := (&netmail.AddressParser{WordDecoder: new(mime.WordDecoder)}).ParseList(value)
	if err != nil {
		return []string{strings.TrimSpace(value)}
	}
	out := make([]string, 0, len(list))
	for _, a := range list {
		if a.Name == "" {
			out = append(out, a.Address)
		} else {
			out = append(out, a.Name+" <"+a.Address+">")
		}
	}
	return out
}

// wrapSNS wraps an SES event record as SNS delivers it to a subscribed Lambda function.
func wrapSNS(r sesRecord, t Topic, at string) events.SNSEvent {
	ts, _ := time.Parse(time.RFC3339Nano, at)
	subscription := t.ARN + ":" + newUUID()
	return events.SNSEvent{Records: []events.SNSEventRecord{{
		EventVersion: "1.0", EventSource: "aws:sns", EventSubscriptionArn: subscription,
		SNS: events.SNSEntity{
			Type: "Notification", MessageID: newUUID(), TopicArn: t.ARN, Message: string(encode(r)),
			Timestamp: ts, SignatureVersion: "1", Signature: "EXAMPLE",
			SigningCertURL:    "https://sns." + t.Region + ".amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
			UnsubscribeURL:    "https://sns." + t.Region + ".amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + subscription,
			MessageAttributes: map[string]any{},
		},
	}}}
}

// encode writes JSON as AWS does: `<`, `>` and `&` left as they are, not \u003c.
func encode(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("sesevents: encode %T: %v", v, err)) // plain structs of strings: cannot fail
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// jsonTime is the timestamp form of SES and SNS JSON: UTC, milliseconds, Z.
func jsonTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// feedbackID is shaped like SES's: "0100" + time in ms as 12 hex digits, a UUID, "-000000".
func feedbackID() string {
	return fmt.Sprintf("0100%012x-%s-000000", time.Now().UnixMilli(), newUUID())
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
