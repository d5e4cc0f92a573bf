package local

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"strings"
	"time"

	"github.com/pigeon-mail/pigeon/shared/sesevents"
)

// This file builds what SES receiving produces for one SMTP transaction: the header block its S3
// action prepends to the stored object and the receipt notification it
// publishes to the action's SNS topic (§1.2), wrapped in the SNS-to-Lambda event.

// Envelope is one SMTP transaction as SES saw it.
type Envelope struct {
	MessageID  string    // SES message id: the S3 key suffix and the SMTP id of the Received line
	From       string    // MAIL FROM (empty for bounces)
	Recipients []string  // RCPT TO, in order
	Helo       string    // the client's EHLO/HELO name
	RemoteIP   string    // the client's address
	Received   time.Time // when the transaction completed
}

// Verdicts are SES's spam, virus, SPF, DKIM and DMARC verdicts for a message: PASS, FAIL, GRAY,
// PROCESSING_FAILED or DISABLED.
type Verdicts struct {
	Spam, Virus, SPF, DKIM, DMARC string
}

// sesIDAlphabet is the alphabet of SES message ids such as d6iitobk75ur44p8kdnnp7g2n800.
const sesIDAlphabet = "0123456789abcdefghijklmnopqrstuv"

// NewSESMessageID returns a fresh id in SES's form: 28 lower-case alphanumerics, safe as an S3 key.
func NewSESMessageID() string {
	var b [28]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = sesIDAlphabet[int(b[i])%len(sesIDAlphabet)]
	}
	return string(b[:])
}

// SESHeaders is the header block SES's S3 action prepends to the raw message, in SES's order:
// Return-Path, Received, X-SES-Spam-Verdict, X-SES-Virus-Verdict (both left out when scanning is
// DISABLED), Received-SPF, Authentication-Results, X-SES-RECEIPT, X-SES-DKIM-SIGNATURE. Lines end
// in CRLF and are folded as SES folds them. The Received line names the client by what the
// server saw, its address, never by the name the client gave in EHLO (that is only Received-SPF's
// helo=, which records it as the client's claim). It names the envelope recipient only when there
// is exactly one, as RFC 5321 §4.4 recommends and as SES was observed to do; with several it would
// leak BCC recipients to each other.
func SESHeaders(env Envelope, region string, a Authentication, original []byte) []byte {
	var b bytes.Buffer
	field := func(name, value string) { fmt.Fprintf(&b, "%s: %s\r\n", name, value) }
	v := a.Verdicts

	field("Return-Path", "<"+env.From+">")
	received := fmt.Sprintf("from %s ([%s])\r\n by inbound-smtp.%s.amazonaws.com with SMTP id %s",
		clientHost(env.RemoteIP), env.RemoteIP, region, env.MessageID)
	if len(env.Recipients) == 1 {
		received += "\r\n for " + env.Recipients[0]
	}
	received += ";\r\n " + env.Received.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700") + " (UTC)"
	field("Received", received)
	if v.Spam != VerdictDisabled {
		field("X-SES-Spam-Verdict", v.Spam)
	}
	if v.Virus != VerdictDisabled {
		field("X-SES-Virus-Verdict", v.Virus)
	}
	field("Received-SPF", fmt.Sprintf("%s (%s) client-ip=%s; envelope-from=%s; helo=%s;",
		a.SPF.Result, a.SPF.Reason, env.RemoteIP, env.From, env.Helo))
	results := []string{"amazonses.com"}
	for _, r := range append(append([]AuthResult{a.SPF}, a.DKIM...), a.DMARC) {
		results = append(results, r.String())
	}
	field("Authentication-Results", strings.Join(results, ";\r\n ")+";")
	field("X-SES-RECEIPT", opaque(env.MessageID+"receipt", 240))
	bodyHash := sha256.Sum256(original)
	field("X-SES-DKIM-SIGNATURE", fmt.Sprintf("a=rsa-sha256; q=dns/txt; b=%s; c=relaxed/simple; s=224i4yxa5dv7c2xz3womw6peuasteono; d=amazonses.com; t=%d; v=1; bh=%s; h=From:To:Cc:Bcc:Subject:Date:Message-ID:MIME-Version:Content-Type:X-SES-RECEIPT;",
		opaque(env.MessageID+"signature", 256), env.Received.Unix(), base64.StdEncoding.EncodeToString(bodyHash[:])))
	return b.Bytes()
}

// clientHost is the name the Received line gives the client: "localhost" for a loopback
// address, otherwise "unknown", as an MTA writes when reverse DNS gives no name (the local stack
// makes no DNS queries).
func clientHost(ip string) string {
	if addr := net.ParseIP(ip); addr != nil && addr.IsLoopback() {
		return "localhost"
	}
	return "unknown"
}

// opaque is stable base64 that looks like SES's undocumented receipt and signature values.
func opaque(seed string, n int) string {
	var raw []byte
	block := sha256.Sum256([]byte(seed))
	for len(raw)*4/3 < n {
		raw = append(raw, block[:]...)
		block = sha256.Sum256(block[:])
	}
	return base64.StdEncoding.EncodeToString(raw)[:n]
}

// Notification is SES's receipt notification ("notificationType": "Received") for an S3 action.
type Notification struct {
	NotificationType string  `json:"notificationType"`
	Receipt          Receipt `json:"receipt"`
	Mail             Mail    `json:"mail"`
}

// Receipt is the notification's receipt object.
type Receipt struct {
	Timestamp            string   `json:"timestamp"`
	ProcessingTimeMillis int64    `json:"processingTimeMillis"`
	Recipients           []string `json:"recipients"`
	SpamVerdict          Verdict  `json:"spamVerdict"`
	VirusVerdict         Verdict  `json:"virusVerdict"`
	SPFVerdict           Verdict  `json:"spfVerdict"`
	DKIMVerdict          Verdict  `json:"dkimVerdict"`
	DMARCVerdict         Verdict  `json:"dmarcVerdict"`
	Action               Action   `json:"action"`
}

// Verdict is one {"status": …} object.
type Verdict struct {
	Status string `json:"status"`
}

// Action is the S3 action that stored the message.
type Action struct {
	Type            string `json:"type"`
	TopicARN        string `json:"topicArn"`
	BucketName      string `json:"bucketName"`
	ObjectKeyPrefix string `json:"objectKeyPrefix"`
	ObjectKey       string `json:"objectKey"`
}

// Mail is the notification's mail object.
type Mail struct {
	Timestamp        string        `json:"timestamp"`
	Source           string        `json:"source"`
	MessageID        string        `json:"messageId"`
	Destination      []string      `json:"destination"`
	HeadersTruncated bool          `json:"headersTruncated"`
	Headers          []Header      `json:"headers"`
	CommonHeaders    CommonHeaders `json:"commonHeaders"`
}

// Header is one {name, value} entry of mail.headers.
type Header = sesevents.Header

// CommonHeaders is mail.commonHeaders; list fields appear only when the header does.
type CommonHeaders struct {
	ReturnPath string   `json:"returnPath,omitempty"`
	From       []string `json:"from,omitempty"`
	Sender     []string `json:"sender,omitempty"`
	ReplyTo    []string `json:"replyTo,omitempty"`
	Date       string   `json:"date,omitempty"`
	To         []string `json:"to,omitempty"`
	Cc         []string `json:"cc,omitempty"`
	Bcc        []string `json:"bcc,omitempty"`
	MessageID  string   `json:"messageId,omitempty"`
	Subject    string   `json:"subject,omitempty"`
}

// maxNotifiedHeaders is how much of the header SES copies into mail.headers before it sets
// headersTruncated (10 KB).
const maxNotifiedHeaders = 10 * 1024

// NewNotification builds the receipt notification for a message stored at bucket/prefix+id.
// stored is the object's content: the SES header block followed by the original message.
func NewNotification(env Envelope, v Verdicts, topicARN, bucket, prefix string, stored []byte, processing time.Duration) Notification {
	fields := sesevents.HeaderFields(stored)
	n := Notification{
		NotificationType: "Received",
		Receipt: Receipt{
			Timestamp:            jsonTime(env.Received),
			ProcessingTimeMillis: processing.Milliseconds(),
			Recipients:           append([]string{}, env.Recipients...),
			SpamVerdict:          Verdict{v.Spam},
			VirusVerdict:         Verdict{v.Virus},
			SPFVerdict:           Verdict{v.SPF},
			DKIMVerdict:          Verdict{v.DKIM},
			DMARCVerdict:         Verdict{v.DMARC},
			Action: Action{Type: "S3", TopicARN: topicARN, BucketName: bucket,
				ObjectKeyPrefix: prefix, ObjectKey: prefix + env.MessageID},
		},
		Mail: Mail{
			Timestamp:   jsonTime(env.Received),
			Source:      env.From,
			MessageID:   env.MessageID,
			Destination: []string{},
			Headers:     []Header{},
		},
	}
	size := 0
	for _, f := range fields {
		size += len(f.Name) + len(f.Value) + 4
		if size > maxNotifiedHeaders {
			n.Mail.HeadersTruncated = true
			break
		}
		n.Mail.Headers = append(n.Mail.Headers, f)
	}
	ch := &n.Mail.CommonHeaders
	for _, f := range fields {
		switch strings.ToLower(f.Name) {
		case "return-path":
			ch.ReturnPath = strings.Trim(strings.TrimSpace(f.Value), "<>")
		case "from":
			ch.From = append(ch.From, addressStrings(f.Value)...)
		case "sender":
			ch.Sender = append(ch.Sender, addressStrings(f.Value)...)
		case "reply-to":
			ch.ReplyTo = append(ch.ReplyTo, addressStrings(f.Value)...)
		case "to":
			ch.To = append(ch.To, addressStrings(f.Value)...)
			n.Mail.Destination = append(n.Mail.Destination, bareAddresses(f.Value)...)
		case "cc":
			ch.Cc = append(ch.Cc, addressStrings(f.Value)...)
			n.Mail.Destination = append(n.Mail.Destination, bareAddresses(f.Value)...)
		case "bcc":
			ch.Bcc = append(ch.Bcc, addressStrings(f.Value)...)
		case "date":
			ch.Date = strings.TrimSpace(f.Value)
		case "message-id":
			ch.MessageID = strings.TrimSpace(f.Value)
		case "subject":
			ch.Subject = decodeWords(strings.TrimSpace(f.Value))
		}
	}
	return n
}

// SNSEvent is the Lambda event SNS delivers for one message: Records[0].Sns carries it.
type SNSEvent struct {
	Records []SNSRecord `json:"Records"`
}

// SNSRecord is one record of an SNS Lambda event.
type SNSRecord struct {
	EventSource          string     `json:"EventSource"`
	EventVersion         string     `json:"EventVersion"`
	EventSubscriptionArn string     `json:"EventSubscriptionArn"`
	Sns                  SNSMessage `json:"Sns"`
}

// SNSMessage is the SNS notification envelope.
type SNSMessage struct {
	Type              string         `json:"Type"`
	MessageID         string         `json:"MessageId"`
	TopicArn          string         `json:"TopicArn"`
	Subject           string         `json:"Subject"`
	Message           string         `json:"Message"`
	Timestamp         string         `json:"Timestamp"`
	SignatureVersion  string         `json:"SignatureVersion"`
	Signature         string         `json:"Signature"`
	SigningCertURL    string         `json:"SigningCertUrl"`
	UnsubscribeURL    string         `json:"UnsubscribeUrl"`
	MessageAttributes map[string]any `json:"MessageAttributes"`
}

// WrapSNS wraps a receipt notification as SNS publishes it to a subscribed Lambda function.
func WrapSNS(n Notification, topicARN, region string, at time.Time) (json.RawMessage, error) {
	msg, err := marshal(n)
	if err != nil {
		return nil, fmt.Errorf("local: encode receipt notification: %w", err)
	}
	subscription := topicARN + ":" + newRequestID()
	ev := SNSEvent{Records: []SNSRecord{{
		EventSource:          "aws:sns",
		EventVersion:         "1.0",
		EventSubscriptionArn: subscription,
		Sns: SNSMessage{
			Type:              "Notification",
			MessageID:         newRequestID(),
			TopicArn:          topicARN,
			Subject:           "Amazon SES Email Receipt Notification",
			Message:           string(msg),
			Timestamp:         jsonTime(at),
			SignatureVersion:  "1",
			Signature:         opaque(n.Mail.MessageID+"sns", 344),
			SigningCertURL:    "https://sns." + region + ".amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
			UnsubscribeURL:    "https://sns." + region + ".amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + subscription,
			MessageAttributes: map[string]any{},
		},
	}}}
	return marshal(ev)
}

// marshal encodes JSON as AWS does: `<`, `>` and `&` left as they are, not \u003c.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// jsonTime is the timestamp form of SES and SNS JSON: UTC, milliseconds, Z.
func jsonTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// headerFrom is the From header of a raw message, or "".
func headerFrom(msg []byte) string {
	for _, f := range sesevents.HeaderFields(msg) {
		if strings.EqualFold(f.Name, "From") {
			if bare := bareAddresses(f.Value); len(bare) > 0 {
				return bare[0]
			}
		}
	}
	return ""
}

// addressStrings lists the addresses of an address-list header as "Name <addr>" or "addr",
// names decoded; a header that does not parse is kept whole.
func addressStrings(value string) []string {
	list, err := (&mail.AddressParser{WordDecoder: wordDecoder}).ParseList(value)
	if err != nil {
		return []string{strings.TrimSpace(value)}
	}
	out := make([]string, 0, len(list))
	for _, a := range list {
		switch {
		case a.Name == "":
			out = append(out, a.Address)
		case strings.ContainsAny(a.Name, `()<>[]:;@\,."`):
			out = append(out, fmt.Sprintf("%q <%s>", a.Name, a.Address))
		default:
			out = append(out, a.Name+" <"+a.Address+">")
		}
	}
	return out
}

// bareAddresses lists the addr-specs of an address-list header.
func bareAddresses(value string) []string {
	list, err := (&mail.AddressParser{WordDecoder: wordDecoder}).ParseList(value)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, a := range list {
		out = append(out, a.Address)
	}
	return out
}

var wordDecoder = &mime.WordDecoder{}

func decodeWords(s string) string {
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// domainOf is the part after the last @ of an address, lower-cased.
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(strings.Trim(addr[i+1:], "<> "))
	}
	return ""
}
