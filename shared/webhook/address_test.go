package webhook

import (
	"errors"
	"net/netip"
	"testing"
)

func TestBlocked(t *testing.T) {
	blocked := []string{
		"127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1",
		"169.254.169.254", "169.254.1.1", "100.64.0.1", "100.127.255.255", "0.0.0.0", "0.1.2.3",
		"224.0.0.1", "255.255.255.255", "240.0.0.1", "198.18.0.1", "192.0.0.170",
		"::1", "::", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "fd00:ec2::254", "ff02::1",
		"::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "2002:a00:1::1", "2001:db8::1",
	}
	allowed := []string{"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "52.94.236.248", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"}
	for _, s := range blocked {
		if !Blocked(netip.MustParseAddr(s)) {
			t.Errorf("%s not blocked", s)
		}
	}
	for _, s := range allowed {
		if Blocked(netip.MustParseAddr(s)) {
			t.Errorf("%s blocked", s)
		}
	}
}

func TestValidateURL(t *testing.T) {
	tests := []struct {
		url           string
		local, deploy bool // valid in local / deployed mode
		blocked       bool // deployed error wraps ErrBlockedAddress
	}{
		{"https://example.com/hooks", true, true, false},
		{"http://example.com:8080/hooks?x=1", true, true, false},
		{"https://93.184.216.34:8443/", true, true, false},
		{"https://[2606:4700::1]/", true, true, false},
		{"http://127.0.0.1:3000/hook", true, false, true},
		{"http://localhost:3000/hook", true, false, true},
		{"http://api.localhost/hook", true, false, true},
		{"http://10.1.2.3/", true, false, true},
		{"http://169.254.169.254/latest/meta-data/", true, false, true},
		{"http://[::1]:8080/", true, false, true},
		{"http://[fd00:ec2::254]/", true, false, true},
		{"https://user:pass@example.com/", false, false, false},
		{"ftp://example.com/", false, false, false},
		{"example.com/hook", false, false, false},
		{"https:///nohost", false, false, false},
		{"https://example.com:99999/", false, false, false},
		{"https://example.com:0/", false, false, false},
		{"://", false, false, false},
	}
	for _, tt := range tests {
		if err := ValidateURL(tt.url, false); (err == nil) != tt.local {
			t.Errorf("local %s: %v", tt.url, err)
		}
		err := ValidateURL(tt.url, true)
		if (err == nil) != tt.deploy {
			t.Errorf("deployed %s: %v", tt.url, err)
		}
		if errors.Is(err, ErrBlockedAddress) != tt.blocked {
			t.Errorf("deployed %s: blocked = %v, want %v", tt.url, errors.Is(err, ErrBlockedAddress), tt.blocked)
		}
	}
}

func TestValidateHeaders(t *testing.T) {
	ok := []map[string]string{nil, {"Authorization": "Bearer x", "X-Tenant": "a b\tc"}}
	bad := []map[string]string{
		{"svix-id": "x"}, {"Webhook-Signature": "x"}, {"Content-Type": "text/plain"}, {"Host": "evil"},
		{"Bad Name": "x"}, {"": "x"}, {"X-A": "line\r\nInjected: 1"},
	}
	for _, h := range ok {
		if err := ValidateHeaders(h); err != nil {
			t.Errorf("%v: %v", h, err)
		}
	}
	for _, h := range bad {
		if err := ValidateHeaders(h); err == nil {
			t.Errorf("%v accepted", h)
		}
	}
	many := map[string]string{}
	for i := range 21 {
		many[string(rune('a'+i))] = "x"
	}
	if ValidateHeaders(many) == nil {
		t.Error("21 headers accepted")
	}
}
