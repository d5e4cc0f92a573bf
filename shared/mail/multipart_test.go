package mail

import (
	"slices"
	"testing"
)

func TestSplitMultipart(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
		closed     bool
	}{
		{"simple", "preamble\r\n--b\r\nA: 1\r\n\r\none\r\n--b\r\n\r\ntwo\r\n--b--\r\nepilogue", []string{"A: 1\r\n\r\none", "\r\ntwo"}, true},
		{"lf only", "--b\nx\n--b--\n", []string{"x"}, true},
		{"truncated", "--b\r\n\r\none\r\n--b\r\n\r\ntwo, cut", []string{"\r\none", "\r\ntwo, cut"}, false},
		{"boundary inside a line is text", "--b\n\nsee --b here\n--b--", []string{"\nsee --b here"}, true},
		{"longer boundary is another one", "--b\n\n--b-inner\n--b--", []string{"\n--b-inner"}, true},
		{"trailing blanks after delimiter", "--b  \n\nx\n--b--", []string{"\nx"}, true},
		{"no delimiter", "just text", nil, false},
		{"delimiter at the very end", "--b\n\nx\n--b", []string{"\nx"}, false},
	}
	for _, tt := range tests {
		parts, closed := splitMultipart([]byte(tt.body), "b")
		var got []string
		for _, p := range parts {
			got = append(got, string(p))
		}
		if !slices.Equal(got, tt.want) || closed != tt.closed {
			t.Errorf("%s: got %q, %v; want %q, %v", tt.name, got, closed, tt.want, tt.closed)
		}
	}
}
