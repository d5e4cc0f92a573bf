package mail

import (
	"errors"
	"fmt"
	"mime"
	netmail "net/mail"
	"strings"
)

// composeAddressParser decodes RFC 2047 display names ("=?utf-8?q?J=C3=B6rg?= <j@x>") as well as
// raw UTF-8 ones, so addresses copied from a parsed message can be sent to again.
var composeAddressParser = netmail.AddressParser{WordDecoder: &mime.WordDecoder{}}

// AddressError names an address that cannot be sent to and says why.
type AddressError struct {
	Index   int    // position in the list given to ParseAddressList
	Address string // the entry as given
	Reason  string
}

func (e *AddressError) Error() string {
	return fmt.Sprintf("invalid address %q: %s", e.Address, e.Reason)
}

// ParseAddressList parses addresses as an API request gives them: each entry is one address
// ("ann@example.com", "Ann <ann@example.com>") or a comma-separated list of them. It refuses
// what SES cannot send to: a non-ASCII address (SES has no SMTPUTF8; use the punycode form of
// an internationalised domain), a local part over 64 octets or an address over 254 (RFC 5321
// §4.5.3.1). The error is an *AddressError naming the first bad entry.
func ParseAddressList(list []string) ([]*netmail.Address, error) {
	var out []*netmail.Address
	for i, entry := range list {
		bad := func(reason string) error { return &AddressError{Index: i, Address: entry, Reason: reason} }
		if strings.TrimSpace(entry) == "" {
			return nil, bad("empty address")
		}
		addrs, err := composeAddressParser.ParseList(entry)
		if err != nil {
			return nil, bad(strings.TrimPrefix(err.Error(), "mail: "))
		}
		for _, a := range addrs {
			at := strings.LastIndexByte(a.Address, '@')
			switch {
			case !composeIsASCII(a.Address):
				return nil, bad("non-ASCII addresses cannot be sent (use the punycode form of the domain)")
			case at > 64:
				return nil, bad("the part before @ is longer than 64 characters")
			case len(a.Address) > 254:
				return nil, bad("longer than 254 characters")
			}
		}
		out = append(out, addrs...)
	}
	return out, nil
}

// composeAddresses is ParseAddressList with the error pointing at the request field.
func composeAddresses(field string, list []string) ([]*netmail.Address, error) {
	addrs, err := ParseAddressList(list)
	var ae *AddressError
	if errors.As(err, &ae) {
		if field != "from" {
			field = fmt.Sprintf("%s[%d]", field, ae.Index)
		}
		return nil, &ComposeError{Field: field, Reason: ae.Error()}
	}
	return addrs, err
}

// composeAddress formats a for a header: the bare address when it has no display name (net/mail
// would write "<addr>"), else the name, quoted or RFC 2047-encoded as needed, and "<addr>".
func composeAddress(a *netmail.Address) string {
	switch {
	case a.Name == "":
		return a.Address
	case composeIsASCII(a.Name):
		return a.String()
	default:
		return composeEncodeWords(a.Name) + " <" + a.Address + ">"
	}
}

func composeIsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
