package mail

import (
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

func TestDecodeText(t *testing.T) {
	tests := []struct {
		label, text string
		enc         encoding.Encoding
	}{
		{"ISO-8859-1", "café", charmap.ISO8859_1},
		{"iso-8859-15", "10 €", charmap.ISO8859_15},
		{"windows-1252", "“quoted” – €", charmap.Windows1252},
		{"Shift_JIS", "日本語のテキスト", japanese.ShiftJIS},
		{"EUC-JP", "日本語のテキスト", japanese.EUCJP},
		{"ISO-2022-JP", "日本語のテキスト", japanese.ISO2022JP},
		{"GB2312", "简体中文", simplifiedchinese.GBK},
		{"gbk", "朱镕基", simplifiedchinese.GBK},
		{"GB18030", "简体中文", simplifiedchinese.GB18030},
		{"big5", "繁體中文", traditionalchinese.Big5},
		{"ks_c_5601-1987", "한국어", korean.EUCKR},
		{"KOI8-R", "Привет", charmap.KOI8R},
		{"windows-1251", "Привет", charmap.Windows1251},
		{`"utf-8"`, "plain ✓", encoding.Nop},
	}
	for _, tt := range tests {
		raw := encode(tt.enc, tt.text)
		got, problem := decodeText([]byte(raw), tt.label)
		if got != tt.text || problem != "" {
			t.Errorf("decodeText(%s) = %q, %q; want %q", tt.label, got, problem, tt.text)
		}
	}
}

func TestDecodeTextFallbacks(t *testing.T) {
	tests := []struct {
		name, in, label, want string
		problem               bool
	}{
		{"unlabeled utf-8", "naïve", "", "naïve", false},
		{"unlabeled latin-1", "na\xefve \x80", "", "naïve €", true},
		{"us-ascii with 8-bit", "caf\xe9", "us-ascii", "café", true},
		{"unknown charset, utf-8 bytes", "Grüße", "x-made-up", "Grüße", true},
		{"unknown charset, latin-1 bytes", "Gr\xfc\xdfe", "x-made-up", "Grüße", true},
		{"invalid utf-8", "ok \xff end", "utf-8", "ok \uFFFD end", true},
		{"iso-8859-1 read as windows-1252", "\x93q\x94", "iso-8859-1", "“q”", false},
	}
	for _, tt := range tests {
		got, problem := decodeText([]byte(tt.in), tt.label)
		if got != tt.want || (problem != "") != tt.problem {
			t.Errorf("%s: decodeText = %q, %q; want %q (problem %v)", tt.name, got, problem, tt.want, tt.problem)
		}
	}
}

func TestDecodeHeaderText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"=?UTF-8?B?4pyTIGRvbmU=?=", "✓ done"},
		{"=?ISO-8859-1?Q?caf=E9?= =?ISO-8859-1?Q?_au_lait?=", "café au lait"},
		{"=?x-unknown?Q?caf=E9?=", "café"},
		{"raw latin-1 caf\xe9", "raw latin-1 café"},
		{"=?utf-8?q?broken", "=?utf-8?q?broken"},
	}
	for _, tt := range tests {
		if got := decodeHeaderText(tt.in); got != tt.want {
			t.Errorf("decodeHeaderText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDecodeHTMLTextMeta(t *testing.T) {
	raw := `<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><p>` + encode(charmap.KOI8R, "Привет") + `</p>`
	got, _ := decodeHTMLText([]byte(raw), "")
	if want := `<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><p>Привет</p>`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
