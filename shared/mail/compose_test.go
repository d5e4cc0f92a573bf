package mail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // lets the test reader decode parts in other charsets
)

// composeTree renders the MIME structure of raw as "type(child,child)", read with go-message's
// strict reader, so the tests check Compose against an independent parser.
func composeTree(t *testing.T, raw []byte) string {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("go-message cannot read the message: %v\n%s", err, raw)
	}
	return composeTreeOf(t, e)
}

func composeTreeOf(t *testing.T, e *message.Entity) string {
	t.Helper()
	mt, _, _ := e.Header.ContentType()
	mr := e.MultipartReader()
	if mr == nil {
		return mt
	}
	var kids []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading part: %v", err)
		}
		kids = append(kids, composeTreeOf(t, p))
	}
	return mt + "(" + strings.Join(kids, ",") + ")"
}

func TestComposeStructure(t *testing.T) {
	png := OutgoingAttachment{Filename: "logo.png", ContentID: "logo@x", Content: []byte("\x89PNG\r\n\x1a\n....")}
	pdf := OutgoingAttachment{Filename: "report.pdf", Content: []byte("%PDF-1.4 ...")}
	inlineNoCID := OutgoingAttachment{Filename: "photo.jpg", ContentDisposition: "inline", Content: []byte("\xff\xd8\xff\xe0")}
	cidAsAttachment := OutgoingAttachment{Filename: "logo.png", ContentID: "logo@x", ContentDisposition: "attachment", Content: []byte("x")}
	tests := []struct {
		name string
		o    Outgoing
		want string
	}{
		{"text only", Outgoing{Text: "hi"}, "text/plain"},
		{"empty body", Outgoing{}, "text/plain"},
		{"html only", Outgoing{HTML: "<p>hi</p>"}, "text/html"},
		{"text and html", Outgoing{Text: "hi", HTML: "<p>hi</p>"}, "multipart/alternative(text/plain,text/html)"},
		{"text and attachment", Outgoing{Text: "hi", Attachments: []OutgoingAttachment{pdf}}, "multipart/mixed(text/plain,application/pdf)"},
		{"alternative and attachments", Outgoing{Text: "hi", HTML: "<p>hi</p>", Attachments: []OutgoingAttachment{pdf, pdf}},
			"multipart/mixed(multipart/alternative(text/plain,text/html),application/pdf,application/pdf)"},
		{"html with inline image", Outgoing{HTML: `<img src="cid:logo@x">`, Attachments: []OutgoingAttachment{png}},
			"multipart/related(text/html,image/png)"},
		{"text, html, inline image", Outgoing{Text: "hi", HTML: `<img src="cid:logo@x">`, Attachments: []OutgoingAttachment{png}},
			"multipart/alternative(text/plain,multipart/related(text/html,image/png))"},
		{"everything", Outgoing{Text: "hi", HTML: `<img src="cid:logo@x">`, Attachments: []OutgoingAttachment{pdf, png}},
			"multipart/mixed(multipart/alternative(text/plain,multipart/related(text/html,image/png)),application/pdf)"},
		{"inline image without html goes to mixed", Outgoing{Text: "hi", Attachments: []OutgoingAttachment{png}},
			"multipart/mixed(text/plain,image/png)"},
		{"inline without content id goes to mixed", Outgoing{HTML: "<p>hi</p>", Attachments: []OutgoingAttachment{inlineNoCID}},
			"multipart/mixed(text/html,image/jpeg)"},
		{"content id with attachment disposition goes to mixed", Outgoing{HTML: "<p>hi</p>", Attachments: []OutgoingAttachment{cidAsAttachment}},
			"multipart/mixed(text/html,image/png)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.From = "agent@pigeon.local"
			tt.o.To = []string{"bob@example.com"}
			raw, err := Compose(tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if got := composeTree(t, raw); got != tt.want {
				t.Errorf("structure = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestComposeHeaders(t *testing.T) {
	date := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("", 3600))
	raw, err := Compose(Outgoing{
		From:       "Jörg Müller <jorg@pigeon.local>",
		ReplyTo:    []string{"replies@pigeon.local"},
		To:         []string{"bob@example.com", `"Smith, Al" <al@example.com>`},
		Cc:         []string{"=?utf-8?q?Zo=C3=AB?= <zoe@example.com>"},
		Bcc:        []string{"hidden@example.com"},
		Subject:    "Grüße\r\naus Köln",
		Text:       "hi",
		Headers:    map[string]string{"X-Agent": "planner", "X-Trace": "naïve"},
		InReplyTo:  "parent@example.com",
		References: []string{"<root@example.com>", "parent@example.com"},
		MessageID:  "<m1@pigeon.local>",
		Date:       date,
	})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	get := func(k string) string {
		v, err := dec.DecodeHeader(msg.Header.Get(k))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		return v
	}
	for k, want := range map[string]string{
		"Reply-To":     "replies@pigeon.local",
		"To":           `bob@example.com, "Smith, Al" <al@example.com>`,
		"Message-Id":   "<m1@pigeon.local>",
		"In-Reply-To":  "<parent@example.com>",
		"References":   "<root@example.com> <parent@example.com>",
		"Mime-Version": "1.0",
		"X-Agent":      "planner",
		"Date":         "Wed, 04 Mar 2026 05:06:07 +0100",
	} {
		if got := msg.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got := get("From"); got != "Jörg Müller <jorg@pigeon.local>" {
		t.Errorf("From = %q", got)
	}
	if got := get("Subject"); got != "Grüße aus Köln" {
		t.Errorf("Subject = %q", got)
	}
	if got := get("Cc"); got != "Zoë <zoe@example.com>" {
		t.Errorf("Cc = %q", got)
	}
	if got := get("X-Trace"); got != "naïve" {
		t.Errorf("X-Trace = %q", got)
	}
	if strings.Contains(string(raw), "hidden@example.com") || msg.Header.Get("Bcc") != "" {
		t.Errorf("Bcc leaked into the message:\n%s", raw)
	}
	if d, err := msg.Header.Date(); err != nil || !d.Equal(date) {
		t.Errorf("Date = %v, %v", d, err)
	}
}

func TestComposeDefaultsDateToNow(t *testing.T) {
	raw, err := Compose(Outgoing{From: "a@pigeon.local", To: []string{"b@example.com"}, Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := netmail.ReadMessage(bytes.NewReader(raw))
	d, err := msg.Header.Date()
	if err != nil || time.Since(d) > time.Minute {
		t.Errorf("Date = %v, %v; want about now", d, err)
	}
	if msg.Header.Get("Message-Id") != "" {
		t.Errorf("Message-ID written although none was given")
	}
}

func TestComposeRejects(t *testing.T) {
	base := func() Outgoing {
		return Outgoing{From: "agent@pigeon.local", To: []string{"bob@example.com"}, Text: "hi"}
	}
	tests := []struct {
		name      string
		edit      func(*Outgoing)
		wantField string
		wantIn    string // part of the reason
	}{
		{"no from", func(o *Outgoing) { o.From = "" }, "from", "empty address"},
		{"two froms", func(o *Outgoing) { o.From = "a@x.com, b@x.com" }, "from", "exactly one"},
		{"bad to", func(o *Outgoing) { o.To = []string{"bob@example.com", "not an address"} }, "to[1]", `"not an address"`},
		{"bad cc", func(o *Outgoing) { o.Cc = []string{"<@>"} }, "cc[0]", `"<@>"`},
		{"bad bcc", func(o *Outgoing) { o.Bcc = []string{"x@"} }, "bcc[0]", `"x@"`},
		{"bad reply-to", func(o *Outgoing) { o.ReplyTo = []string{""} }, "reply_to[0]", "empty address"},
		{"non-ASCII address", func(o *Outgoing) { o.To = []string{"jörg@example.com"} }, "to[0]", "punycode"},
		{"header injection", func(o *Outgoing) { o.Headers = map[string]string{"X-Note": "a\r\nBcc: evil@example.com"} }, "headers.X-Note", "line break"},
		{"header LF injection", func(o *Outgoing) { o.Headers = map[string]string{"X-Note": "a\nb"} }, "headers.X-Note", "line break"},
		{"header NUL", func(o *Outgoing) { o.Headers = map[string]string{"X-Note": "a\x00b"} }, "headers.X-Note", "control"},
		{"header name with colon", func(o *Outgoing) { o.Headers = map[string]string{"X-A:B": "v"} }, "headers.X-A:B", "header names"},
		{"header name with space", func(o *Outgoing) { o.Headers = map[string]string{"X A": "v"} }, "headers.X A", "header names"},
		{"content-type", func(o *Outgoing) { o.Headers = map[string]string{"content-type": "text/html"} }, "headers.content-type", "cannot be set"},
		{"content-disposition", func(o *Outgoing) { o.Headers = map[string]string{"Content-Disposition": "inline"} }, "headers.Content-Disposition", "cannot be set"},
		{"mime-version", func(o *Outgoing) { o.Headers = map[string]string{"MIME-Version": "2.0"} }, "headers.MIME-Version", "cannot be set"},
		{"from header", func(o *Outgoing) { o.Headers = map[string]string{"From": "ceo@bank.com"} }, "headers.From", "cannot be set"},
		{"to header", func(o *Outgoing) { o.Headers = map[string]string{"TO": "x@y.com"} }, "headers.TO", "cannot be set"},
		{"message-id header", func(o *Outgoing) { o.Headers = map[string]string{"Message-ID": "<x@y>"} }, "headers.Message-ID", "cannot be set"},
		{"ses tags header", func(o *Outgoing) { o.Headers = map[string]string{"X-SES-MESSAGE-TAGS": "inbox_id=other"} }, "headers.X-SES-MESSAGE-TAGS", "instructions to SES"},
		{"same header twice", func(o *Outgoing) { o.Headers = map[string]string{"X-A": "1", "x-a": "2"} }, "headers.x-a", "same header"},
		{"unfoldable header", func(o *Outgoing) { o.Headers = map[string]string{"X-Long": strings.Repeat("a", 901)} }, "headers.X-Long", "without a space"},
		{"bad message id", func(o *Outgoing) { o.MessageID = "a b@c" }, "message_id", "contains"},
		{"bad in-reply-to", func(o *Outgoing) { o.InReplyTo = "<a\r\nb@c>" }, "in_reply_to", "contains"},
		{"bad reference", func(o *Outgoing) { o.References = []string{"ok@x", "<>"} }, "references[1]", "empty"},
		{"bad content type", func(o *Outgoing) {
			o.Attachments = []OutgoingAttachment{{Filename: "a", ContentType: "not a type", Content: []byte("x")}}
		}, "attachments[0].content_type", "not a MIME type"},
		{"multipart attachment", func(o *Outgoing) {
			o.Attachments = []OutgoingAttachment{{Filename: "a", ContentType: "multipart/mixed", Content: []byte("x")}}
		}, "attachments[0].content_type", "cannot be attached"},
		{"bad disposition", func(o *Outgoing) {
			o.Attachments = []OutgoingAttachment{{Filename: "a", ContentDisposition: "form-data", Content: []byte("x")}}
		}, "attachments[0].content_disposition", "inline"},
		{"bad content id", func(o *Outgoing) {
			o.Attachments = []OutgoingAttachment{{}, {Filename: "a", ContentID: "a b", Content: []byte("x")}}
		}, "attachments[1].content_id", "contains"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base()
			tt.edit(&o)
			raw, err := Compose(o)
			var ce *ComposeError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ComposeError; message:\n%s", err, raw)
			}
			if ce.Field != tt.wantField || !strings.Contains(ce.Reason, tt.wantIn) {
				t.Errorf("err = %q (field %q), want field %q and reason containing %q", err, ce.Field, tt.wantField, tt.wantIn)
			}
		})
	}
}

func TestComposeAllowsOrdinaryHeaders(t *testing.T) {
	raw, err := Compose(Outgoing{From: "a@pigeon.local", To: []string{"b@example.com"}, Text: "x", Headers: map[string]string{
		"List-Unsubscribe": "<mailto:unsub@pigeon.local>", "X-Priority": "1", "Auto-Submitted": "auto-generated",
	}})
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := netmail.ReadMessage(bytes.NewReader(raw))
	if msg.Header.Get("List-Unsubscribe") != "<mailto:unsub@pigeon.local>" || msg.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("custom headers not written:\n%s", raw)
	}
}

func TestComposeTextBodies(t *testing.T) {
	long := strings.Repeat("word ", 300) + strings.Repeat("x", 2000)
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"line one\nline two\n", "line one\r\nline two\r\n"},
		{"crlf\r\nand lone cr\rend", "crlf\r\nand lone cr\r\nend"},
		{"trailing spaces   \nand = signs =3D\n", "trailing spaces   \r\nand = signs =3D\r\n"},
		{"Grüße, 日本語, emoji 🐦", "Grüße, 日本語, emoji 🐦"},
		{"From the start\n.\n..dots", "From the start\r\n.\r\n..dots"},
		{long, long},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			raw, err := Compose(Outgoing{From: "a@pigeon.local", To: []string{"b@example.com"}, Text: tt.in, HTML: "<p>" + tt.in + "</p>"})
			if err != nil {
				t.Fatal(err)
			}
			e, err := message.Read(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			mr := e.MultipartReader()
			var bodies []string
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(p.Body)
				bodies = append(bodies, string(b))
			}
			if len(bodies) != 2 || bodies[0] != tt.want || bodies[1] != "<p>"+tt.want+"</p>" {
				t.Errorf("bodies = %q, want %q", bodies, tt.want)
			}
		})
	}
}

func TestComposeFilenames(t *testing.T) {
	names := []string{
		"report.pdf",
		"my report (final).pdf",
		`a "quoted" \ name.txt`,
		"Grüße.txt",
		strings.Repeat("報告書", 30) + ".pdf",
		strings.Repeat("long-ascii-name-", 10) + ".txt",
		"semi;colon=equals.txt",
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			raw, err := Compose(Outgoing{From: "a@pigeon.local", To: []string{"b@example.com"}, Text: "x",
				Attachments: []OutgoingAttachment{{Filename: name, ContentType: "application/octet-stream", Content: []byte("data")}}})
			if err != nil {
				t.Fatal(err)
			}
			e, err := message.Read(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			mr := e.MultipartReader()
			mr.NextPart()
			p, err := mr.NextPart()
			if err != nil {
				t.Fatal(err)
			}
			// Go's own parser (RFC 2231 continuations and charsets) and go-message agree.
			_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
			if err != nil || params["filename"] != name {
				t.Errorf("mime: filename = %q, %v; want %q\n%s", params["filename"], err, name, raw)
			}
			_, tparams, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
			if tparams["name"] != name {
				t.Errorf("mime: name = %q, want %q", tparams["name"], name)
			}
			_, gparams, err := p.Header.ContentDisposition()
			if err != nil || gparams["filename"] != name {
				t.Errorf("go-message: filename = %q, %v", gparams["filename"], err)
			}
		})
	}
}

func TestComposeGuessesContentType(t *testing.T) {
	tests := []struct {
		a    OutgoingAttachment
		want string
	}{
		{OutgoingAttachment{Filename: "a.pdf", Content: []byte("x")}, "application/pdf"},
		{OutgoingAttachment{Filename: "a.PNG", Content: []byte("x")}, "image/png"},
		{OutgoingAttachment{Filename: "noext", Content: []byte("\x89PNG\r\n\x1a\n0000")}, "image/png"},
		{OutgoingAttachment{Filename: "noext", Content: []byte{0, 1, 2, 3}}, "application/octet-stream"},
		{OutgoingAttachment{Filename: "a.pdf", ContentType: "Text/CSV; charset=ISO-8859-1", Content: []byte("x")}, "text/csv"},
	}
	for _, tt := range tests {
		raw, err := Compose(Outgoing{From: "a@pigeon.local", To: []string{"b@example.com"}, Text: "x", Attachments: []OutgoingAttachment{tt.a}})
		if err != nil {
			t.Fatal(err)
		}
		if got := composeTree(t, raw); got != "multipart/mixed(text/plain,"+tt.want+")" {
			t.Errorf("%+v: structure %s, want the attachment as %s", tt.a, got, tt.want)
		}
	}
}

func TestComposeLineLengths(t *testing.T) {
	var to []string
	for i := range 50 {
		to = append(to, fmt.Sprintf("Recipient Number %d <recipient.number.%d@example.com>", i, i))
	}
	var refs []string
	for i := range 50 {
		refs = append(refs, fmt.Sprintf("<%d.0100018cf0a1b2c3-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-000000@email.amazonses.com>", i))
	}
	bin := make([]byte, 10000)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	raw, err := Compose(Outgoing{
		From:       "Ein sehr langer Name mit Umlauten äöü und noch mehr Text <agent@pigeon.local>",
		To:         to,
		Cc:         []string{"日本語の名前がとても長い場合でも正しく折り返されるべきです <jp@example.com>"},
		Subject:    strings.Repeat("Ünïcödé subject that goes on and on ", 20) + strings.Repeat("长", 300),
		Text:       strings.Repeat("x", 5000) + "\n" + strings.Repeat("ü", 3000) + "\n" + strings.Repeat("word ", 1000),
		HTML:       "<p>" + strings.Repeat("<b>bold</b>", 1000) + "</p>",
		References: refs,
		InReplyTo:  refs[49],
		Headers:    map[string]string{"X-Long": strings.Repeat("value ", 200), "X-Unicode": strings.Repeat("ünïcödé ", 100)},
		Attachments: []OutgoingAttachment{
			{Filename: strings.Repeat("非常に長いファイル名", 20) + ".bin", Content: bin},
			{Filename: strings.Repeat("x", 300) + ".bin", Content: bin, ContentID: "c@x", ContentDisposition: "inline"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// RFC 5322 §2.1.1: lines MUST be at most 998 characters and SHOULD be at most 78. Only a
	// single token that cannot be folded (a long Message-ID) may pass 78.
	for i, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line %d has %d characters: %q", i+1, len(line), line)
		}
		if len(line) > 78 && strings.Contains(strings.TrimSpace(line[strings.Index(line, ":")+1:]), " ") {
			t.Errorf("line %d has %d characters and could have been folded: %q", i+1, len(line), line)
		}
		if strings.ContainsAny(line, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i+1, line)
		}
	}
	for i := range raw {
		if raw[i] >= 0x80 {
			t.Fatalf("8-bit byte at offset %d: the message must be 7-bit", i)
		}
	}
	if got := composeTree(t, raw); got != "multipart/mixed(multipart/alternative(text/plain,multipart/related(text/html,application/octet-stream)),application/octet-stream)" {
		t.Errorf("structure = %s", got)
	}
}

func TestParseAddressListForSending(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string // "name|address"
		wantErr string
	}{
		{in: nil, want: nil},
		{in: []string{"ann@example.com"}, want: []string{"|ann@example.com"}},
		{in: []string{"Ann <ann@example.com>", " bob@example.com "}, want: []string{"Ann|ann@example.com", "|bob@example.com"}},
		{in: []string{`"Smith, Al" <al@example.com>`}, want: []string{"Smith, Al|al@example.com"}},
		{in: []string{"Jörg <jorg@example.com>"}, want: []string{"Jörg|jorg@example.com"}},
		{in: []string{"=?utf-8?q?J=C3=B6rg?= <jorg@example.com>"}, want: []string{"Jörg|jorg@example.com"}},
		{in: []string{"a@x.com, B <b@x.com>"}, want: []string{"|a@x.com", "B|b@x.com"}},
		{in: []string{"ok@example.com", "nope"}, wantErr: `invalid address "nope"`},
		{in: []string{""}, wantErr: `invalid address "": empty address`},
		{in: []string{"a@b@c"}, wantErr: `invalid address "a@b@c"`},
		{in: []string{"Ann <ann@example.com"}, wantErr: `invalid address "Ann <ann@example.com"`},
		{in: []string{"josé@example.com"}, wantErr: "non-ASCII"},
		{in: []string{"ann@exämple.com"}, wantErr: "non-ASCII"},
		{in: []string{strings.Repeat("a", 65) + "@example.com"}, wantErr: "longer than 64"},
		{in: []string{"a@" + strings.Repeat("b", 250) + ".com"}, wantErr: "longer than 254"},
	}
	for _, tt := range tests {
		got, err := ParseAddressList(tt.in)
		if tt.wantErr != "" {
			var ae *AddressError
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &ae) {
				t.Errorf("ParseAddressList(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAddressList(%q): %v", tt.in, err)
			continue
		}
		var s []string
		for _, a := range got {
			s = append(s, a.Name+"|"+a.Address)
		}
		if fmt.Sprint(s) != fmt.Sprint(tt.want) {
			t.Errorf("ParseAddressList(%q) = %q, want %q", tt.in, s, tt.want)
		}
	}
}
