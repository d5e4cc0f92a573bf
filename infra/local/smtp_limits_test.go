package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/pigeon-mail/pigeon/infra/local/embedded"
)

// smtpSession is one client session that goes on after refusals, as an MTA's does.
type smtpSession struct {
	t *testing.T
	c *smtp.Client
}

func dialSMTP(t *testing.T, addr string) *smtpSession {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("client.example"); err != nil {
		t.Fatal(err)
	}
	return &smtpSession{t: t, c: c}
}

// send runs one transaction and returns the reply that refused it ("" when accepted), as
// "<code> <enhanced code> ...". A refused transaction is reset, so the next one can start.
func (s *smtpSession) send(from string, rcpts []string, msg []byte) string {
	s.t.Helper()
	refused := func(err error) string {
		var te *textproto.Error
		if !errors.As(err, &te) {
			s.t.Fatalf("session broken: %v", err)
		}
		if err := s.c.Reset(); err != nil {
			s.t.Fatalf("RSET after %v: %v", te, err)
		}
		return fmt.Sprintf("%d %s", te.Code, te.Msg)
	}
	if err := s.c.Mail(from); err != nil {
		return refused(err)
	}
	for _, r := range rcpts {
		if err := s.c.Rcpt(r); err != nil {
			return refused(err)
		}
	}
	w, err := s.c.Data()
	if err != nil {
		return refused(err)
	}
	if _, err := w.Write(msg); err != nil {
		s.t.Fatalf("DATA: %v", err)
	}
	if err := w.Close(); err != nil {
		return refused(err)
	}
	return ""
}

// startLimitedReceiving runs Receiving with an inbox check and a session limit against an
// embedded S3, and returns its address and server.
func startLimitedReceiving(t *testing.T, maxBytes int64, sessions int, in *fakeInbound) (string, *gosmtp.Server) {
	t.Helper()
	srv, err := embedded.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	if err := ensureBucket(context.Background(), srv.S3(), "pigeon"); err != nil {
		t.Fatal(err)
	}
	r := &Receiving{
		S3: srv.S3(), Bucket: "pigeon", Region: "us-east-1", TopicARN: TopicARN,
		Owns: func(d string) bool { return d == "pigeon.local" },
		HasInbox: func(_ context.Context, a string) (bool, error) {
			return !strings.HasPrefix(a, "nobody@"), nil
		},
		MaxBytes: maxBytes, Inbound: in.handle, Log: slog.New(slog.DiscardHandler),
	}
	s := r.NewSMTPServer("inbound-smtp.us-east-1.amazonaws.com")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(LimitSessions(ln, sessions, s.Domain))
	t.Cleanup(func() { s.Close() })
	return ln.Addr().String(), s
}

// A refused mail ends only its own transaction: each refusal gets its precise code and the
// same session delivers the next mail.
func TestSMTPSessionGoesOnAfterRefusals(t *testing.T) {
	in := &fakeInbound{}
	const maxBytes = 64 << 10
	addr, _ := startLimitedReceiving(t, maxBytes, 4, in)
	s := dialSMTP(t, addr)
	mail := func(body string) []byte {
		return []byte("From: a@example.com\r\nTo: bob@pigeon.local\r\nSubject: t\r\n\r\n" + body + "\r\n")
	}
	fifty := make([]string, 50)
	for i := range fifty {
		fifty[i] = "bob@pigeon.local"
	}
	cases := []struct {
		name  string
		rcpts []string
		msg   []byte
		want  string // prefix of the refusal; "" = accepted
	}{
		{"foreign domain", []string{"someone@gmail.com"}, mail("x"), "550 5.7.1 "},
		{"unknown recipient", []string{"nobody@pigeon.local"}, mail("x"), "550 5.1.1 "},
		{"ordinary mail", []string{"bob@pigeon.local"}, mail("one"), ""},
		{"51 recipients", append(fifty, "carol@pigeon.local"), mail("x"), "452 4.5.3 "},
		{"over size", []string{"bob@pigeon.local"}, mail(strings.Repeat("x\r\n", maxBytes/3)), "552 5.3.4 "},
		{"over size in one line", []string{"bob@pigeon.local"}, mail(strings.Repeat("x", maxBytes+1000)), "552 5.3.4 "},
		{"a 50,000-character line", []string{"bob@pigeon.local"}, mail(strings.Repeat("y", 50000)), ""},
		{"last mail", []string{"bob@pigeon.local"}, mail("two"), ""},
	}
	accepted := 0
	for _, c := range cases {
		got := s.send("a@example.com", c.rcpts, c.msg)
		if c.want == "" && got != "" || !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: reply %q, want %q", c.name, got, c.want)
		}
		if c.want == "" {
			accepted++
		}
	}
	if len(in.events) != accepted {
		t.Errorf("inbound got %d mails, want %d", len(in.events), accepted)
	}
	// The 51-recipient transaction is refused at the 51st RCPT only: the 50 before it stand.
	if got := s.send("a@example.com", append(fifty[:49:49], "carol@pigeon.local"), mail("fifty")); got != "" {
		t.Errorf("50 recipients: %q", got)
	}
}

// Beyond the session limit a connection is answered 421 4.7.0 and closed; a freed slot serves
// the next one.
func TestSMTPSessionLimit(t *testing.T) {
	addr, _ := startLimitedReceiving(t, 1<<20, 2, &fakeInbound{})
	greeting := func() (net.Conn, string) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return c, line
	}
	first, g1 := greeting()
	second, g2 := greeting()
	defer second.Close()
	third, g3 := greeting()
	defer third.Close()
	if !strings.HasPrefix(g1, "220 ") || !strings.HasPrefix(g2, "220 ") || !strings.HasPrefix(g3, "421 4.7.0 ") {
		t.Fatalf("greetings %q %q %q", g1, g2, g3)
	}
	if _, err := third.Read(make([]byte, 1)); err == nil {
		t.Error("the refused connection stays open")
	}
	first.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, g := greeting()
		c.Close()
		if strings.HasPrefix(g, "220 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot not freed: %q", g)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An idle client is disconnected with 421 4.4.2 and its slot freed.
func TestSMTPIdleTimeout(t *testing.T) {
	addr, srv := startLimitedReceiving(t, 1<<20, 1, &fakeInbound{})
	if (&Receiving{}).NewSMTPServer("x").ReadTimeout != smtpReadTimeout {
		t.Fatal("NewSMTPServer does not set the read timeout")
	}
	srv.ReadTimeout = 200 * time.Millisecond
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	greeting, _ := r.ReadString('\n')
	bye, _ := r.ReadString('\n')
	if !strings.HasPrefix(greeting, "220 ") || !strings.HasPrefix(bye, "421 4.4.2 ") {
		t.Fatalf("greeting %q, then %q", greeting, bye)
	}
	if _, err := r.ReadByte(); err == nil {
		t.Fatal("connection open after the timeout")
	}
	// The only slot is free again.
	s := dialSMTP(t, addr)
	if err := s.c.Noop(); err != nil {
		t.Fatal(err)
	}
}
