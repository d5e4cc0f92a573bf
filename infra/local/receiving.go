package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/emersion/go-smtp"

	"github.com/pigeon-mail/pigeon/infra/local/embedded"
	"github.com/pigeon-mail/pigeon/shared/ses"
)

// RawPrefix is where SES's S3 action writes incoming mail: raw/<SES message id>.
const RawPrefix = "raw/"

// TopicARN is the SNS topic the receipt rule's S3 action notifies in the local stack.
const TopicARN = "arn:aws:sns:" + embedded.Region + ":000000000000:pigeon-inbound"

// InboundFunc is the Lambda entry point of the inbound function.
type InboundFunc func(ctx context.Context, event json.RawMessage) error

// Receiving stands in for SES email receiving behind an SMTP listener: it accepts mail for the
// inboxes of its domains only, stores each message in S3 with the headers SES prepends, and invokes inbound
// with the receipt notification SES would publish through SNS. Mail is accepted (250) only once
// inbound has taken it; when storing or inbound fails the sender gets 451 and retries, so
// nothing is accepted and then lost.
type Receiving struct {
	S3       *s3.Client
	Bucket   string
	Region   string
	TopicARN string
	Owns     func(domain string) bool // which recipient domains are ours (verified, in SES terms)
	MaxBytes int64                    // the largest stored object, SES's header block included
	// HasInbox reports whether an address of our domains is an inbox; nil takes every address.
	HasInbox func(ctx context.Context, address string) (bool, error)
	Inbound  InboundFunc
	Log      *slog.Logger
	Now      func() time.Time

	// LookupTXT is the local DNS stand-in for DKIM keys (<selector>._domainkey.<domain>); nil
	// publishes none. It is never the network (see Authenticate).
	LookupTXT func(name string) ([]string, error)
}

// NewSMTPServer returns a go-smtp server that hands sessions to r.
//
// Every refusal is of one transaction, and the session goes on: unknown recipient 550 5.1.1
// and foreign domain 550 5.7.1 at RCPT, a 51st recipient 452 4.5.3 (SES's 50 per message),
// over MaxBytes 552 5.3.4 after DATA. Lines of any length that fit in MaxBytes are taken, as
// Postfix takes them (RFC 5322 §2.1.1's 998 characters are a limit for writers; real mail breaks
// it, and go-smtp's default of 2,000 would refuse such mail with 554 and end the session). A
// client idle for smtpReadTimeout, or not taking a reply within smtpWriteTimeout, is
// disconnected; LimitSessions bounds the sessions at once.
func (r *Receiving) NewSMTPServer(hostname string) *smtp.Server {
	s := smtp.NewServer(smtp.BackendFunc(r.newSession))
	s.Domain = hostname
	s.MaxMessageBytes = r.MaxBytes
	// Longer than the largest message, so that a line can only end a session in a message that
	// is refused as too large anyway (go-smtp's line limit is one count over the whole stream).
	s.MaxLineLength = int(2 * r.MaxBytes)
	s.MaxRecipients = ses.MaxRecipients // SES's 50 per message holds for receiving as for sending
	s.ReadTimeout = smtpReadTimeout
	s.WriteTimeout = smtpWriteTimeout
	s.ErrorLog = slogPrintf{r.log()}
	return s
}

func (r *Receiving) newSession(c *smtp.Conn) (smtp.Session, error) {
	ip := "127.0.0.1"
	if addr, ok := c.Conn().RemoteAddr().(*net.TCPAddr); ok {
		ip = addr.IP.String()
	}
	return &session{r: r, helo: c.Hostname(), ip: ip}, nil
}

// session is one SMTP connection; each MAIL…DATA sequence on it is one transaction.
type session struct {
	r    *Receiving
	helo string
	ip   string
	from string
	rcpt []string
}

func (s *session) Reset() { s.from, s.rcpt = "", nil }

func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from, s.rcpt = from, nil
	return nil
}

// Rcpt refuses addresses outside our domains with 550 5.7.1, as SES does for domains that are
// not verified for receiving, and addresses of our domains that are no inbox with 550 5.1.1.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !s.r.Owns(domainOf(to)) {
		s.r.log().Info("smtp recipient refused", "from", s.from, "recipient", to)
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
			Message: "Relay access denied: " + domainOf(to) + " is not a domain of this Pigeon stack"}
	}
	if s.r.HasInbox != nil {
		ctx, cancel := context.WithTimeout(context.Background(), rcptLookupTimeout)
		defer cancel()
		switch ok, err := s.r.HasInbox(ctx, to); {
		case err != nil:
			s.r.log().Error("smtp recipient deferred", "recipient", to, "err", err)
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
				Message: "Temporary failure looking up the recipient, try again later"}
		case !ok:
			s.r.log().Info("smtp recipient refused", "from", s.from, "recipient", to, "reason", "no such inbox")
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
				Message: "Recipient address rejected: " + to + " is not an inbox of this Pigeon stack"}
		}
	}
	for _, r := range s.rcpt {
		if strings.EqualFold(r, to) {
			return nil
		}
	}
	s.rcpt = append(s.rcpt, to)
	return nil
}

func (s *session) Data(body io.Reader) error {
	started := s.r.now()
	original, err := io.ReadAll(body)
	if err != nil {
		return err // go-smtp's ErrDataTooLarge (552), or a broken connection
	}
	env := Envelope{
		MessageID:  NewSESMessageID(),
		From:       s.from,
		Recipients: append([]string(nil), s.rcpt...),
		Helo:       s.helo,
		RemoteIP:   s.ip,
		Received:   started,
	}
	log := s.r.log().With("ses_message_id", env.MessageID, "from", env.From, "recipients", env.Recipients, "bytes", len(original))
	ctx, cancel := context.WithTimeout(context.Background(), deliveryTimeout)
	defer cancel()
	err = s.r.Deliver(ctx, env, original)
	switch {
	case errors.Is(err, errTooLarge):
		log.Warn("smtp delivery refused", "reason", "too large")
		return smtp.ErrDataTooLarge
	case err != nil:
		log.Error("smtp delivery deferred", "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
			Message: "Temporary failure delivering the message, try again later"}
	}
	log.Info("smtp delivery", "duration_ms", time.Since(started).Milliseconds())
	return nil
}

var errTooLarge = errors.New("local: message too large")

// deliveryTimeout bounds storing and processing one message, well inside the time an MTA waits
// for the reply to DATA (RFC 5321 §4.5.3.2.6: 10 minutes).
const deliveryTimeout = 2 * time.Minute

// Deliver does what SES does with one received message: store it at raw/<id> with the SES
// header block in front, then notify inbound through SNS.
func (r *Receiving) Deliver(ctx context.Context, env Envelope, original []byte) error {
	var stored bytes.Buffer
	auth := Authenticate(env, original, r.LookupTXT)
	stored.Write(SESHeaders(env, r.Region, auth, original))
	stored.Write(original)
	if r.MaxBytes > 0 && int64(stored.Len()) > r.MaxBytes {
		return errTooLarge
	}
	key := RawPrefix + env.MessageID
	if _, err := r.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(r.Bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(stored.Bytes()),
		ContentLength: aws.Int64(int64(stored.Len())),
	}); err != nil {
		return fmt.Errorf("store s3://%s/%s: %w", r.Bucket, key, err)
	}
	n := NewNotification(env, auth.Verdicts, r.TopicARN, r.Bucket, RawPrefix, stored.Bytes(), r.now().Sub(env.Received))
	event, err := WrapSNS(n, r.TopicARN, r.Region, r.now())
	if err != nil {
		return err
	}
	if err := r.Inbound(ctx, event); err != nil {
		return fmt.Errorf("inbound: %w", err)
	}
	return nil
}

func (r *Receiving) log() *slog.Logger {
	if r.Log == nil {
		return slog.Default()
	}
	return r.Log
}

func (r *Receiving) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

// slogPrintf routes go-smtp's own error log (broken connections and the like) to slog.
type slogPrintf struct{ log *slog.Logger }

func (l slogPrintf) Printf(format string, v ...any) {
	l.log.Warn("smtp server", "msg", strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func (l slogPrintf) Println(v ...any) {
	l.log.Warn("smtp server", "msg", strings.TrimSpace(fmt.Sprintln(v...)))
}
