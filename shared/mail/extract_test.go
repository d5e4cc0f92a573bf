package mail

import "testing"

func TestExtractText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"no quote", "Hello\n\nBye\n", "Hello\n\nBye"},
		{"gmail one line", "Yes.\n\nOn Mon, Jan 6, 2025 at 9:00 AM Ann <a@x.com> wrote:\n> Coming?\n>\n", "Yes."},
		{"gmail wrapped", "Yes.\n\nOn Mon, Jan 6, 2025 at 9:00 AM Ann Example <\na@x.com> wrote:\n\n> Coming?\n", "Yes."},
		{"apple quoted attribution", "Sure\n\n> On 6 Jan 2025, at 09:00, Ann <a@x.com> wrote:\n> \n> Coming?\n", "Sure"},
		{"german", "Ja.\n\nAm 06.01.2025 um 09:00 schrieb Ann <a@x.com>:\n> Kommst du?\n", "Ja."},
		{"attribution without quotes cuts", "Yes.\n\nOn Monday Ann wrote:\nComing?\n", "Yes."},
		{"outlook underscores", "Done.\n\n________________________________\nFrom: Ann <a@x.com>\nSent: Monday, January 6, 2025 9:00 AM\nTo: Bob <b@x.com>\nSubject: Task\n\nDo it.\n", "Done."},
		{"outlook bold", "Done.\n\n*From:* Ann <a@x.com>\n*Sent:* Monday\n*To:* Bob\n*Subject:* Task\n\nDo it.\n", "Done."},
		{"original message", "Fixed.\n\n-----Original Message-----\nFrom: Ann\nDo it.\n", "Fixed."},
		{"original message spaced", "Fixed.\n----- Original Message -----\nFrom: Ann\n", "Fixed."},
		{"inline answers kept", "Ann wrote:\n> Monday?\nYes.\n> Slides?\nSure.\n", "Yes.\nSure."},
		{"signature", "Hi.\n-- \nBob\nACME\n", "Hi."},
		{"signature without space", "Hi.\n--\nBob\n", "Hi."},
		{"dashes inside text kept", "a -- b\n", "a -- b"},
		{"mobile signature", "OK!\n\nSent from my iPhone\n", "OK!"},
		{"get outlook", "OK!\n\nGet Outlook for Android\n", "OK!"},
		{"gmail forward kept", "FYI\n\n---------- Forwarded message ---------\nFrom: Ann <a@x.com>\nDate: Mon, Jan 6, 2025\nSubject: Plan\nTo: Bob\n\nThe plan.\n",
			"FYI\n\n---------- Forwarded message ---------\nFrom: Ann <a@x.com>\nDate: Mon, Jan 6, 2025\nSubject: Plan\nTo: Bob\n\nThe plan."},
		{"outlook forward kept", "FYI\n________________________________\nFrom: Ann\nSent: Monday\nTo: Bob\nSubject: FW: Plan\n\nThe plan.\n",
			"FYI\n________________________________\nFrom: Ann\nSent: Monday\nTo: Bob\nSubject: FW: Plan\n\nThe plan."},
		{"all quoted", "> just a quote\n", ""},
		{"crlf already normalised elsewhere, trailing blanks trimmed", "x  \n\n\n", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := extractText(tt.in); got != tt.want {
				t.Errorf("extractText(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestExtractHTML(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"unchanged is returned verbatim", `<p>Hi <b>there</b></p>`, `<p>Hi <b>there</b></p>`},
		{"gmail", `<div dir="ltr">Yes</div><br><div class="gmail_quote"><div class="gmail_attr">On Mon Ann wrote:<br></div><blockquote class="gmail_quote">Q</blockquote></div>`, `<div dir="ltr">Yes</div>`},
		{"gmail signature", `<div>Yes<br><div class="gmail_signature">Bob</div></div>`, `<div>Yes</div>`},
		{"gmail forward kept", `<div>FYI</div><div class="gmail_quote">---------- Forwarded message ---------<br>From: Ann</div>`, `<div>FYI</div><div class="gmail_quote">---------- Forwarded message ---------<br>From: Ann</div>`},
		{"apple cite", `Sure<br><div><br><blockquote type="cite">On 6 Jan 2025, at 09:00, Ann wrote:<br></blockquote></div><blockquote type="cite"><div>Q</div></blockquote>`, `Sure`},
		{"attribution above plain blockquote", `<div>Yes</div><div>On Mon, Jan 6, 2025 at 9:00 AM Ann &lt;a@x.com&gt; wrote:</div><blockquote>Q</blockquote>`, `<div>Yes</div>`},
		{"plain blockquote kept", `<p>As the poet said:</p><blockquote>Words</blockquote>`, `<p>As the poet said:</p><blockquote>Words</blockquote>`},
		{"outlook web", `<div>OK</div><hr><div id="divRplyFwdMsg"><b>From:</b> Ann<br><b>Sent:</b> Mon<br><b>Subject:</b> Q</div><div>Q body</div>`, `<div>OK</div>`},
		{"outlook web forward kept", `<div>FYI</div><div id="divRplyFwdMsg"><b>From:</b> Ann<br><b>Sent:</b> Mon<br><b>Subject:</b> FW: Q</div><div>Q body</div>`, `<div>FYI</div><div id="divRplyFwdMsg"><b>From:</b> Ann<br><b>Sent:</b> Mon<br><b>Subject:</b> FW: Q</div><div>Q body</div>`},
		{"outlook desktop", `<div class="WordSection1"><p>OK</p><div style="border-top:solid #E1E1E1 1.0pt"><p><b>From:</b> Ann<br><b>Sent:</b> Mon<br><b>Subject:</b> Q</p></div><p>Q body</p></div>`, `<div class="WordSection1"><p>OK</p></div>`},
		{"original message text", `<div>Fixed<br>-----Original Message-----<br>From: Ann</div>`, `<div>Fixed</div>`},
		{"signature separator", `<div>Hi<br>-- <br>Bob</div>`, `<div>Hi</div>`},
		{"thunderbird", `<p>Ship it.</p><div class="moz-cite-prefix">On 12/12/2024 20:00, Ann wrote:<br></div><blockquote type="cite">Q</blockquote>`, `<p>Ship it.</p>`},
		{"full document keeps its frame", `<html><body><p>A</p><blockquote type="cite">Q</blockquote></body></html>`, `<html><head></head><body><p>A</p></body></html>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := extractHTML(tt.in); got != tt.want {
				t.Errorf("extractHTML(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}
