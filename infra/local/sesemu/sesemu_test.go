package sesemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/pigeon-mail/pigeon/shared/delivery"
)

// newClient is the real SES v2 client pointed at url, with retries off so each call is one request.
func newClient(url, region string) *sesv2.Client {
	return sesv2.New(sesv2.Options{
		Region:       region,
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:      aws.NopRetryer{},
	})
}

const testRaw = "From: Agent <agent@pigeon.local>\r\n" +
	"To: bob@example.com, carol@pigeon.local\r\n" +
	"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n" +
	"Message-ID: <composed-by-pigeon@pigeon.local>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Hello.\r\nMessage-ID: <this-is-body-text@x>\r\n"

func sendRaw(t *testing.T, c *sesv2.Client, raw string, to ...string) (*sesv2.SendEmailOutput, error) {
	t.Helper()
	return c.SendEmail(context.Background(), &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("agent@pigeon.local"),
		Destination:      &types.Destination{ToAddresses: to},
		Content:          &types.EmailContent{Raw: &types.RawMessage{Data: []byte(raw)}},
	})
}

var sesIDPattern = regexp.MustCompile(`^0100[0-9a-f]{12}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-000000$`)

func TestSendEmailDeliversWithSESMessageID(t *testing.T) {
	type delivery struct {
		from, id string
		rcpts    []string
		raw      []byte
	}
	var (
		mu  sync.Mutex
		got []delivery
	)
	emu := &Server{
		Region:  "eu-west-1",
		IsLocal: func(a string) bool { return strings.HasSuffix(a, "@pigeon.local") },
		Deliver: func(ctx context.Context, from string, rcpts []string, raw []byte, id string) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, delivery{from, id, rcpts, raw})
			return nil
		},
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	c := newClient(srv.URL, "eu-west-1")

	out, err := c.SendEmail(context.Background(), &sesv2.SendEmailInput{
		FromEmailAddress:     aws.String("Agent <agent@pigeon.local>"),
		Destination:          &types.Destination{ToAddresses: []string{"bob@example.com"}, CcAddresses: []string{"carol@pigeon.local"}, BccAddresses: []string{"hidden@example.org"}},
		Content:              &types.EmailContent{Raw: &types.RawMessage{Data: []byte(testRaw)}},
		ConfigurationSetName: aws.String("pigeon"),
		EmailTags:            []types.MessageTag{{Name: aws.String("inbox_id"), Value: aws.String("agent_pigeon_local")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.MessageId)
	if !sesIDPattern.MatchString(id) {
		t.Errorf("MessageId %q does not look like SES's", id)
	}
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(got))
	}
	d := got[0]
	if d.from != "agent@pigeon.local" || d.id != id || !slices.Equal(d.rcpts, []string{"bob@example.com", "carol@pigeon.local", "hidden@example.org"}) {
		t.Errorf("delivery = %q %q %q", d.from, d.id, d.rcpts)
	}
	want := strings.Replace(testRaw, "<composed-by-pigeon@pigeon.local>", "<"+id+"@eu-west-1.amazonses.com>", 1)
	if string(d.raw) != want {
		t.Errorf("delivered raw =\n%s\nwant\n%s", d.raw, want)
	}

	// Kept for the two non-local recipients, visible over HTTP.
	res, err := http.Get(srv.URL + "/_local/outbox")
	if err != nil {
		t.Fatal(err)
	}
	var list []OutboxMessage
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if len(list) != 1 {
		t.Fatalf("outbox has %d messages, want 1", len(list))
	}
	m := list[0]
	if m.SESMessageID != id || m.From != "agent@pigeon.local" || m.Subject != "Grüße" || m.ConfigurationSet != "pigeon" ||
		!slices.Equal(m.Recipients, []string{"bob@example.com", "hidden@example.org"}) || m.Tags["inbox_id"] != "agent_pigeon_local" ||
		string(m.Raw) != want || m.ReceivedAt.IsZero() {
		t.Errorf("outbox entry = %+v", m)
	}
	res, err = http.Get(srv.URL + "/_local/outbox/" + id + "/raw")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "message/rfc822" || string(b) != want {
		t.Errorf("raw: %d %q\n%s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	res, _ = http.Get(srv.URL + "/_local/outbox/nope/raw")
	if res.StatusCode != 404 {
		t.Errorf("unknown id: status %d, want 404", res.StatusCode)
	}
	res.Body.Close()
}

func TestSendEmailKeepsOnlyMailForNonLocalRecipients(t *testing.T) {
	delivered := 0
	emu := &Server{
		IsLocal: func(a string) bool { return strings.HasSuffix(a, "@pigeon.local") },
		Deliver: func(context.Context, string, []string, []byte, string) error {
			delivered++
			return errors.New("inbound is down")
		},
		Log: slog.New(slog.DiscardHandler),
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	out, err := sendRaw(t, newClient(srv.URL, "us-east-1"), testRaw, "carol@pigeon.local")
	if err != nil {
		t.Fatalf("a failing local delivery must not fail the send: %v", err)
	}
	if delivered != 1 || len(emu.Outbox()) != 0 {
		t.Errorf("delivered %d, kept %d; want 1 and 0", delivered, len(emu.Outbox()))
	}
	// Without IsLocal every recipient is remote; us-east-1 ids use email.amazonses.com.
	emu2 := &Server{}
	srv2 := httptest.NewServer(emu2)
	defer srv2.Close()
	out, err = sendRaw(t, newClient(srv2.URL, "us-east-1"), testRaw, "carol@pigeon.local")
	if err != nil {
		t.Fatal(err)
	}
	kept := emu2.Outbox()
	if len(kept) != 1 || !bytes.Contains(kept[0].Raw, []byte("Message-ID: <"+aws.ToString(out.MessageId)+"@email.amazonses.com>\r\n")) {
		t.Errorf("kept = %+v", kept)
	}
}

func TestSendEmailOutboxLimit(t *testing.T) {
	emu := &Server{OutboxLimit: 3}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	c := newClient(srv.URL, "us-east-1")
	var ids []string
	for range 5 {
		out, err := sendRaw(t, c, testRaw, "bob@example.com")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.MessageId))
	}
	kept := emu.Outbox()
	if len(kept) != 3 || kept[0].SESMessageID != ids[2] || kept[2].SESMessageID != ids[4] {
		t.Errorf("kept %d messages; want the last 3", len(kept))
	}
}

func TestSendEmailErrors(t *testing.T) {
	var many []string
	for i := range 51 {
		many = append(many, fmt.Sprintf("r%d@example.com", i))
	}
	tests := []struct {
		name   string
		fail   string // FailNext error type, if any
		input  func() *sesv2.SendEmailInput
		check  func(error) bool
		wantIn string
	}{
		{
			name:  "no recipients",
			input: func() *sesv2.SendEmailInput { return rawInput(testRaw) },
			check: isA[*types.BadRequestException], wantIn: "Destination",
		},
		{
			name:  "too many recipients",
			input: func() *sesv2.SendEmailInput { in := rawInput(testRaw, many...); return in },
			check: isA[*types.BadRequestException], wantIn: "Recipient count exceeds 50",
		},
		{
			name:  "bad recipient",
			input: func() *sesv2.SendEmailInput { return rawInput(testRaw, "not an address") },
			check: isA[*types.BadRequestException], wantIn: "not an address",
		},
		{
			name: "too large",
			input: func() *sesv2.SendEmailInput {
				return rawInput(testRaw+strings.Repeat("x\r\n", 2000), "bob@example.com")
			},
			check: isA[*types.MessageRejected], wantIn: "Message length",
		},
		{
			name:  "line too long",
			input: func() *sesv2.SendEmailInput { return rawInput(testRaw+strings.Repeat("x", 1001), "bob@example.com") },
			check: isA[*types.MessageRejected], wantIn: "1001",
		},
		{
			name:  "no header",
			input: func() *sesv2.SendEmailInput { return rawInput("just text", "bob@example.com") },
			check: isA[*types.MessageRejected], wantIn: "header",
		},
		{
			name: "bad tag",
			input: func() *sesv2.SendEmailInput {
				in := rawInput(testRaw, "bob@example.com")
				in.EmailTags = []types.MessageTag{{Name: aws.String("inbox"), Value: aws.String("a@b.c")}}
				return in
			},
			check: isA[*types.BadRequestException], wantIn: "tag",
		},
		{
			name: "simple content",
			input: func() *sesv2.SendEmailInput {
				in := rawInput("", "bob@example.com")
				in.Content = &types.EmailContent{Simple: &types.Message{
					Subject: &types.Content{Data: aws.String("s")},
					Body:    &types.Body{Text: &types.Content{Data: aws.String("b")}},
				}}
				return in
			},
			check: isA[*types.BadRequestException], wantIn: "raw content",
		},
		{name: "forced throttle", fail: "TooManyRequestsException", check: isA[*types.TooManyRequestsException]},
		{name: "forced limit", fail: "LimitExceededException", check: isA[*types.LimitExceededException]},
		{name: "forced rejection", fail: "MessageRejected", check: isA[*types.MessageRejected]},
		{name: "forced paused", fail: "SendingPausedException", check: isA[*types.SendingPausedException]},
		{name: "forced suspended", fail: "AccountSuspendedException", check: isA[*types.AccountSuspendedException]},
		{name: "forced mail-from", fail: "MailFromDomainNotVerifiedException", check: isA[*types.MailFromDomainNotVerifiedException]},
		{name: "forced not found", fail: "NotFoundException", check: isA[*types.NotFoundException]},
	}
	emu := &Server{MaxMessageSize: 4000}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	c := newClient(srv.URL, "us-east-1")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := rawInput(testRaw, "bob@example.com")
			if tt.input != nil {
				in = tt.input()
			}
			if tt.fail != "" {
				emu.FailNext(1, tt.fail, "forced "+tt.fail)
				tt.wantIn = "forced " + tt.fail
			}
			_, err := c.SendEmail(context.Background(), in)
			if err == nil || !tt.check(err) || !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("err = %v (%T), want the right SDK type and %q", err, errors.Unwrap(err), tt.wantIn)
			}
		})
	}
	// A forced failure is used once.
	if _, err := c.SendEmail(context.Background(), rawInput(testRaw, "bob@example.com")); err != nil {
		t.Errorf("after the forced failures: %v", err)
	}
}

func TestUnknownOperation(t *testing.T) {
	srv := httptest.NewServer(&Server{})
	defer srv.Close()
	_, err := newClient(srv.URL, "us-east-1").GetAccount(context.Background(), &sesv2.GetAccountInput{})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "UnknownOperationException" {
		t.Errorf("err = %v", err)
	}
}

func rawInput(raw string, to ...string) *sesv2.SendEmailInput {
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("agent@pigeon.local"),
		Content:          &types.EmailContent{Raw: &types.RawMessage{Data: []byte(raw)}},
	}
	if len(to) > 0 {
		in.Destination = &types.Destination{ToAddresses: to}
	}
	return in
}

func isA[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

// After SendEmail answers, the notifications SES would publish arrive through Publish: Send,
// then each recipient's outcome by the mailbox simulator's rules, local recipients delivered.
func TestSendEmailPublishesEvents(t *testing.T) {
	var (
		mu        sync.Mutex
		published []string
		answered  bool
		early     bool
	)
	emu := &Server{
		Region:  "eu-west-1",
		IsLocal: func(a string) bool { return strings.HasSuffix(a, "@pigeon.local") },
		Publish: func(ctx context.Context, ev events.SNSEvent) {
			mu.Lock()
			defer mu.Unlock()
			early = early || !answered
			r := ev.Records[0]
			id, n, err := delivery.ParseSESEvent([]byte(r.SNS.Message), r.SNS.MessageID)
			if err != nil || r.EventSource != "aws:sns" || !strings.Contains(r.SNS.TopicArn, ":eu-west-1:") {
				t.Errorf("published %+v: %v", r, err)
			}
			var mail struct {
				Mail struct {
					Tags          map[string][]string
					CommonHeaders struct{ MessageID string }
				}
			}
			_ = json.Unmarshal([]byte(r.SNS.Message), &mail)
			if mail.Mail.Tags["pigeon_inbox"][0] != "agent_pigeon_local" || mail.Mail.Tags["ses:configuration-set"][0] != "pigeon" ||
				mail.Mail.CommonHeaders.MessageID != "<composed-by-pigeon@pigeon.local>" {
				t.Errorf("mail object %+v", mail.Mail)
			}
			published = append(published, fmt.Sprintf("%s %s %s/%s %v", id[:4], n.Kind, n.Type, n.SubType, n.Recipients))
		},
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	c := newClient(srv.URL, "eu-west-1")
	rcpts := []string{"carol@pigeon.local", "bounce+x@simulator.amazonses.com", "complaint@simulator.amazonses.com", "success@simulator.amazonses.com"}
	_, err := c.SendEmail(context.Background(), &sesv2.SendEmailInput{
		FromEmailAddress:     aws.String("agent@pigeon.local"),
		Destination:          &types.Destination{ToAddresses: rcpts},
		Content:              &types.EmailContent{Raw: &types.RawMessage{Data: []byte(testRaw)}},
		ConfigurationSetName: aws.String("pigeon"),
		EmailTags:            []types.MessageTag{{Name: aws.String("pigeon_inbox"), Value: aws.String("agent_pigeon_local")}},
	})
	mu.Lock()
	answered = true
	mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	emu.Wait()
	want := []string{
		"0100 Send / []",
		"0100 Delivery / [carol@pigeon.local]",
		"0100 Bounce Permanent/General [bounce+x@simulator.amazonses.com]",
		"0100 Delivery / [complaint@simulator.amazonses.com]",
		"0100 Delivery / [success@simulator.amazonses.com]",
		"0100 Complaint abuse/ [complaint@simulator.amazonses.com]",
	}
	if !slices.Equal(published, want) {
		t.Errorf("published\n got %q\nwant %q", published, want)
	}
	if early {
		t.Error("notifications were published before SendEmail answered")
	}

	// A refused call publishes nothing.
	published = nil
	emu.FailNext(1, "MessageRejected", "no")
	if _, err := sendRaw(t, c, testRaw, "success@simulator.amazonses.com"); err == nil {
		t.Fatal("FailNext ignored")
	}
	emu.Wait()
	if len(published) != 0 {
		t.Errorf("a refused send published %q", published)
	}
}
