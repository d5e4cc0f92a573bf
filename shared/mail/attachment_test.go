package mail

import (
	"strings"
	"testing"
)

func TestAttachmentFilename(t *testing.T) {
	tests := []struct {
		disp, typ map[string]string
		want      string
	}{
		{map[string]string{"filename": "a.pdf"}, map[string]string{"name": "b.pdf"}, "a.pdf"},
		{map[string]string{}, map[string]string{"name": "b.pdf"}, "b.pdf"},
		{map[string]string{"filename": " "}, map[string]string{"name": "b.pdf"}, "b.pdf"},
		{map[string]string{"filename": "=?UTF-8?B?w5xiZXJzaWNodC5wZGY=?="}, nil, "Übersicht.pdf"},
		{map[string]string{"filename": `C:\Users\ann\evil.exe`}, nil, "evil.exe"},
		{map[string]string{"filename": "../../etc/passwd"}, nil, "passwd"},
		{map[string]string{"filename": "tab\there\x00.txt"}, nil, "tabhere.txt"},
		{nil, nil, ""},
	}
	for _, tt := range tests {
		if got := attachmentFilename(tt.disp, tt.typ); got != tt.want {
			t.Errorf("attachmentFilename(%q, %q) = %q, want %q", tt.disp, tt.typ, got, tt.want)
		}
	}
}

func TestForwardFilename(t *testing.T) {
	for raw, want := range map[string]string{
		"Subject: Invoice 42\r\n\r\nbody":            "Invoice 42.eml",
		"Subject: =?UTF-8?Q?Caf=C3=A9?=\r\n\r\nbody": "Café.eml",
		"Subject: a/b\r\n\r\nbody":                   "b.eml",
		"From: x@y\r\n\r\nno subject":                "message.eml",
		"Subject: " + strings.Repeat("x", 300):       strings.Repeat("x", 100) + ".eml",
	} {
		if got := forwardFilename([]byte(raw)); got != want {
			t.Errorf("forwardFilename(%.40q) = %q, want %q", raw, got, want)
		}
	}
}

func TestContentID(t *testing.T) {
	for in, want := range map[string]string{"<img1@x>": "img1@x", " < a@b > (c)": "a@b", "plain": "plain", "": ""} {
		if got := contentID(in); got != want {
			t.Errorf("contentID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAttachmentID(t *testing.T) {
	a, b, c := attachmentID("1", []byte("x")), attachmentID("2", []byte("x")), attachmentID("1", []byte("y"))
	if a == b || a == c || a != attachmentID("1", []byte("x")) || !strings.HasPrefix(a, "att_") || len(a) != 24 {
		t.Errorf("ids %q %q %q", a, b, c)
	}
}
