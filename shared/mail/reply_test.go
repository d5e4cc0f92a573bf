package mail

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestReplySubject(t *testing.T) {
	tests := map[string]string{
		"Hello":                 "Re: Hello",
		"":                      "Re:",
		"   ":                   "Re:",
		"Re: Hello":             "Re: Hello",
		"RE: Hello":             "Re: Hello",
		"re: Hello":             "Re: Hello",
		"Re:Hello":              "Re: Hello",
		"Re : Hello":            "Re: Hello",
		"Re: Re: RE: Hello":     "Re: Hello",
		"Aw: Hello":             "Re: Hello",
		"AW: Hello":             "Re: Hello",
		"Sv: Hello":             "Re: Hello",
		"Antw: Hello":           "Re: Hello",
		"Re[2]: Hello":          "Re: Hello",
		"Re(3): Hello":          "Re: Hello",
		"RE：你好":                 "Re: 你好",
		"Fwd: Hello":            "Re: Fwd: Hello",
		"Re: Fwd: Hello":        "Re: Fwd: Hello",
		"Regarding the plan":    "Re: Regarding the plan",
		"Real estate":           "Re: Real estate",
		"Svelte release":        "Re: Svelte release",
		"Re":                    "Re: Re",
		"  Re:   spaced out  ":  "Re: spaced out",
		"Grüße aus Köln":        "Re: Grüße aus Köln",
		"Re: Re[2]: AW: Status": "Re: Status",
	}
	for in, want := range tests {
		if got := ReplySubject(in); got != want {
			t.Errorf("ReplySubject(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestForwardSubject(t *testing.T) {
	tests := map[string]string{
		"Hello":           "Fwd: Hello",
		"":                "Fwd:",
		"Fwd: Hello":      "Fwd: Hello",
		"FWD: Hello":      "Fwd: Hello",
		"FW: Hello":       "Fwd: Hello",
		"Fw: Hello":       "Fwd: Hello",
		"fw:Hello":        "Fwd: Hello",
		"Fwd: Fwd: Hello": "Fwd: Hello",
		"Fwd[2]: Hello":   "Fwd: Hello",
		"Re: Hello":       "Fwd: Re: Hello",
		"Fwd: Re: Hello":  "Fwd: Re: Hello",
		"Fwiw, hi":        "Fwd: Fwiw, hi",
	}
	for in, want := range tests {
		if got := ForwardSubject(in); got != want {
			t.Errorf("ForwardSubject(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReplyRecipients(t *testing.T) {
	const inbox = "agent@pigeon.local"
	tests := []struct {
		name     string
		orig     Original
		replyAll bool
		wantTo   []string
		wantCc   []string
	}{
		{
			name:   "reply goes to the sender",
			orig:   Original{From: "Ann <ann@example.com>", To: []string{inbox, "bob@example.com"}, Cc: []string{"cat@example.com"}},
			wantTo: []string{"Ann <ann@example.com>"},
		},
		{
			name:   "reply honours Reply-To",
			orig:   Original{From: "ann@example.com", ReplyTo: []string{"list@example.com"}, To: []string{inbox}},
			wantTo: []string{"list@example.com"},
		},
		{
			name:   "reply to several Reply-To addresses",
			orig:   Original{From: "ann@example.com", ReplyTo: []string{"a@example.com", "B <b@example.com>"}, To: []string{inbox}},
			wantTo: []string{"a@example.com", "B <b@example.com>"},
		},
		{
			name:     "reply-all adds To and Cc without the inbox",
			orig:     Original{From: "Ann <ann@example.com>", To: []string{"Agent <AGENT@Pigeon.Local>", "bob@example.com"}, Cc: []string{"cat@example.com", inbox}},
			replyAll: true,
			wantTo:   []string{"Ann <ann@example.com>", "bob@example.com"},
			wantCc:   []string{"cat@example.com"},
		},
		{
			name:     "reply-all with Reply-To keeps the sender out of To unless listed",
			orig:     Original{From: "ann@example.com", ReplyTo: []string{"list@example.com"}, To: []string{inbox}, Cc: []string{"bob@example.com"}},
			replyAll: true,
			wantTo:   []string{"list@example.com"},
			wantCc:   []string{"bob@example.com"},
		},
		{
			name:     "reply-all de-duplicates case-insensitively across To and Cc",
			orig:     Original{From: "ann@example.com", To: []string{"ANN@example.com", "bob@example.com"}, Cc: []string{"Bob <BOB@EXAMPLE.COM>", "cat@example.com", "cat@example.com"}},
			replyAll: true,
			wantTo:   []string{"ann@example.com", "bob@example.com"},
			wantCc:   []string{"cat@example.com"},
		},
		{
			name:   "reply to a message the inbox sent goes to its recipients",
			orig:   Original{From: "Agent <agent@pigeon.local>", To: []string{"bob@example.com", "dan@example.com"}, Cc: []string{"cat@example.com"}},
			wantTo: []string{"bob@example.com", "dan@example.com"},
		},
		{
			name:     "reply-all to a message the inbox sent",
			orig:     Original{From: inbox, To: []string{"bob@example.com"}, Cc: []string{"cat@example.com", inbox}},
			replyAll: true,
			wantTo:   []string{"bob@example.com"},
			wantCc:   []string{"cat@example.com"},
		},
		{
			name:     "only Cc left moves to To",
			orig:     Original{From: inbox, To: []string{inbox}, Cc: []string{"cat@example.com"}},
			replyAll: true,
			wantTo:   []string{"cat@example.com"},
		},
		{
			name:   "a message the inbox sent to itself is answered to itself",
			orig:   Original{From: inbox, To: []string{inbox}},
			wantTo: []string{inbox},
		},
		{
			name:     "entries with several addresses are split",
			orig:     Original{From: "ann@example.com", To: []string{"bob@example.com, Dan <dan@example.com>", inbox}},
			replyAll: true,
			wantTo:   []string{"ann@example.com", "bob@example.com", "Dan <dan@example.com>"},
		},
		{
			name:     "unparseable entries are dropped",
			orig:     Original{From: "ann@example.com", ReplyTo: []string{"garbage"}, To: []string{"undisclosed-recipients:;", "bob@example.com"}},
			replyAll: true,
			wantTo:   []string{"ann@example.com", "bob@example.com"},
		},
		{
			name:   "inbox address given with a display name",
			orig:   Original{From: "agent@pigeon.local", To: []string{"bob@example.com"}},
			wantTo: []string{"bob@example.com"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inboxAddr := inbox
			if strings.Contains(tt.name, "display name") {
				inboxAddr = "Agent <Agent@pigeon.local>"
			}
			to, cc := ReplyRecipients(tt.orig, inboxAddr, tt.replyAll)
			if !slices.Equal(to, tt.wantTo) || !slices.Equal(cc, tt.wantCc) {
				t.Errorf("to = %q, cc = %q; want to = %q, cc = %q", to, cc, tt.wantTo, tt.wantCc)
			}
		})
	}
}

func TestReplyReferences(t *testing.T) {
	tests := []struct {
		id        string
		refs      []string
		wantReply string
		wantRefs  []string
	}{
		{"<a@x>", nil, "<a@x>", []string{"<a@x>"}},
		{"a@x", nil, "<a@x>", []string{"<a@x>"}},
		{"<c@x>", []string{"<a@x>", "<b@x>"}, "<c@x>", []string{"<a@x>", "<b@x>", "<c@x>"}},
		{"<c@x>", []string{"a@x", "<b@x>"}, "<c@x>", []string{"<a@x>", "<b@x>", "<c@x>"}},
		{"<c@x>", []string{"<a@x> <b@x>"}, "<c@x>", []string{"<a@x>", "<b@x>", "<c@x>"}},
		{"<c@x>", []string{"<a@x><b@x>"}, "<c@x>", []string{"<a@x>", "<b@x>", "<c@x>"}},
		{"<b@x>", []string{"<a@x>", "<b@x>", "<a@x>"}, "<b@x>", []string{"<a@x>", "<b@x>"}},
		{"", []string{"<a@x>"}, "", []string{"<a@x>"}},
		{"", nil, "", nil},
		{"<c@x>", []string{"", "  "}, "<c@x>", []string{"<c@x>"}},
	}
	for _, tt := range tests {
		reply, refs := ReplyReferences(tt.id, tt.refs)
		if reply != tt.wantReply || !slices.Equal(refs, tt.wantRefs) {
			t.Errorf("ReplyReferences(%q, %q) = %q, %q; want %q, %q", tt.id, tt.refs, reply, refs, tt.wantReply, tt.wantRefs)
		}
	}
}

func TestReplyReferencesBounded(t *testing.T) {
	var refs []string
	for i := range 80 {
		refs = append(refs, fmt.Sprintf("<%d@x>", i))
	}
	_, got := ReplyReferences("<last@x>", refs)
	if len(got) != replyMaxReferences {
		t.Fatalf("%d references, want %d", len(got), replyMaxReferences)
	}
	if got[0] != "<0@x>" || got[len(got)-1] != "<last@x>" || got[len(got)-2] != "<79@x>" {
		t.Errorf("kept %q…%q; want the root and the latest", got[:2], got[len(got)-2:])
	}
	if len(refs) != 80 || refs[0] != "<0@x>" {
		t.Errorf("the caller's slice was modified")
	}
}

func TestHeaderMessageID(t *testing.T) {
	for _, c := range []struct {
		id      string
		headers map[string]string
		want    string
	}{
		{"<abc@pigeon.invalid>", map[string]string{"message-id": " <Orig@Example.com> "}, "<Orig@Example.com>"},
		{"<abc@pigeon.invalid>", map[string]string{"Message-ID": "(comment)"}, "<abc@pigeon.invalid>"},
		{"<a@b>", nil, "<a@b>"},
	} {
		if got := HeaderMessageID(c.id, c.headers); got != c.want {
			t.Errorf("HeaderMessageID(%q, %v) = %q, want %q", c.id, c.headers, got, c.want)
		}
	}
}
