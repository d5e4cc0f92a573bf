package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/smtp"
	"net/textproto"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/pigeon-mail/pigeon/infra/local/embedded"
	"github.com/pigeon-mail/pigeon/shared/sesevents"
)

// fakeInbound records the events it is given and fails with err when set.
type fakeInbound struct {
	mu     sync.Mutex
	events []json.RawMessage
	err    error
}

func (f *fakeInbound) handle(_ context.Context, ev json.RawMessage) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, ev)
	return f.err
}

// startReceiving runs Receiving on a free port against an embedded S3.
func startReceiving(t *testing.T, maxBytes int64, in *fakeInbound) (addr string, client *s3.Client) {
	t.Helper()
	srv, err := embedded.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	client = srv.S3()
	if err := ensureBucket(context.Background(), client, "pigeon"); err != nil {
		t.Fatal(err)
	}
	r := &Receiving{
		S3: client, Bucket: "pigeon", Region: "us-east-1", TopicARN: TopicARN,
		Owns:     func(d string) bool { return d == "pigeon.local" || d == "other.test" },
		MaxBytes: maxBytes, Inbound: in.handle,
		Log: slog.New(slog.DiscardHandler),
	}
	s := r.NewSMTPServer("inbound-smtp.us-east-1.amazonaws.com")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return ln.Addr().String(), client
}

// smtpCode is the reply code of an SMTP error returned by net/smtp, 0 for none.
func smtpCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// transaction runs MAIL/RCPT/DATA and returns the error of the first failing step.
func transaction(addr, from string, rcpts []string, msg []byte) (step string, err error) {
	c, err := smtp.Dial(addr)
	if err != nil {
		return "dial", err
	}
	defer c.Close()
	if err := c.Hello("client.example"); err != nil {
		return "helo", err
	}
	if err := c.Mail(from); err != nil {
		return "mail", err
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return "rcpt", err
		}
	}
	w, err := c.Data()
	if err != nil {
		return "data", err
	}
	if _, err := w.Write(msg); err != nil {
		return "data", err
	}
	if err := w.Close(); err != nil {
		return "data", err
	}
	return "", c.Quit()
}

const testMessage = "From: Alice <alice@example.com>\r\n" +
	"To: Bob <bob@pigeon.local>, carol@other.test\r\n" +
	"Cc: \"Doe, Dan\" <dan@pigeon.local>\r\n" +
	"Subject: =?utf-8?q?caf=C3=A9?=\r\n" +
	"Date: Mon, 02 Jan 2006 15:04:05 +0000\r\n" +
	"Message-ID: <m1@example.com>\r\n" +
	"\r\n" +
	".leading dot survives\r\nbody\r\n"

// A delivered message is stored at raw/<id> as SES stores it and inbound gets the SNS-wrapped
// receipt notification that names it.
func TestReceivingDelivers(t *testing.T) {
	in := &fakeInbound{}
	addr, client := startReceiving(t, 1<<20, in)
	rcpts := []string{"bob@pigeon.local", "carol@other.test", "hidden@pigeon.local"}
	if step, err := transaction(addr, "alice@example.com", rcpts, []byte(testMessage)); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	if len(in.events) != 1 {
		t.Fatalf("inbound got %d events", len(in.events))
	}
	var ev SNSEvent
	if err := json.Unmarshal(in.events[0], &ev); err != nil || len(ev.Records) != 1 {
		t.Fatalf("event %s: %v", in.events[0], err)
	}
	rec := ev.Records[0]
	if rec.EventSource != "aws:sns" || rec.Sns.Type != "Notification" || rec.Sns.TopicArn != TopicARN ||
		rec.Sns.Subject != "Amazon SES Email Receipt Notification" || rec.Sns.MessageID == "" || rec.Sns.Signature == "" {
		t.Errorf("SNS envelope: %+v", rec)
	}
	var n Notification
	if err := json.Unmarshal([]byte(rec.Sns.Message), &n); err != nil {
		t.Fatal(err)
	}
	id := n.Mail.MessageID
	if !regexp.MustCompile(`^[a-z0-9]{28}$`).MatchString(id) {
		t.Errorf("SES message id %q", id)
	}
	a := n.Receipt.Action
	if n.NotificationType != "Received" || a.Type != "S3" || a.BucketName != "pigeon" || a.ObjectKey != "raw/"+id || a.TopicARN != TopicARN {
		t.Errorf("receipt: %+v", n.Receipt)
	}
	if !reflect.DeepEqual(n.Receipt.Recipients, rcpts) {
		t.Errorf("recipients %v", n.Receipt.Recipients)
	}
	if want := []string{"bob@pigeon.local", "carol@other.test", "dan@pigeon.local"}; !reflect.DeepEqual(n.Mail.Destination, want) {
		t.Errorf("destination %v, want %v", n.Mail.Destination, want)
	}
	ch := n.Mail.CommonHeaders
	if ch.Subject != "café" || ch.MessageID != "<m1@example.com>" || ch.ReturnPath != "alice@example.com" ||
		!reflect.DeepEqual(ch.From, []string{"Alice <alice@example.com>"}) ||
		!reflect.DeepEqual(ch.Cc, []string{`"Doe, Dan" <dan@pigeon.local>`}) {
		t.Errorf("common headers %+v", ch)
	}
	if n.Mail.Source != "alice@example.com" || n.Receipt.SpamVerdict.Status != "DISABLED" || n.Receipt.DMARCVerdict.Status != "GRAY" {
		t.Errorf("mail %+v", n.Mail)
	}

	obj, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("pigeon"), Key: aws.String("raw/" + id)})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if !bytes.HasSuffix(stored, []byte(testMessage)) {
		t.Fatalf("stored object does not end with the message as sent:\n%s", stored)
	}
	prepended := sesevents.HeaderFields(stored[:len(stored)-len(testMessage)])
	var names []string
	for _, f := range prepended {
		names = append(names, f.Name)
	}
	want := []string{"Return-Path", "Received", "Received-SPF", "Authentication-Results", "X-SES-RECEIPT", "X-SES-DKIM-SIGNATURE"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("prepended headers %v, want %v", names, want)
	}
	if got := prepended[1].Value; !strings.Contains(got, "by inbound-smtp.us-east-1.amazonaws.com with SMTP id "+id) || strings.Contains(got, " for ") {
		t.Errorf("Received: %q", got)
	}
	// mail.headers lists the stored object's header, SES's fields first.
	if len(n.Mail.Headers) != len(want)+6 || n.Mail.Headers[0].Name != "Return-Path" || n.Mail.Headers[len(want)].Name != "From" {
		t.Errorf("mail.headers %+v", n.Mail.Headers)
	}
}

// With one recipient the Received line names it, as SES does.
func TestSESHeadersSingleRecipient(t *testing.T) {
	env := Envelope{MessageID: "abc", From: "a@example.com", Recipients: []string{"b@pigeon.local"}, RemoteIP: "127.0.0.1", Received: time.Unix(0, 0)}
	msg := []byte("From: a@example.com\r\n\r\n")
	h := string(SESHeaders(env, "us-east-1", Authenticate(env, msg, nil), msg))
	if !strings.Contains(h, "with SMTP id abc\r\n for b@pigeon.local;\r\n Thu, 01 Jan 1970 00:00:00 +0000 (UTC)\r\n") {
		t.Errorf("headers:\n%s", h)
	}
}

// SMTP-level refusals: a foreign domain at RCPT (550), a message over the size limit (552), and
// an inbound failure deferred with 451 so the sender retries.
func TestReceivingRefusals(t *testing.T) {
	t.Run("foreign domain", func(t *testing.T) {
		in := &fakeInbound{}
		addr, _ := startReceiving(t, 1<<20, in)
		step, err := transaction(addr, "a@example.com", []string{"someone@gmail.com"}, []byte(testMessage))
		if step != "rcpt" || smtpCode(err) != 550 {
			t.Errorf("step %q err %v, want rcpt 550", step, err)
		}
		if len(in.events) != 0 {
			t.Error("inbound was invoked")
		}
	})
	t.Run("oversize", func(t *testing.T) {
		in := &fakeInbound{}
		addr, _ := startReceiving(t, 4096, in)
		line := strings.Repeat("x", 70) + "\r\n"
		big := testMessage + strings.Repeat(line, 5000/len(line))
		step, err := transaction(addr, "a@example.com", []string{"bob@pigeon.local"}, []byte(big))
		if step != "data" || smtpCode(err) != 552 {
			t.Errorf("step %q err %v, want data 552", step, err)
		}
		// A message that fits but not with SES's header block is refused as well.
		fits := testMessage + strings.Repeat(line, (4096-len(testMessage)-200)/len(line))
		step, err = transaction(addr, "a@example.com", []string{"bob@pigeon.local"}, []byte(fits))
		if step != "data" || smtpCode(err) != 552 {
			t.Errorf("near the limit: step %q err %v, want data 552", step, err)
		}
		if len(in.events) != 0 {
			t.Error("inbound was invoked")
		}
	})
	t.Run("inbound fails", func(t *testing.T) {
		in := &fakeInbound{err: errors.New("table unavailable")}
		addr, _ := startReceiving(t, 1<<20, in)
		step, err := transaction(addr, "a@example.com", []string{"bob@pigeon.local"}, []byte(testMessage))
		if step != "data" || smtpCode(err) != 451 {
			t.Errorf("step %q err %v, want data 451", step, err)
		}
		if len(in.events) != 1 {
			t.Errorf("inbound got %d events", len(in.events))
		}
	})
}
