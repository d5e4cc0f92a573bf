package outbound

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

var (
	testInbox = store.InboxRecord{Inbox: wire.Inbox{InboxID: "agent@pigeon.local", DisplayName: "Support Agent"}, OrgID: "org"}
	testNow   = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	original  = &store.MessageRecord{Message: wire.Message{
		InboxID: "agent@pigeon.local", MessageID: "<orig@example.com>", References: []string{"<root@example.com>"},
		From: "Ann <ann@example.com>", To: []string{"agent@pigeon.local", "Bob <bob@example.com>"}, Cc: []string{"carol@example.com"},
		Subject: "Re: Plans", Text: "See you Tuesday.", Timestamp: time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC),
	}}
)

func addresses(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("r%d@example.com", i)
	}
	return out
}

func TestPlanRules(t *testing.T) {
	withReplyTo := *original
	withReplyTo.ReplyTo = []string{"Desk <desk@example.com>"}
	fromSelf := *original
	fromSelf.From = "Support Agent <AGENT@pigeon.local>"
	reusedID := *original // a mail that reused a Message-ID the inbox held: stored under its own id
	reusedID.MessageID = "<0123456789abcdef0123456789abcdef@pigeon.invalid>"
	reusedID.Headers = map[string]string{"Message-Id": "<orig@example.com>"}

	tests := []struct {
		name      string
		req       Request
		wantField string // the InvalidError's field; "" for success
		check     func(t *testing.T, p *plan)
	}{
		{name: "send needs a recipient", req: Request{Kind: KindSend, Text: "hi"}, wantField: "to"},
		{name: "send needs a body", req: Request{Kind: KindSend, To: []string{"x@example.com"}, HTML: "  "}, wantField: "text"},
		{name: "bad address names its index", req: Request{Kind: KindSend, To: []string{"x@example.com", "nope"}, Text: "hi"}, wantField: "to[1]"},
		{name: "non-ASCII address refused", req: Request{Kind: KindSend, Cc: []string{"jörg@example.com"}, Text: "hi"}, wantField: "cc[0]"},
		{name: "bad reply_to", req: Request{Kind: KindSend, To: []string{"x@example.com"}, ReplyTo: []string{"@"}, Text: "hi"}, wantField: "reply_to[0]"},
		{name: "51 recipients over to, cc and bcc", req: Request{Kind: KindSend, To: addresses(40), Cc: addresses(51)[40:50], Bcc: []string{"z@example.com"}, Text: "hi"}, wantField: "to"},
		{name: "50 recipients are fine", req: Request{Kind: KindSend, To: addresses(50), Text: "hi"}, check: func(t *testing.T, p *plan) {
			if len(p.envelope) != 50 {
				t.Errorf("envelope %d", len(p.envelope))
			}
		}},
		{name: "repeats count once, bcc in the envelope", req: Request{Kind: KindSend, To: []string{"A <a@example.com>, b@example.com"}, Cc: []string{"A@EXAMPLE.com"}, Bcc: []string{"hidden@example.com"}, Text: "hi"},
			check: func(t *testing.T, p *plan) {
				if !slices.Equal(p.envelope, []string{"a@example.com", "b@example.com", "hidden@example.com"}) {
					t.Errorf("envelope %v", p.envelope)
				}
			}},
		{name: "lifecycle label refused", req: Request{Kind: KindSend, To: []string{"x@example.com"}, Text: "hi", Labels: []string{"ok", "Delivered"}}, wantField: "labels[1]"},
		{name: "labels lower-cased once", req: Request{Kind: KindSend, To: []string{"x@example.com"}, Text: "hi", Labels: []string{"Needs-Review", "needs-review ", ""}},
			check: func(t *testing.T, p *plan) {
				if !slices.Equal(p.labels, []string{"needs-review"}) || p.out.From != `"Support Agent" <agent@pigeon.local>` {
					t.Errorf("labels %v from %q", p.labels, p.out.From)
				}
			}},
		{name: "reply goes to the sender, threads, Re:", req: Request{Kind: KindReply, Original: original, Text: "ok"},
			check: func(t *testing.T, p *plan) {
				if !slices.Equal(p.out.To, []string{"Ann <ann@example.com>"}) || len(p.out.Cc) != 0 || p.out.Subject != "Re: Plans" ||
					p.out.InReplyTo != "<orig@example.com>" || !slices.Equal(p.out.References, []string{"<root@example.com>", "<orig@example.com>"}) {
					t.Errorf("reply %+v", p.out)
				}
			}},
		{name: "reply to a mail stored under its own id names its Message-ID header", req: Request{Kind: KindReply, Original: &reusedID, Text: "ok"},
			check: func(t *testing.T, p *plan) {
				if p.out.InReplyTo != "<orig@example.com>" || !slices.Equal(p.out.References, []string{"<root@example.com>", "<orig@example.com>"}) {
					t.Errorf("in-reply-to %q references %v", p.out.InReplyTo, p.out.References)
				}
			}},
		{name: "reply honours Reply-To", req: Request{Kind: KindReply, Original: &withReplyTo, Text: "ok"},
			check: func(t *testing.T, p *plan) {
				if !slices.Equal(p.out.To, []string{"Desk <desk@example.com>"}) {
					t.Errorf("to %v", p.out.To)
				}
			}},
		{name: "reply with the caller's recipients", req: Request{Kind: KindReply, Original: original, To: []string{"other@example.com"}, Bcc: []string{"log@example.com"}, Text: "ok"},
			check: func(t *testing.T, p *plan) {
				if !slices.Equal(p.out.To, []string{"other@example.com"}) || !slices.Equal(p.envelope, []string{"other@example.com", "log@example.com"}) {
					t.Errorf("to %v envelope %v", p.out.To, p.envelope)
				}
			}},
		{name: "reply with reply_all", req: Request{Kind: KindReply, ReplyAll: true, Original: original, Text: "ok"},
			check: func(t *testing.T, p *plan) {
				if len(p.out.To) != 2 || len(p.out.Cc) != 1 {
					t.Errorf("to %v cc %v", p.out.To, p.out.Cc)
				}
			}},
		{name: "reply-all leaves the inbox out and ignores bcc", req: Request{Kind: KindReplyAll, Original: original, Bcc: []string{"x@example.com"}, Text: "ok"},
			check: func(t *testing.T, p *plan) {
				if !slices.Equal(p.out.To, []string{"Ann <ann@example.com>", "Bob <bob@example.com>"}) || !slices.Equal(p.out.Cc, []string{"carol@example.com"}) || len(p.out.Bcc) != 0 {
					t.Errorf("to %v cc %v bcc %v", p.out.To, p.out.Cc, p.out.Bcc)
				}
			}},
		{name: "reply to our own message continues with its recipients", req: Request{Kind: KindReply, Original: &fromSelf, Text: "ok"},
			check: func(t *testing.T, p *plan) {
				if !slices.Equal(p.out.To, []string{"Bob <bob@example.com>"}) {
					t.Errorf("to %v", p.out.To)
				}
			}},
		{name: "reply needs a body", req: Request{Kind: KindReply, Original: original}, wantField: "text"},
		{name: "forward needs recipients", req: Request{Kind: KindForward, Original: original}, wantField: "to"},
		{name: "forward: Fwd:, caller's words first, original after", req: Request{Kind: KindForward, Original: original, To: []string{"dan@example.com"}, Text: "FYI <b>"},
			check: func(t *testing.T, p *plan) {
				if p.out.Subject != "Fwd: Re: Plans" || !p.forwarded || p.out.InReplyTo != "<orig@example.com>" {
					t.Errorf("forward %+v", p.out)
				}
				if !strings.HasPrefix(p.out.Text, "FYI <b>\n\n---------- Forwarded message ---------\nFrom: Ann <ann@example.com>\nDate: Sat, 1 Mar 2025 at 09:30\nSubject: Re: Plans\n") ||
					!strings.HasSuffix(p.out.Text, "See you Tuesday.") {
					t.Errorf("text %q", p.out.Text)
				}
				if !strings.HasPrefix(p.out.HTML, "<div>FYI &lt;b&gt;</div>") || !strings.Contains(p.out.HTML, "gmail_quote") {
					t.Errorf("html %q", p.out.HTML)
				}
			}},
		{name: "forward keeps the caller's subject", req: Request{Kind: KindForward, Original: original, To: []string{"dan@example.com"}, Subject: "Look"},
			check: func(t *testing.T, p *plan) {
				if p.out.Subject != "Look" || !strings.HasPrefix(p.out.Text, "---------- Forwarded") {
					t.Errorf("subject %q text %q", p.out.Subject, p.out.Text)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newPlan(testInbox, tt.req, testNow)
			var ie *InvalidError
			switch {
			case tt.wantField != "":
				if !errors.As(err, &ie) || ie.Field != tt.wantField {
					t.Fatalf("err = %v, want an InvalidError on %s", err, tt.wantField)
				}
			case err != nil:
				t.Fatal(err)
			default:
				tt.check(t, p)
			}
		})
	}
}

func TestCheckAttachments(t *testing.T) {
	tests := []struct {
		name    string
		atts    []Attachment
		budget  int64
		want    string // content of attachment 0, or the error's field
		tooBig  bool
		invalid bool
	}{
		{name: "padded base64", atts: []Attachment{{Content: "aGVsbG8="}}, want: "hello"},
		{name: "unpadded, wrapped", atts: []Attachment{{Content: "aGVs\r\nbG8"}}, want: "hello"},
		{name: "url-safe alphabet", atts: []Attachment{{Content: "-_8"}}, want: "\xfb\xff"},
		{name: "not base64", atts: []Attachment{{Content: "%%%"}}, want: "attachments[0].content", invalid: true},
		{name: "both", atts: []Attachment{{Content: "aGk=", URL: "https://x.test/a"}}, want: "attachments[0]", invalid: true},
		{name: "neither", atts: []Attachment{{Filename: "a"}}, want: "attachments[0]", invalid: true},
		{name: "bad url", atts: []Attachment{{URL: "ftp://x.test/a"}}, want: "attachments[0].url", invalid: true},
		{name: "url with credentials", atts: []Attachment{{URL: "https://u:p@x.test/a"}}, want: "attachments[0].url", invalid: true},
		{name: "url left for later", atts: []Attachment{{URL: "https://x.test/a"}}, want: ""},
		{name: "over the budget", atts: []Attachment{{Content: "aGVsbG8="}}, budget: 4, want: "attachments[0].content", tooBig: true},
		{name: "too many", atts: make([]Attachment, MaxAttachments+1), want: "attachments", invalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &budget{left: MaxAttachmentBytes}
			if tt.budget > 0 {
				b.left = tt.budget
			}
			out, err := checkAttachments(tt.atts, b)
			var ie *InvalidError
			var tl *TooLargeError
			switch {
			case tt.invalid:
				if !errors.As(err, &ie) || ie.Field != tt.want {
					t.Fatalf("err = %v, want invalid %s", err, tt.want)
				}
			case tt.tooBig:
				if !errors.As(err, &tl) || tl.Field != tt.want {
					t.Fatalf("err = %v, want too large %s", err, tt.want)
				}
			case err != nil:
				t.Fatal(err)
			case string(out[0].Content) != tt.want:
				t.Fatalf("content %q, want %q", out[0].Content, tt.want)
			}
		})
	}
}
