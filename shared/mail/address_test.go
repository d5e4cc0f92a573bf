package mail

import (
	"slices"
	"testing"
)

func TestParseAddressList(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		lenient bool
	}{
		{"", []string{}, false},
		{"a@b.example", []string{"a@b.example"}, false},
		{"Ann <a@b.example>, c@d.example", []string{"Ann <a@b.example>", "c@d.example"}, false},
		{`"Doe, Jane" <j@x.example>`, []string{`"Doe, Jane" <j@x.example>`}, false},
		{`=?UTF-8?Q?Zo=C3=AB?= <z@x.example>`, []string{"Zoë <z@x.example>"}, false},
		{`"=?utf-8?q?Ana_Mar=C3=ADa?=" <ana@x.example>`, []string{"Ana María <ana@x.example>"}, false},
		{"Zoë <z@x.example>", []string{"Zoë <z@x.example>"}, false},
		{"undisclosed-recipients:;", []string{}, false},
		{"Team: a@x.example, b@x.example;", []string{"a@x.example", "b@x.example"}, false},
		{"a@x.example <a@x.example>", []string{"a@x.example"}, true},
		{"a@x.example; b@x.example", []string{"a@x.example", "b@x.example"}, true},
		{"Sales Team a@x.example", []string{"Sales Team <a@x.example>"}, true},
		{`Bob <bob@x.example, "Broken <d@x.example>`, []string{"Bob <bob@x.example>", "Broken <d@x.example>"}, true},
		{"J. Random <jr@x.example>", []string{`"J. Random" <jr@x.example>`}, false},
	}
	for _, tt := range tests {
		got, lenient := parseAddressList(tt.in)
		if !slices.Equal(got, tt.want) || lenient != tt.lenient || got == nil {
			t.Errorf("parseAddressList(%q) = %q, %v; want %q, %v", tt.in, got, lenient, tt.want, tt.lenient)
		}
	}
}
