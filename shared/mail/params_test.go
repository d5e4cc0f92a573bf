package mail

import (
	"maps"
	"testing"
)

func TestParseParamHeader(t *testing.T) {
	tests := []struct {
		in      string
		value   string
		params  map[string]string
		lenient bool
	}{
		{`text/plain; charset="utf-8"`, "text/plain", map[string]string{"charset": "utf-8"}, false},
		{`TEXT/HTML; Charset=ISO-8859-1`, "text/html", map[string]string{"charset": "ISO-8859-1"}, false},
		{`attachment; filename*=UTF-8''%E2%82%AC%20rates.txt`, "attachment", map[string]string{"filename": "€ rates.txt"}, false},
		{`attachment; filename*=iso-8859-1'fr'r%E9sum%E9.doc`, "attachment", map[string]string{"filename": "résumé.doc"}, false},
		{"attachment; filename*0*=UTF-8''a%20; filename*1*=%E2%80%93; filename*2=\" b.pdf\"", "attachment", map[string]string{"filename": "a – b.pdf"}, false},
		{`attachment; filename*1="b.txt"; filename*0="a-"`, "attachment", map[string]string{"filename": "a-b.txt"}, false},
		{`attachment; filename="plain.txt"; filename*=UTF-8''ext.txt`, "attachment", map[string]string{"filename": "ext.txt"}, false},
		{`application/pdf; name=my file.pdf`, "application/pdf", map[string]string{"name": "my file.pdf"}, true},
		{`text/plain; charset=utf-8;; format=flowed; junk`, "text/plain", map[string]string{"charset": "utf-8", "format": "flowed"}, true},
		{`multipart/mixed; boundary="abc;def"; boundary="second"`, "multipart/mixed", map[string]string{"boundary": "abc;def"}, true},
		{`text/html; charset="utf-8`, "text/html", map[string]string{"charset": "utf-8"}, true},
		{``, "", map[string]string{}, false},
	}
	for _, tt := range tests {
		value, params, lenient := parseParamHeader(tt.in)
		if value != tt.value || !maps.Equal(params, tt.params) || lenient != tt.lenient {
			t.Errorf("parseParamHeader(%q) = %q, %q, %v; want %q, %q, %v", tt.in, value, params, lenient, tt.value, tt.params, tt.lenient)
		}
	}
}
