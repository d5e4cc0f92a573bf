package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// ErrBlockedAddress is the reason a URL, or the address it resolved to, is refused in deployed
// mode: it points into a private network or at the cloud's metadata service.
var ErrBlockedAddress = errors.New("webhook: address not allowed")

// maxURLBytes bounds a webhook URL.
const maxURLBytes = 2048

// blockedPrefixes are the ranges a deployed Pigeon never connects to, beyond what netip's
// predicates (loopback, private, link-local, multicast, unspecified) already cover.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),          // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),      // carrier-grade NAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),       // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),       // TEST-NET-1
	netip.MustParsePrefix("198.18.0.0/15"),      // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"),    // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),     // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),        // reserved, and 255.255.255.255
	netip.MustParsePrefix("100::/64"),           // IPv6 discard
	netip.MustParsePrefix("2001:db8::/32"),      // IPv6 documentation
	netip.MustParsePrefix("fd00:ec2::254/128"),  // EC2 metadata over IPv6 (also inside fc00::/7)
	netip.MustParsePrefix("169.254.169.254/32"), // EC2 metadata (also inside 169.254/16)
}

// Ranges whose IPv6 addresses carry an IPv4 address that the network behind them reaches.
var (
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour  = netip.MustParsePrefix("2002::/16")
)

// Blocked reports whether a deployed Pigeon refuses to connect to ip: loopback, private
// (RFC 1918, unique-local fc00::/7), link-local (169.254/16 with the metadata service at
// 169.254.169.254, fe80::/10), carrier-grade NAT, multicast, unspecified, reserved and
// documentation ranges. IPv4 hidden inside IPv6 (::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4
// 2002::/16) is judged by the IPv4 address it reaches.
func Blocked(ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap()
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip), nat64Local.Contains(ip):
			return Blocked(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(ip):
			return Blocked(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ValidateURL checks a webhook URL when a webhook is created or changed: http or https, a host,
// no user name or password (they would be sent to the receiver in clear on every retry, and
// Basic credentials belong in the custom headers), any port. In deployed mode a host that is an
// IP literal in a blocked range, or localhost, is refused too (wrapping ErrBlockedAddress).
//
// Host names are not resolved here: DNS can change after creation, so the real guard is the
// check of every address connected to (Deliverer in deployed mode), which DNS rebinding cannot
// get around. Messages are meant for the API client.
func ValidateURL(raw string, deployed bool) error {
	if len(raw) > maxURLBytes {
		return fmt.Errorf("url is longer than %d bytes", maxURLBytes)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("url is not a valid URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return errors.New("url must start with https:// or http://")
	}
	if u.User != nil {
		return errors.New("url must not contain a user name or password; use a custom header for credentials")
	}
	host := u.Hostname()
	if host == "" {
		return errors.New("url has no host")
	}
	if p := u.Port(); p != "" {
		if _, err := net.LookupPort("tcp", p); err != nil || p == "0" {
			return errors.New("url has an invalid port")
		}
	}
	if !deployed {
		return nil
	}
	if h := strings.ToLower(strings.TrimSuffix(host, ".")); h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return fmt.Errorf("%w: url points at this machine", ErrBlockedAddress)
	}
	if ip, err := netip.ParseAddr(host); err == nil && Blocked(ip) {
		return fmt.Errorf("%w: url points into a private network", ErrBlockedAddress)
	}
	return nil
}

// refuseBlocked is a net.Dialer Control function: it runs after name resolution, just before
// each connect(2), with the address actually being dialled, and refuses blocked ones.
func refuseBlocked(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot judge %s address %q", ErrBlockedAddress, network, address)
	}
	if Blocked(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrBlockedAddress, ap.Addr())
	}
	return nil
}
