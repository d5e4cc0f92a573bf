package ses_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/pigeon-mail/pigeon/infra/local/sesemu"
	"github.com/pigeon-mail/pigeon/shared/ses"
)

const raw = "From: agent@pigeon.local\r\nTo: bob@example.com\r\nSubject: hi\r\nMessage-ID: <m@pigeon.local>\r\n\r\nhello\r\n"

// newClient is the real SES v2 client pointed at url; retryer nil means no retries.
func newClient(url string, retryer aws.Retryer) *sesv2.Client {
	if retryer == nil {
		retryer = aws.NopRetryer{}
	}
	return sesv2.New(sesv2.Options{
		Region:       "us-west-2",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:      retryer,
	})
}

func newEmulator(t *testing.T) (*sesemu.Server, *ses.Sender) {
	t.Helper()
	emu := &sesemu.Server{Region: "us-west-2"}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return emu, &ses.Sender{Client: newClient(srv.URL, nil), ConfigurationSet: "pigeon-events"}
}

func TestSend(t *testing.T) {
	emu, sender := newEmulator(t)
	id, err := sender.Send(context.Background(), ses.SendInput{
		From:       "agent@pigeon.local",
		Recipients: []string{"bob@example.com", "cc@example.com", "bcc@example.com"},
		Raw:        []byte(raw),
		Tags:       map[string]string{"inbox_id": "agent@pigeon.local", "message": "msg_01JABC", "empty": "", "bad name!": "x", "long": strings.Repeat("é", 300)},
	})
	if err != nil {
		t.Fatal(err)
	}
	kept := emu.Outbox()
	if len(kept) != 1 {
		t.Fatalf("outbox has %d messages", len(kept))
	}
	m := kept[0]
	if m.SESMessageID != id || m.ConfigurationSet != "pigeon-events" || len(m.Recipients) != 3 {
		t.Errorf("sent %+v", m)
	}
	wantTags := map[string]string{"inbox_id": "agent_pigeon_local", "message": "msg_01JABC", "bad_name_": "x", "long": strings.Repeat("_", 256)}
	if fmt.Sprint(m.Tags) != fmt.Sprint(wantTags) {
		t.Errorf("tags = %v, want %v", m.Tags, wantTags)
	}
	if want := "Message-ID: " + ses.MessageIDHeader(id, "us-west-2") + "\r\n"; !strings.Contains(string(m.Raw), want) {
		t.Errorf("sent mail lacks %q:\n%s", want, m.Raw)
	}
}

func TestMessageIDHeader(t *testing.T) {
	tests := []struct{ region, want string }{
		{"us-east-1", "<0100abc-000000@email.amazonses.com>"},
		{"", "<0100abc-000000@email.amazonses.com>"},
		{"eu-west-1", "<0100abc-000000@eu-west-1.amazonses.com>"},
		{"US-WEST-2", "<0100abc-000000@us-west-2.amazonses.com>"},
	}
	for _, tt := range tests {
		if got := ses.MessageIDHeader("0100abc-000000", tt.region); got != tt.want {
			t.Errorf("MessageIDHeader(%q) = %q, want %q", tt.region, got, tt.want)
		}
	}
}

func TestSendErrorKinds(t *testing.T) {
	tests := []struct {
		errType    string
		kind       error
		retryAfter time.Duration
	}{
		{"TooManyRequestsException", ses.ErrThrottled, time.Second},
		{"LimitExceededException", ses.ErrThrottled, time.Minute},
		{"MessageRejected", ses.ErrRejected, 0},
		{"MailFromDomainNotVerifiedException", ses.ErrRejected, 0},
		{"AccountSuspendedException", ses.ErrRejected, 0},
		{"NotFoundException", ses.ErrRejected, 0},
		{"BadRequestException", ses.ErrRejected, 0},
		{"SendingPausedException", ses.ErrUnavailable, 0},
		{"InternalServiceErrorException", ses.ErrUnavailable, 0},
	}
	emu, sender := newEmulator(t)
	for _, tt := range tests {
		t.Run(tt.errType, func(t *testing.T) {
			emu.FailNext(1, tt.errType, "because "+tt.errType)
			_, err := sender.Send(context.Background(), ses.SendInput{From: "agent@pigeon.local", Recipients: []string{"bob@example.com"}, Raw: []byte(raw)})
			var e *ses.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *ses.Error", err, err)
			}
			if !errors.Is(err, tt.kind) || e.Code != tt.errType || e.Reason != "because "+tt.errType || e.RetryAfter != tt.retryAfter {
				t.Errorf("err = %+v; want kind %v, code %s, retry after %v", e, tt.kind, tt.errType, tt.retryAfter)
			}
			for _, other := range []error{ses.ErrRejected, ses.ErrThrottled, ses.ErrUnavailable} {
				if other != tt.kind && errors.Is(err, other) {
					t.Errorf("err also matches %v", other)
				}
			}
		})
	}
	// The SDK's typed error stays reachable.
	emu.FailNext(1, "MessageRejected", "Email address is not verified.")
	_, err := sender.Send(context.Background(), ses.SendInput{From: "agent@pigeon.local", Recipients: []string{"bob@example.com"}, Raw: []byte(raw)})
	var mr *types.MessageRejected
	if !errors.As(err, &mr) || !strings.Contains(err.Error(), "Email address is not verified.") {
		t.Errorf("err = %v, want it to wrap *types.MessageRejected", err)
	}
}

func TestSendEmulatorValidationIsRejected(t *testing.T) {
	_, sender := newEmulator(t)
	_, err := sender.Send(context.Background(), ses.SendInput{From: "agent@pigeon.local", Recipients: []string{"bob@example.com"}, Raw: []byte("no header at all")})
	if !errors.Is(err, ses.ErrRejected) {
		t.Errorf("err = %v, want ErrRejected", err)
	}
}

func TestSendChecksLimitsBeforeCallingSES(t *testing.T) {
	sender := &ses.Sender{Client: newClient("http://127.0.0.1:1", nil)} // nothing listens there
	var many []string
	for i := range 51 {
		many = append(many, fmt.Sprintf("r%d@example.com", i))
	}
	for name, in := range map[string]ses.SendInput{
		"no recipients":  {From: "a@pigeon.local", Raw: []byte(raw)},
		"51 recipients":  {From: "a@pigeon.local", Recipients: many, Raw: []byte(raw)},
		"over 40 MB b64": {From: "a@pigeon.local", Recipients: []string{"b@example.com"}, Raw: make([]byte, 31<<20)},
	} {
		if _, err := sender.Send(context.Background(), in); !errors.Is(err, ses.ErrRejected) {
			t.Errorf("%s: err = %v, want ErrRejected", name, err)
		}
	}
}

func TestSendThrottledOnceIsRetriedBySDK(t *testing.T) {
	emu := &sesemu.Server{}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	// The SDK's standard retryer treats TooManyRequestsException as throttling and retries it.
	sender := &ses.Sender{Client: newClient(srv.URL, retryStandard())}
	emu.FailNext(1, "TooManyRequestsException", "Maximum sending rate exceeded.")
	if _, err := sender.Send(context.Background(), ses.SendInput{From: "a@pigeon.local", Recipients: []string{"b@example.com"}, Raw: []byte(raw)}); err != nil {
		t.Errorf("err = %v; one throttle should be retried away", err)
	}
}

// retryStandard is the SDK's default retryer with a short backoff, so the test does not wait.
func retryStandard() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 10 * time.Millisecond })
}

func TestSendUnavailable(t *testing.T) {
	t.Run("server closed", func(t *testing.T) {
		srv := httptest.NewServer(&sesemu.Server{})
		url := srv.URL
		srv.Close()
		sender := &ses.Sender{Client: newClient(url, nil)}
		_, err := sender.Send(context.Background(), ses.SendInput{From: "a@pigeon.local", Recipients: []string{"b@example.com"}, Raw: []byte(raw)})
		var e *ses.Error
		if !errors.Is(err, ses.ErrUnavailable) || !errors.As(err, &e) || !strings.Contains(e.Reason, "cannot reach SES") {
			t.Errorf("err = %v, want ErrUnavailable", err)
		}
		if ses.OutcomeUnknown(err) {
			t.Errorf("a refused connection is a send that surely did not happen: %v", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		release := make(chan struct{})
		emu := &sesemu.Server{Deliver: func(ctx context.Context, _ string, _ []string, _ []byte, _ string) error {
			<-release
			return nil
		}}
		srv := httptest.NewServer(emu)
		defer srv.Close()
		defer close(release)
		sender := &ses.Sender{Client: newClient(srv.URL, nil)}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := sender.Send(ctx, ses.SendInput{From: "a@pigeon.local", Recipients: []string{"b@example.com"}, Raw: []byte(raw)})
		if !errors.Is(err, ses.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want ErrUnavailable wrapping the deadline", err)
		}
		if !ses.OutcomeUnknown(err) {
			t.Errorf("a deadline after the request went out leaves the outcome unknown: %v", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		_, sender := newEmulator(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := sender.Send(ctx, ses.SendInput{From: "a@pigeon.local", Recipients: []string{"b@example.com"}, Raw: []byte(raw)})
		var e *ses.Error
		if !errors.Is(err, context.Canceled) || errors.As(err, &e) {
			t.Errorf("err = %v, want the cancellation unclassified", err)
		}
	})
}

func TestReplaceMessageID(t *testing.T) {
	const id = "<new@eu-west-1.amazonses.com>"
	tests := []struct{ name, in, want string }{
		{"replaced in place", "From: a@x\r\nMessage-ID: <old@x>\r\nTo: b@y\r\n\r\nbody\r\n",
			"From: a@x\r\nMessage-ID: " + id + "\r\nTo: b@y\r\n\r\nbody\r\n"},
		{"added at the top", "From: a@x\r\n\r\nbody", "Message-ID: " + id + "\r\nFrom: a@x\r\n\r\nbody"},
		{"LF line ends", "From: a@x\nMessage-Id: <old@x>\n\nbody\n", "From: a@x\nMessage-ID: " + id + "\n\nbody\n"},
		{"folded", "Message-ID:\r\n <old@x>\r\nFrom: a@x\r\n\r\nb", "Message-ID: " + id + "\r\nFrom: a@x\r\n\r\nb"},
		{"duplicates removed", "MESSAGE-ID: <1@x>\r\nFrom: a@x\r\nmessage-id: <2@x>\r\n\r\nb", "Message-ID: " + id + "\r\nFrom: a@x\r\n\r\nb"},
		{"body untouched", "From: a@x\r\n\r\nMessage-ID: <in-body@x>\r\n", "Message-ID: " + id + "\r\nFrom: a@x\r\n\r\nMessage-ID: <in-body@x>\r\n"},
		{"other folded fields kept", "Subject: a\r\n b\r\nMessage-ID: <o@x>\r\n\r\n", "Subject: a\r\n b\r\nMessage-ID: " + id + "\r\n\r\n"},
		{"header only", "From: a@x\r\n", "Message-ID: " + id + "\r\nFrom: a@x\r\n"},
	}
	for _, tt := range tests {
		if got := string(ses.ReplaceMessageID([]byte(tt.in), id)); got != tt.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tt.name, got, tt.want)
		}
	}
}
