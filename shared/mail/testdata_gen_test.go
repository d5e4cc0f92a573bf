package mail

import (
	"bytes"
	"encoding/base64"
	"flag"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// The .eml files of testdata/mail are written by TestGenerateTestdata from the sources below,
// so that bytes in legacy charsets, CRLF line ends, NULs and base64 are exact and reviewable
// here. Regenerate with:
//
//	go test ./shared/mail -run TestGenerateTestdata -gen
//
// then refresh the goldens with -update and read the diff.

var gen = flag.Bool("gen", false, "rewrite testdata/mail/*.eml from testdata_gen_test.go")

const testdataDir = "../../testdata/mail"

// TestGenerateTestdata rewrites testdata/mail with -gen; without it, it checks that the files
// there are exactly what the generator writes, so an edit of either side alone fails.
func TestGenerateTestdata(t *testing.T) {
	if !*gen {
		msgs := testMessages()
		for name, raw := range msgs {
			got, err := os.ReadFile(filepath.Join(testdataDir, name+".eml"))
			if err != nil {
				t.Errorf("%s: %v (regenerate with -gen)", name, err)
			} else if !bytes.Equal(got, raw) {
				t.Errorf("testdata/mail/%s.eml differs from what testdata_gen_test.go writes (regenerate with -gen)", name)
			}
		}
		files, err := filepath.Glob(filepath.Join(testdataDir, "*.eml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if _, ok := msgs[strings.TrimSuffix(filepath.Base(f), ".eml")]; !ok {
				t.Errorf("testdata/mail/%s has no generator source", filepath.Base(f))
			}
		}
		return
	}
	if err := os.MkdirAll(testdataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, raw := range testMessages() {
		if err := os.WriteFile(filepath.Join(testdataDir, name+".eml"), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// crlf converts the LF line ends of a Go literal to CRLF, as mail on the wire has them.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

// encode converts UTF-8 s to a legacy charset.
func encode(enc encoding.Encoding, s string) string {
	b, err := enc.NewEncoder().String(s)
	if err != nil {
		panic(err)
	}
	return b
}

// b64 is base64 wrapped at 76 columns.
func b64(s string) string {
	e := base64.StdEncoding.EncodeToString([]byte(s))
	var b strings.Builder
	for len(e) > 76 {
		b.WriteString(e[:76] + "\n")
		e = e[76:]
	}
	return b.String() + e
}

// qp is quoted-printable (CRLF-free: the caller's line ends apply).
func qp(s string) string {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return strings.ReplaceAll(b.String(), "\r\n", "\n")
}

// word is an RFC 2047 B encoded-word of s already in charset cs.
func word(cs, s string) string {
	return "=?" + cs + "?B?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?="
}

// A 1×1 transparent PNG.
const pixelPNG = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"

const tinyPDF = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

func testMessages() map[string][]byte {
	sjis, iso2022, gbk, big5, koi8 := japanese.ShiftJIS, japanese.ISO2022JP, simplifiedchinese.GBK, traditionalchinese.Big5, charmap.KOI8R
	ja := "こんにちは、世界。会議は明日の午前10時からです。"
	zhs := "你好，世界。会议在明天上午十点开始。"
	zht := "你好，世界。會議在明天上午十點開始。"
	ru := "Привет, мир! Встреча завтра в 10 утра."

	m := map[string][]byte{}

	m["plain"] = crlf(`Return-Path: <alice@example.com>
Received: from mx.example.com by mx.pigeon.test; Tue, 10 Dec 2024 09:00:01 +0000
From: Alice Example <alice@example.com>
To: Bob <bob@pigeon.test>
Subject: Lunch on Thursday?
Date: Tue, 10 Dec 2024 10:00:00 +0100
Message-ID: <plain-1@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hi Bob,

Are you free for lunch on Thursday? The new place on Main Street
opened last week.

Alice
`)

	m["plain-lf-folded"] = []byte("From: \"Doe, Jane\" <jane@example.org>\nTo: bob@pigeon.test,\n  \"Carol C.\" <carol@example.net>\nCc: dave@example.com\nSubject: A subject that was folded\n  over two lines\nDate: Wed, 11 Dec 2024 08:30:00 -0500\nMessage-ID: <lf-1@example.org>\n\nLF line ends only, no MIME headers at all.\nSecond line.\n")

	m["html-only"] = crlf(`From: News <news@shop.example>
To: bob@pigeon.test
Subject: Your weekly digest
Date: Thu, 12 Dec 2024 07:00:00 +0000
Message-ID: <html-1@shop.example>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<!DOCTYPE html><html><head><style>p { color: red; }</style><title>Digest</title></h=
ead><body><h1>Weekly digest</h1><p>Three things happened this week:</p><ul><l=
i>Prices went <b>down</b></li><li>A new store opened</li><li>We fixed the&nbs=
p;app</li></ul><p>See you next week!</p></body></html>
`)

	m["alternative"] = crlf(`From: Alice <alice@example.com>
To: bob@pigeon.test
Subject: Agenda
Date: Fri, 13 Dec 2024 11:00:00 +0000
Message-ID: <alt-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt-b"

This is a multi-part message in MIME format.

--alt-b
Content-Type: text/plain; charset=utf-8

Agenda: 1. budget 2. hiring
--alt-b
Content-Type: text/enriched

Agenda: <bold>1.</bold> budget
--alt-b
Content-Type: text/html; charset=utf-8

<p>Agenda: <b>1.</b> budget <b>2.</b> hiring</p>
--alt-b--
Epilogue text is ignored.
`)

	m["mixed-nested-attachments"] = crlf(`From: Alice <alice@example.com>
To: bob@pigeon.test
Subject: Report and notes
Date: Fri, 13 Dec 2024 12:00:00 +0000
Message-ID: <mixed-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8

The report is attached, and my notes.
--inner
Content-Type: text/html; charset=utf-8

<div>The report is attached, and my notes.</div>
--inner--

--outer
Content-Type: application/pdf; name="report.pdf"
Content-Disposition: attachment; filename="report.pdf"
Content-Transfer-Encoding: base64

` + b64(tinyPDF) + `
--outer
Content-Type: text/plain; charset=utf-8; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"

1. check totals
2. send to Carol
--outer
Content-Type: text/plain; charset=utf-8
Content-Disposition: inline; filename="todo.txt"

buy milk
--outer--
`)

	m["inline-cid-image"] = crlf(`From: Alice <alice@example.com>
To: bob@pigeon.test
Subject: Look at this
Date: Fri, 13 Dec 2024 13:00:00 +0000
Message-ID: <cid-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="a1"

--a1
Content-Type: text/plain; charset=utf-8

Look at this: [image: dot]
--a1
Content-Type: multipart/related; boundary="r1"

--r1
Content-Type: text/html; charset=utf-8

<p>Look at this: <img src="cid:dot@example.com" alt="dot"></p>
--r1
Content-Type: image/png; name="dot.png"
Content-ID: <dot@example.com>
Content-Transfer-Encoding: base64

` + b64(pixelPNG) + `
--r1
Content-Type: image/png
Content-ID: <second@example.com>
Content-Disposition: attachment
Content-Transfer-Encoding: base64

` + b64(pixelPNG) + `
--r1--
--a1--
`)

	m["forward-rfc822"] = crlf(`From: Bob <bob@example.com>
To: agent@pigeon.test
Subject: Fwd: Invoice 42
Date: Sat, 14 Dec 2024 09:00:00 +0000
Message-ID: <fwd-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="f"

--f
Content-Type: text/plain; charset=utf-8

Please pay this one.
--f
Content-Type: message/rfc822

From: Billing <billing@vendor.example>
To: bob@example.com
Subject: Invoice 42
Date: Fri, 13 Dec 2024 09:00:00 +0000
Message-ID: <inv-42@vendor.example>
Content-Type: text/plain; charset=utf-8

Amount due: 100 EUR.
--f
Content-Type: message/rfc822; name="original.eml"
Content-Disposition: attachment

From: someone@example.net
Subject: Another

Body.
--f--
`)

	m["bounce-report"] = crlf(`From: Mail Delivery Subsystem <mailer-daemon@mx.example.com>
To: agent@pigeon.test
Subject: Undelivered Mail Returned to Sender
Date: Sun, 15 Dec 2024 10:00:00 +0000
Message-ID: <bounce-1@mx.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="rep"

--rep
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.com.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<nobody@example.com>: host mx.example.com said: 550 5.1.1 User unknown
--rep
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com
Arrival-Date: Sun, 15 Dec 2024 09:59:58 +0000

Final-Recipient: rfc822; nobody@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown
--rep
Content-Type: text/rfc822-headers

From: agent@pigeon.test
To: nobody@example.com
Subject: Hello
Message-ID: <sent-1@pigeon.test>
--rep--
`)

	m["bounce-report-alternative"] = crlf(`From: postmaster@example.net
To: agent@pigeon.test
Subject: Delivery Status Notification (Failure)
Date: Sun, 15 Dec 2024 11:00:00 +0000
Message-ID: <bounce-2@example.net>
In-Reply-To: <sent-2@pigeon.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="r2"

--r2
Content-Type: multipart/alternative; boundary="r2a"

--r2a
Content-Type: text/plain; charset=utf-8

Address not found: ghost@example.net
--r2a
Content-Type: text/html; charset=utf-8

<p><b>Address not found</b>: ghost@example.net</p>
--r2a--
--r2
Content-Type: message/delivery-status

Reporting-MTA: dns; example.net

Final-Recipient: rfc822; ghost@example.net
Action: failed
Status: 5.1.1
--r2
Content-Type: message/rfc822

From: agent@pigeon.test
To: ghost@example.net
Subject: Are you there?
Message-ID: <sent-2@pigeon.test>

Hello?
--r2--
`)

	ics := `BEGIN:VCALENDAR
VERSION:2.0
METHOD:REQUEST
BEGIN:VEVENT
UID:evt-1@example.com
DTSTART:20241220T100000Z
DTEND:20241220T110000Z
SUMMARY:Planning
END:VEVENT
END:VCALENDAR`
	m["calendar-invite"] = crlf(`From: Alice <alice@example.com>
To: bob@pigeon.test
Subject: Invitation: Planning @ Fri Dec 20, 2024
Date: Mon, 16 Dec 2024 08:00:00 +0000
Message-ID: <cal-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="c1"

--c1
Content-Type: multipart/alternative; boundary="c2"

--c2
Content-Type: text/plain; charset=utf-8

You have been invited to Planning on Friday.
--c2
Content-Type: text/html; charset=utf-8

<p>You have been invited to <b>Planning</b> on Friday.</p>
--c2
Content-Type: text/calendar; charset=utf-8; method=REQUEST

` + ics + `
--c2--
--c1
Content-Type: application/ics; name="invite.ics"
Content-Disposition: attachment; filename="invite.ics"
Content-Transfer-Encoding: base64

` + b64(ics) + `
--c1--
`)

	m["calendar-only"] = crlf(`From: calendar@example.com
To: bob@pigeon.test
Subject: Updated invitation: Planning
Date: Mon, 16 Dec 2024 09:00:00 +0000
Message-ID: <cal-2@example.com>
MIME-Version: 1.0
Content-Type: text/calendar; method=REQUEST; charset=utf-8

` + ics + `
`)

	m["quoted-printable-utf8"] = crlf(`From: Zoë <zoe@example.com>
To: bob@pigeon.test
Subject: Café plans
Date: Tue, 17 Dec 2024 10:00:00 +0100
Message-ID: <qp-1@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

` + qp("Shall we meet at the café near the station? It's the one with the long terrace and the very good croissants that everyone keeps talking about — 10 € each.\nSee you, Zoë\n"))

	m["base64-text"] = crlf(`From: alice@example.com
To: bob@pigeon.test
Subject: Base64 body
Date: Tue, 17 Dec 2024 11:00:00 +0000
Message-ID: <b64-1@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: base64

` + b64("This body was base64 encoded.\nNaïve résumé with ünïcödé.\n") + `
`)

	m["iso-8859-1"] = crlf(`From: =?ISO-8859-1?Q?Andr=E9_Dupont?= <andre@example.fr>
To: bob@pigeon.test
Subject: =?ISO-8859-1?Q?R=E9union_de_l'=E9quipe?=
Date: Tue, 17 Dec 2024 12:00:00 +0100
Message-ID: <latin1-1@example.fr>
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

La r=E9union de l'=E9quipe est d=E9plac=E9e =E0 jeudi.
Andr=E9
`)

	m["windows-1252"] = crlf(`From: Bob <bob@example.com>
To: alice@pigeon.test
Subject: Quotes and euros
Date: Tue, 17 Dec 2024 13:00:00 +0000
Message-ID: <cp1252-1@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=windows-1252
Content-Transfer-Encoding: 8bit

` + encode(charmap.Windows1252, "It costs “100 €” – that’s all… Bob") + `
`)

	m["shift-jis"] = crlf(`From: ` + word("Shift_JIS", encode(sjis, "山田太郎")) + ` <taro@example.jp>
To: bob@pigeon.test
Subject: ` + word("Shift_JIS", encode(sjis, "会議のお知らせ")) + `
Date: Wed, 18 Dec 2024 09:00:00 +0900
Message-ID: <sjis-1@example.jp>
MIME-Version: 1.0
Content-Type: text/plain; charset=Shift_JIS
Content-Transfer-Encoding: 8bit

` + encode(sjis, ja) + `
`)

	m["iso-2022-jp"] = crlf(`From: ` + word("ISO-2022-JP", encode(iso2022, "山田花子")) + ` <hanako@example.jp>
To: bob@pigeon.test
Subject: ` + word("ISO-2022-JP", encode(iso2022, "明日の会議")) + `
Date: Wed, 18 Dec 2024 10:00:00 +0900
Message-ID: <jis-1@example.jp>
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-2022-JP
Content-Transfer-Encoding: 7bit

` + encode(iso2022, ja) + `
`)

	m["gb2312"] = crlf(`From: ` + word("GB2312", encode(gbk, "李雷")) + ` <lilei@example.cn>
To: bob@pigeon.test
Subject: ` + word("GB2312", encode(gbk, "会议通知")) + `
Date: Wed, 18 Dec 2024 11:00:00 +0800
Message-ID: <gb-1@example.cn>
MIME-Version: 1.0
Content-Type: text/plain; charset="gb2312"
Content-Transfer-Encoding: base64

` + b64(encode(gbk, zhs)) + `
`)

	m["gbk"] = crlf(`From: hanmeimei@example.cn
To: bob@pigeon.test
Subject: ` + word("GBK", encode(gbk, "镕基")) + `
Date: Wed, 18 Dec 2024 12:00:00 +0800
Message-ID: <gbk-1@example.cn>
MIME-Version: 1.0
Content-Type: text/plain; charset=GBK
Content-Transfer-Encoding: 8bit

` + encode(gbk, "朱镕基 "+zhs) + `
`)

	m["big5"] = crlf(`From: ` + word("Big5", encode(big5, "陳大文")) + ` <chan@example.tw>
To: bob@pigeon.test
Subject: ` + word("Big5", encode(big5, "會議通知")) + `
Date: Wed, 18 Dec 2024 13:00:00 +0800
Message-ID: <big5-1@example.tw>
MIME-Version: 1.0
Content-Type: text/plain; charset=big5
Content-Transfer-Encoding: quoted-printable

` + qp(encode(big5, zht)) + `
`)

	m["koi8-r"] = crlf(`From: ` + word("koi8-r", encode(koi8, "Иван Петров")) + ` <ivan@example.ru>
To: bob@pigeon.test
Subject: ` + word("koi8-r", encode(koi8, "Встреча")) + `
Date: Wed, 18 Dec 2024 14:00:00 +0300
Message-ID: <koi8-1@example.ru>
MIME-Version: 1.0
Content-Type: text/plain; charset=koi8-r
Content-Transfer-Encoding: 8bit

` + encode(koi8, ru) + `
`)

	m["encoded-words"] = crlf(`From: =?UTF-8?Q?Fran=C3=A7ois_M=C3=BCller?= <fm@example.com>
To: =?utf-8?B?5bGx55Sw?= <yamada@example.jp>, "=?utf-8?q?Ana_Mar=C3=ADa?=" <ana@example.es>
Subject: =?UTF-8?Q?Encoded_words:_?= =?UTF-8?B?4pyTIGRvbmU=?=
 =?UTF-8?Q?_and_=E2=82=AC?= plain tail
Date: Thu, 19 Dec 2024 09:00:00 +0000
Message-ID: <ew-1@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Encoded words in every header.
`)

	m["rfc2231-filenames"] = crlf(`From: alice@example.com
To: bob@pigeon.test
Subject: RFC 2231 filenames
Date: Thu, 19 Dec 2024 10:00:00 +0000
Message-ID: <2231-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="x"

--x
Content-Type: text/plain

Three files.
--x
Content-Type: application/octet-stream
Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20rates.txt

euro
--x
Content-Type: application/octet-stream
Content-Disposition: attachment;
 filename*0*=UTF-8''Quarterly%20report%20;
 filename*1*=%E2%80%93%20Q4;
 filename*2=".pdf"

q4
--x
Content-Type: application/octet-stream
Content-Disposition: attachment; filename*=iso-8859-1'fr'r%E9sum%E9.doc

cv
--x--
`)

	m["rfc2047-filenames"] = crlf(`From: alice@example.com
To: bob@pigeon.test
Subject: Encoded-word filenames
Date: Thu, 19 Dec 2024 11:00:00 +0000
Message-ID: <2047-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="x"

--x
Content-Type: text/plain

Two files.
--x
Content-Type: application/pdf; name="=?UTF-8?B?w5xiZXJzaWNodC5wZGY=?="
Content-Disposition: attachment; filename="=?UTF-8?B?w5xiZXJzaWNodC5wZGY=?="
Content-Transfer-Encoding: base64

` + b64(tinyPDF) + `
--x
Content-Type: text/plain; name="=?ISO-8859-1?Q?caf=E9.txt?="

bon
--x--
`)

	m["reply-gmail"] = crlf(`From: Bob Builder <bob@example.com>
To: Alice <alice@pigeon.test>
Subject: Re: Lunch on Thursday?
Date: Tue, 10 Dec 2024 11:00:00 +0000
Message-ID: <CAGmail-reply-1@mail.gmail.com>
In-Reply-To: <plain-1@example.com>
References: <plain-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="000000000000gmail"

--000000000000gmail
Content-Type: text/plain; charset="UTF-8"

Sounds good, see you at noon.

--
Bob Builder
Builder & Co.

On Tue, Dec 10, 2024 at 10:00 AM Alice Example <alice@example.com>
wrote:

> Hi Bob,
>
> Are you free for lunch on Thursday?
>
> Alice
>
--000000000000gmail
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

<div dir=3D"ltr">Sounds good, see you at noon.<br clear=3D"all"><div><br></=
div><span class=3D"gmail_signature_prefix">-- </span><br><div dir=3D"ltr" c=
lass=3D"gmail_signature"><div dir=3D"ltr">Bob Builder<div>Builder &amp; Co.=
</div></div></div></div><br><div class=3D"gmail_quote gmail_quote_container=
"><div dir=3D"ltr" class=3D"gmail_attr">On Tue, Dec 10, 2024 at 10:00 AM Al=
ice Example &lt;<a href=3D"mailto:alice@example.com">alice@example.com</a>&=
gt; wrote:<br></div><blockquote class=3D"gmail_quote" style=3D"margin:0px 0=
px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">Hi Bo=
b,<br><br>Are you free for lunch on Thursday?<br><br>Alice</blockquote></di=
v>
--000000000000gmail--
`)

	m["reply-outlook"] = crlf(`From: Carol Manager <carol@corp.example>
To: Alice <alice@pigeon.test>
Subject: RE: Budget
Date: Wed, 11 Dec 2024 15:00:00 +0000
Message-ID: <DB9PR01MB0001@DB9PR01MB0001.eurprd01.prod.outlook.com>
In-Reply-To: <budget-1@pigeon.test>
References: <budget-1@pigeon.test>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="_000_outlook_"

--_000_outlook_
Content-Type: text/plain; charset="us-ascii"

Approved. Please go ahead.

Carol

________________________________
From: Alice <alice@pigeon.test>
Sent: Wednesday, December 11, 2024 2:00 PM
To: Carol Manager <carol@corp.example>
Subject: Budget

Can I spend 500 on the offsite?
--_000_outlook_
Content-Type: text/html; charset="us-ascii"

<html><head><meta http-equiv="Content-Type" content="text/html; charset=us-ascii"></head>
<body>
<div style="font-family: Calibri">Approved. Please go ahead.</div>
<div style="font-family: Calibri"><br></div>
<div style="font-family: Calibri">Carol</div>
<div id="appendonsend"></div>
<hr style="display:inline-block;width:98%" tabindex="-1">
<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri" style="font-size:11pt" color="#000000"><b>From:</b> Alice &lt;alice@pigeon.test&gt;<br>
<b>Sent:</b> Wednesday, December 11, 2024 2:00 PM<br>
<b>To:</b> Carol Manager &lt;carol@corp.example&gt;<br>
<b>Subject:</b> Budget</font>
<div>&nbsp;</div>
</div>
<div>Can I spend 500 on the offsite?</div>
</body>
</html>
--_000_outlook_--
`)

	m["reply-outlook-desktop"] = crlf(`From: Dan <dan@corp.example>
To: alice@pigeon.test
Subject: RE: Printer
Date: Wed, 11 Dec 2024 16:00:00 +0000
Message-ID: <desk-1@corp.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="od"

--od
Content-Type: text/plain; charset="utf-8"

It is fixed now.

-----Original Message-----
From: Alice <alice@pigeon.test>
Sent: Wednesday, December 11, 2024 3:00 PM
To: Dan <dan@corp.example>
Subject: Printer

The printer on floor 2 is jammed.
--od
Content-Type: text/html; charset="utf-8"

<html><body><div class="WordSection1"><p class="MsoNormal">It is fixed now.<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<div><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in">
<p class="MsoNormal"><b>From:</b> Alice &lt;alice@pigeon.test&gt; <br><b>Sent:</b> Wednesday, December 11, 2024 3:00 PM<br><b>To:</b> Dan &lt;dan@corp.example&gt;<br><b>Subject:</b> Printer<o:p></o:p></p>
</div></div>
<p class="MsoNormal">The printer on floor 2 is jammed.<o:p></o:p></p>
</div></body></html>
--od--
`)

	m["reply-apple-mail"] = crlf(`From: Erin <erin@icloud.example>
To: alice@pigeon.test
Subject: Re: Photos
Date: Thu, 12 Dec 2024 18:00:00 -0800
Message-ID: <APPLE-1@icloud.example>
In-Reply-To: <photos-1@pigeon.test>
References: <photos-0@pigeon.test> <photos-1@pigeon.test>
MIME-Version: 1.0 (Mac OS X Mail 16.0 \(3774.600.62\))
Content-Type: multipart/alternative; boundary="Apple-Mail=_A1"

--Apple-Mail=_A1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Love them, thanks!

Sent from my iPhone

> On Dec 12, 2024, at 17:00, Alice <alice@pigeon.test> wrote:
>=20
> =EF=BB=BFHere are the photos from Sunday.
--Apple-Mail=_A1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<html><head><meta http-equiv=3D"content-type" content=3D"text/html; charset=3D=
utf-8"></head><body dir=3D"auto">Love them, thanks!<br><br><div dir=3D"ltr">Se=
nt from my iPhone</div><div dir=3D"ltr"><br><blockquote type=3D"cite">On Dec 1=
2, 2024, at 17:00, Alice &lt;alice@pigeon.test&gt; wrote:<br><br></blockquote>=
</div><blockquote type=3D"cite"><div dir=3D"ltr">Here are the photos from Sund=
ay.</div></blockquote></body></html>
--Apple-Mail=_A1--
`)

	m["reply-thunderbird"] = crlf(`From: Frank <frank@example.org>
To: alice@pigeon.test
Subject: Re: Release
Date: Fri, 13 Dec 2024 08:00:00 +0100
Message-ID: <tb-1@example.org>
MIME-Version: 1.0
Content-Type: text/html; charset=UTF-8

<html><body><p>Ship it.</p>
<div class="moz-signature">-- <br>Frank</div>
<div class="moz-cite-prefix">On 12/12/2024 20:00, Alice wrote:<br></div>
<blockquote type="cite" cite="mid:rel-1@pigeon.test">Is 2.0 ready?</blockquote>
</body></html>
`)

	m["reply-inline"] = crlf(`From: Grace <grace@example.com>
To: alice@pigeon.test
Subject: Re: Questions
Date: Fri, 13 Dec 2024 09:00:00 +0000
Message-ID: <inline-1@example.com>
Content-Type: text/plain; charset=utf-8

Alice Example <alice@pigeon.test> wrote:
> Can you make Monday?
Yes, in the afternoon.

> And bring the slides?
Of course.

Grace
`)

	m["signature-only"] = crlf(`From: Heidi <heidi@example.com>
To: alice@pigeon.test
Subject: Status
Date: Fri, 13 Dec 2024 10:00:00 +0000
Message-ID: <sig-1@example.com>
Content-Type: text/plain; charset=utf-8

All tests pass on main.

-- 
Heidi Example
Release Engineering | +1 555 0100
`)

	m["forward-inline-gmail"] = crlf(`From: Ivan <ivan@example.com>
To: agent@pigeon.test
Subject: Fwd: Contract
Date: Fri, 13 Dec 2024 11:00:00 +0000
Message-ID: <fwdi-1@example.com>
Content-Type: text/plain; charset=UTF-8

FYI, see below.

---------- Forwarded message ---------
From: Legal <legal@example.com>
Date: Thu, Dec 12, 2024 at 4:00 PM
Subject: Contract
To: Ivan <ivan@example.com>

The contract is ready to sign.
`)

	m["missing-closing-boundary"] = crlf(`From: alice@example.com
To: bob@pigeon.test
Subject: Truncated in transit
Date: Sat, 14 Dec 2024 10:00:00 +0000
Message-ID: <trunc-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="t"

--t
Content-Type: text/plain; charset=utf-8

The attachment below was cut off.
--t
Content-Type: application/pdf; name="cut.pdf"
Content-Disposition: attachment; filename="cut.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQKMSAwIG9iaiA8PCAvVHlwZSAvQ2F0YWxvZyA+PiBlbmRvYmoK
dHJhaWxlciA8PC9Sb290IDEgMCBS`)

	m["bad-base64"] = crlf(`From: alice@example.com
To: bob@pigeon.test
Subject: Broken base64
Date: Sat, 14 Dec 2024 11:00:00 +0000
Message-ID: <badb64-1@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

SGVsbG8sIHRoaXMg aXMg!!!YmFk
IGJhc2U2NC4=
IFNlY29uZCBjaHVuay4=
*** end of junk ***
`)

	m["unknown-charset"] = crlf(`From: alice@example.com
To: bob@pigeon.test
Subject: =?x-made-up?Q?Caf=E9?= and more
Date: Sat, 14 Dec 2024 12:00:00 +0000
Message-ID: <cs-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="u"

--u
Content-Type: text/plain; charset=x-made-up

` + "Caf\xe9 au lait" + `
--u
Content-Type: text/html; charset=x-also-made-up

<p>` + "Gr\xc3\xbc\xc3\x9fe" + `</p>
--u--
`)

	m["header-without-colon"] = crlf(`From: alice@example.com
To: bob@pigeon.test
This line has no colon
Subject: Header without colon
X-Broken Key: spaces in the name
Date: Sat, 14 Dec 2024 13:00:00 +0000
Message-ID: <nocolon-1@example.com>

The body is still found.
`)

	long := strings.Repeat("0123456789 abcdefghij ", 100)
	m["long-lines"] = crlf(`From: alice@example.com
To: bob@pigeon.test
Subject: ` + strings.Repeat("Long subject ", 90) + `
Date: Sat, 14 Dec 2024 14:00:00 +0000
Message-ID: <long-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="l"

--l
Content-Type: text/plain; charset=utf-8

` + long + `
next line
--l
Content-Type: text/html; charset=utf-8

<p>` + long + long + `</p>
--l--
`)

	m["nul-bytes"] = crlf("From: alice@example.com\nTo: bob@pigeon.test\nSubject: NUL bytes\nDate: Sat, 14 Dec 2024 15:00:00 +0000\nMessage-ID: <nul-1@example.com>\nContent-Type: text/plain\n\nBefore\x00after.\nSecond\x00\x00 line.\n")

	m["mbox-from-line"] = crlf(`From alice@example.com Sat Dec 14 16:00:00 2024
From: alice@example.com
To: bob@pigeon.test
Subject: From an mbox
Date: Sat, 14 Dec 2024 16:00:00 +0000
Message-ID: <mbox-1@example.com>

Copied out of an mbox file.
`)

	m["x-uuencode"] = crlf(`From: old@example.com
To: bob@pigeon.test
Subject: uuencoded attachment
Date: Sat, 14 Dec 2024 17:00:00 +0000
Message-ID: <uu-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="uu"

--uu
Content-Type: text/plain

File attached the old way.
--uu
Content-Type: application/octet-stream; name="hi.txt"
Content-Transfer-Encoding: x-uuencode

begin 644 hi.txt
#:&D*
` + "`" + `
end
--uu--
`)

	m["no-blank-line"] = crlf(`From: alice@example.com
To: bob@pigeon.test
Subject: No separator
Date: Sat, 14 Dec 2024 18:00:00 +0000
Message-ID: <nosep-1@example.com>
This body starts right after the header.
It has two lines.`)

	m["unlabeled-8bit"] = crlf(`From: alice@example.com
To: bob@pigeon.test
Subject: ` + "Unlabeled R\xe9sum\xe9" + `
Date: Sat, 14 Dec 2024 19:00:00 +0000
Message-ID: <8bit-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="e"

--e
Content-Type: text/plain

` + "Latin-1 without a label: na\xefve caf\xe9, 5 \x80." + `
--e
Content-Type: text/html

<p>` + "UTF-8 without a label: na\xc3\xafve caf\xc3\xa9" + `</p>
--e--
`)

	m["html-meta-charset"] = crlf(`From: alice@example.com
To: bob@pigeon.test
Subject: Meta charset
Date: Sat, 14 Dec 2024 20:00:00 +0000
Message-ID: <meta-1@example.com>
MIME-Version: 1.0
Content-Type: text/html

<html><head><meta charset="koi8-r"></head><body><p>` + encode(koi8, ru) + `</p></body></html>
`)

	m["message-ids"] = crlf(`From: alice@example.com
To: bob@pigeon.test
Subject: Threading headers
Date: Sun, 15 Dec 2024 09:00:00 +0000
Message-ID: <Mixed.Case.ID@Example.COM>
In-Reply-To: <parent@example.com> (Bob's message of Sat, 14 Dec 2024)
References: <root@example.com>,<a@example.com>
 junk <folded-in-the-
 middle@example.com>   <parent@example.com>
Content-Type: text/plain

Ids.
`)

	m["date-future"] = crlf(`From: alice@example.com
To: bob@pigeon.test
Subject: From the future
Date: Mon, 1 Jan 2099 00:00:00 +0000
Message-ID: <future-1@example.com>

Clock is wrong.
`)

	m["date-obsolete"] = crlf(`From: alice@example.com
To: bob@pigeon.test
Subject: Asctime date
Date: Mon Dec 16 10:20:30 2024
Message-ID: <asctime-1@example.com>

Date written like asctime.
`)

	m["date-missing"] = crlf(`From: alice@example.com
To: bob@pigeon.test
Subject: No date
Message-ID: <nodate-1@example.com>

No Date header.
`)

	m["addresses"] = crlf(`From: "Example, Alice (Sales)" <alice@example.com>
Reply-To: replies@example.com, "Team" <team@example.com>
To: undisclosed-recipients:;
Cc: bob@example.com; carol@example.com
Bcc: Friends: dave@example.com, erin@example.com;
Subject: Address forms
Date: Sun, 15 Dec 2024 10:00:00 +0000
Message-ID: <addr-1@example.com>

Addresses.
`)

	m["addresses-malformed"] = crlf(`From: Sales Team alice@example.com
To: Bob <bob@example.com, carol.@example.com, "Broken <dave@example.com>
Subject: Malformed addresses
Date: Sun, 15 Dec 2024 11:00:00 +0000
Message-ID: <addr-2@example.com>

Addresses.
`)

	m["multipart-signed"] = crlf(`From: alice@example.com
To: bob@pigeon.test
Subject: Signed
Date: Sun, 15 Dec 2024 12:00:00 +0000
Message-ID: <signed-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature"; boundary="s"

--s
Content-Type: text/plain; charset=utf-8

This message is signed.
--s
Content-Type: application/pgp-signature; name="signature.asc"
Content-Disposition: attachment; filename="signature.asc"

-----BEGIN PGP SIGNATURE-----
iQEzBAEBCAAdFiEEexample
-----END PGP SIGNATURE-----
--s--
`)

	m["extra-text-parts"] = crlf(`From: list@lists.example.org
To: bob@pigeon.test
Subject: [list] Weekly meeting
Date: Sun, 15 Dec 2024 13:00:00 +0000
Message-ID: <list-1@lists.example.org>
List-Id: <list.lists.example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="ml"

--ml
Content-Type: text/plain; charset=utf-8

Meeting moved to 3pm.
--ml
Content-Type: text/plain; charset=utf-8
Content-Disposition: inline

_______________________________________________
list mailing list
list@lists.example.org
--ml--
`)

	m["duplicate-headers"] = crlf(`Received: from b.example by c.example; Sun, 15 Dec 2024 14:00:02 +0000
Received: from a.example by b.example; Sun, 15 Dec 2024 14:00:01 +0000
From: alice@example.com
To: bob@pigeon.test
Subject: First subject
SUBJECT: Second subject
X-Tag: one
x-tag: two
Date: Sun, 15 Dec 2024 14:00:00 +0000
Message-ID: <dup-1@example.com>

Repeated fields.
`)

	m["digest"] = crlf(`From: digest@lists.example.org
To: bob@pigeon.test
Subject: Digest, Vol 1, Issue 1
Date: Sun, 15 Dec 2024 15:00:00 +0000
Message-ID: <digest-1@lists.example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="d0"

--d0
Content-Type: text/plain

Today's topics: 1. Hello
--d0
Content-Type: multipart/digest; boundary="d1"

--d1

From: ann@example.org
Subject: Hello

Hello list.
--d1--
--d0--
`)

	m["html-with-plain-quote"] = crlf(`From: Judy <judy@example.com>
To: alice@pigeon.test
Subject: Re: Keys
Date: Sun, 15 Dec 2024 16:00:00 +0000
Message-ID: <hq-1@example.com>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<div>I left them at the desk.</div>
<div><br></div>
<div>On Sun, Dec 15, 2024 at 3:00 PM Alice &lt;alice@pigeon.test&gt; wrote:</div>
<blockquote style="margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex">Where are the keys?</blockquote>
`)
	return m
}
