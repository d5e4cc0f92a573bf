package mail

import "testing"

func TestDecodeTransfer(t *testing.T) {
	tests := []struct {
		name, cte, in, want string
		problem             bool
	}{
		{"none", "", "as is", "as is", false},
		{"8bit", "8BIT", "as is", "as is", false},
		{"base64", "base64", "aGVs\r\nbG8=\r\n", "hello", false},
		{"base64 with spaces and junk", "base64", "aGVs bG8g!d29y\nbGQ=", "hello world", true},
		{"base64 padding in the middle", "Base64", "aGk=\r\nIHRoZXJl\r\n", "hi there", true},
		{"base64 truncated", "base64", "aGVsbG8gd29ybG", "hello worl", true},
		{"base64 footer skipped", "base64", "aGk=\r\n--- list footer: unsubscribe at example.org ---\r\n", "hi", true},
		{"quoted-printable", "quoted-printable", "caf=C3=A9 =\r\nau lait", "café au lait", false},
		{"quoted-printable stray =, accepted by mime/quotedprintable", "quoted-printable", "1 =ZZ 2 =3D 3=\n4", "1 =ZZ 2 = 34", false},
		{"quoted-printable NUL after =", "quoted-printable", "a=\x00b", "a=\x00b", true},
		{"x-uuencode kept raw", "x-uuencode", "begin 644 a\n", "begin 644 a\n", true},
		{"quoted token", `"base64"`, "aGk=", "hi", false},
	}
	for _, tt := range tests {
		got, problem := decodeTransfer(tt.cte, []byte(tt.in))
		if string(got) != tt.want || (problem != "") != tt.problem {
			t.Errorf("%s: decodeTransfer = %q, %q; want %q (problem %v)", tt.name, got, problem, tt.want, tt.problem)
		}
	}
}
