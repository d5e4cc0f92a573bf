// Package lists holds the rules of allow and block lists: which
// strings are valid entries, and whether a list set lets an address through.
//
// A list belongs to one scope (the organisation, a pod or an inbox), one direction (send,
// receive or reply) and one type (allow or block). Its entries are lower-cased email
// addresses or domains. Package store keeps them and gathers the entries that can match an
// address; Decide is the pure rule that settles the outcome, so it is the same for the
// inbound path, the send path and tests.
package lists

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Entry and address limits: RFC 5321 §4.5.3.1 (64-octet local part, 255-octet domain, 254 for
// a whole path), DNS labels of at most 63 octets.
const (
	maxLocalPart = 64
	maxDomain    = 253
	maxLabel     = 63
	maxAddress   = 254
)

// MaxDomainLevels bounds how many domains Candidates derives from one address: the address's
// own domain and its parents up to the top-level domain, keeping the shortest (most general)
// ones when a domain is deeper. It keeps a list check to one batched read (store.CheckList).
const MaxDomainLevels = 10

// ErrInvalidEntry is the error of ParseEntry for a string that is neither an address nor a domain.
var ErrInvalidEntry = errors.New("not an email address or a domain")

// ValidDirection reports whether d is a list direction: send, receive or reply.
func ValidDirection(d string) bool {
	return d == wire.ListDirectionSend || d == wire.ListDirectionReceive || d == wire.ListDirectionReply
}

// ValidType reports whether t is a list type: allow or block.
func ValidType(t string) bool { return t == wire.ListTypeAllow || t == wire.ListTypeBlock }

// ParseEntry normalises a list entry: trimmed and lower-cased, with a domain's trailing dot
// and a leading "@" ("@example.com" is the domain example.com) removed. It returns the entry
// and its entry_type, email or domain.
//
// Domains are DNS names of letters, digits and hyphens (IDNs in their xn-- form); a single
// label ("ru") is a valid domain, blocking a whole top-level domain. Local parts may hold any
// printable character but space and the ones that delimit addresses in headers (<>()[],;:\"@).
func ParseEntry(s string) (entry, entryType string, err error) {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "@")
	local, domain, isAddr := strings.Cut(s, "@")
	if !isAddr {
		domain, local = local, ""
	}
	domain = strings.TrimSuffix(domain, ".")
	if err := checkDomain(domain); err != nil {
		return "", "", fmt.Errorf("%q: %w: %v", s, ErrInvalidEntry, err)
	}
	if !isAddr {
		return domain, wire.ListEntryTypeDomain, nil
	}
	if err := checkLocalPart(local); err != nil {
		return "", "", fmt.Errorf("%q: %w: %v", s, ErrInvalidEntry, err)
	}
	if addr := local + "@" + domain; len(addr) <= maxAddress {
		return addr, wire.ListEntryTypeEmail, nil
	}
	return "", "", fmt.Errorf("%q: %w: longer than %d characters", s, ErrInvalidEntry, maxAddress)
}

func checkDomain(d string) error {
	if d == "" || len(d) > maxDomain {
		return fmt.Errorf("a domain has 1 to %d characters", maxDomain)
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || len(label) > maxLabel {
			return fmt.Errorf("domain labels have 1 to %d characters", maxLabel)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return errors.New("domain labels do not start or end with '-'")
		}
		for _, c := range label {
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return fmt.Errorf("domains hold only letters, digits, '-' and '.', not %q", c)
			}
		}
	}
	return nil
}

func checkLocalPart(l string) error {
	if l == "" || len(l) > maxLocalPart {
		return fmt.Errorf("the part before '@' has 1 to %d octets", maxLocalPart)
	}
	if !utf8.ValidString(l) {
		return errors.New("the address is not valid UTF-8")
	}
	for _, c := range l {
		if unicode.IsSpace(c) || unicode.IsControl(c) || strings.ContainsRune(`<>()[],;:\"@`, c) {
			return fmt.Errorf("the part before '@' may not contain %q", c)
		}
	}
	return nil
}

// Address is the form of an address that entries are matched against: the part inside
// <…> when there is one ("Ann <ann@example.com>"), trimmed and lower-cased, without a
// domain's trailing dot. A string without "@" is taken as a domain.
func Address(s string) string {
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			s = s[i+1 : i+j]
		}
	}
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
}

// Candidates are the entries that match an address, most specific first: the address itself,
// its domain, then each parent domain up to the top-level domain (an entry for a domain also
// covers its subdomains). A domain deeper than MaxDomainLevels keeps itself and its
// MaxDomainLevels-1 shortest parents.
func Candidates(address string) []string {
	addr := Address(address)
	if addr == "" {
		return nil
	}
	var out []string
	domain := addr
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		out = append(out, addr)
		domain = addr[at+1:]
	}
	if domain == "" {
		return out
	}
	labels := strings.Split(domain, ".")
	out = append(out, domain)
	for i := max(1, len(labels)-(MaxDomainLevels-1)); i < len(labels); i++ {
		out = append(out, strings.Join(labels[i:], "."))
	}
	return out
}

// Scope is what one scope (an inbox, a pod or the organisation) holds for one direction.
type Scope struct {
	// Entries are the scope's allow and block entries for the direction: all of them, or at
	// least every one of them that is among the address's Candidates.
	Entries []wire.ListEntry
	// HasAllow reports that the scope has allow entries for the direction, including ones
	// left out of Entries; it puts the address in allow-list mode (see Decide).
	HasAllow bool
}

// Decision is the outcome of Decide.
type Decision struct {
	Allowed bool
	// Entry is the entry that decided, or nil when none matched: the address is then allowed,
	// unless an allow list applies (allow-list mode), which blocks it.
	Entry *wire.ListEntry
}

// Decide applies the lists of one direction to an address. scopes are ordered from the most
// specific to the most general: inbox, pod, organisation (omit the ones that do not apply).
//
//  1. The most specific scope that has a matching entry decides; the more general scopes
//     are not looked at (an inbox may allow what its organisation blocks, and the reverse).
//  2. Within that scope the most specific matching entry wins: the exact address beats its
//     domain, and a domain beats its parent domains ("allow ceo@example.com" lets the CEO
//     through a "block example.com"; "block spam.example.com" holds within an "allow
//     example.com").
//  3. When the same entry is on both the allow and the block list of that scope, block wins.
//  4. When no entry matches: if any of the scopes has an allow entry (allow-list mode: "only
//     these"), the address is blocked; otherwise it is allowed.
func Decide(address string, scopes ...Scope) Decision {
	cands := Candidates(address)
	rank := make(map[string]int, len(cands))
	for i, c := range cands {
		if _, dup := rank[c]; !dup {
			rank[c] = i
		}
	}
	allowList := false
	for _, sc := range scopes {
		var best *wire.ListEntry
		bestRank := 0
		for i := range sc.Entries {
			e := &sc.Entries[i]
			if e.ListType == wire.ListTypeAllow {
				allowList = true
			}
			r, ok := rank[e.Entry]
			if !ok {
				continue
			}
			if best == nil || r < bestRank || (r == bestRank && e.ListType == wire.ListTypeBlock) {
				best, bestRank = e, r
			}
		}
		if best != nil {
			return Decision{Allowed: best.ListType == wire.ListTypeAllow, Entry: best}
		}
		allowList = allowList || sc.HasAllow
	}
	return Decision{Allowed: !allowList}
}
