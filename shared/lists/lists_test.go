package lists

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

func TestParseEntry(t *testing.T) {
	tests := []struct{ in, entry, typ string }{
		{"Ann@Example.COM", "ann@example.com", wire.ListEntryTypeEmail},
		{"  example.com. ", "example.com", wire.ListEntryTypeDomain},
		{"@Example.com", "example.com", wire.ListEntryTypeDomain},
		{"ru", "ru", wire.ListEntryTypeDomain},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", wire.ListEntryTypeDomain},
		{"first.last+tag@sub.example.org", "first.last+tag@sub.example.org", wire.ListEntryTypeEmail},
		{"josé@example.com", "josé@example.com", wire.ListEntryTypeEmail},
	}
	for _, tt := range tests {
		entry, typ, err := ParseEntry(tt.in)
		if err != nil || entry != tt.entry || typ != tt.typ {
			t.Errorf("ParseEntry(%q) = %q %q %v, want %q %q", tt.in, entry, typ, err, tt.entry, tt.typ)
		}
	}
	for _, bad := range []string{"", " ", "@", "a@", "@@example.com", "a@@example.com", "a b@example.com",
		"<a@example.com>", "a@exa mple.com", "a@-example.com", "a@example-.com", "a@example..com", "exa_mple.com",
		"bücher.example", "*.example.com", "a@b@c.com", strings.Repeat("a", 65) + "@example.com",
		strings.Repeat("a.", 127) + "com", "http://example.com/"} {
		if entry, _, err := ParseEntry(bad); !errors.Is(err, ErrInvalidEntry) {
			t.Errorf("ParseEntry(%q) = %q %v, want ErrInvalidEntry", bad, entry, err)
		}
	}
}

func TestCandidates(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Ann <Ann@Mail.Example.COM>", []string{"ann@mail.example.com", "mail.example.com", "example.com", "com"}},
		{"bob@example.com", []string{"bob@example.com", "example.com", "com"}},
		{"example.org", []string{"example.org", "org"}},
		{"", nil},
		{"a.b.c.d.e.f.g.h.i.j.k.l", []string{"a.b.c.d.e.f.g.h.i.j.k.l",
			"d.e.f.g.h.i.j.k.l", "e.f.g.h.i.j.k.l", "f.g.h.i.j.k.l", "g.h.i.j.k.l", "h.i.j.k.l", "i.j.k.l", "j.k.l", "k.l", "l"}},
	}
	for _, tt := range tests {
		if got := Candidates(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Candidates(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if n := len(Candidates("x@" + strings.Repeat("a.", 60) + "com")); n != MaxDomainLevels+1 {
		t.Errorf("deep domain: %d candidates", n)
	}
}

func entry(typ, e string) wire.ListEntry {
	_, et, _ := ParseEntry(e)
	return wire.ListEntry{Entry: e, ListType: typ, EntryType: et}
}

func TestDecide(t *testing.T) {
	allow := func(e string) wire.ListEntry { return entry(wire.ListTypeAllow, e) }
	block := func(e string) wire.ListEntry { return entry(wire.ListTypeBlock, e) }
	scope := func(es ...wire.ListEntry) Scope { return Scope{Entries: es} }
	tests := []struct {
		name    string
		address string
		scopes  []Scope
		allowed bool
		by      string // the deciding entry, "" for none
	}{
		{"no lists", "a@example.com", nil, true, ""},
		{"empty scopes", "a@example.com", []Scope{{}, {}, {}}, true, ""},
		{"blocked address", "A@Example.com", []Scope{scope(block("a@example.com"))}, false, "a@example.com"},
		{"blocked domain", "a@example.com", []Scope{scope(block("example.com"))}, false, "example.com"},
		{"blocked parent domain", "a@mx.mail.example.com", []Scope{scope(block("example.com"))}, false, "example.com"},
		{"domain does not match a longer name", "a@notexample.com", []Scope{scope(block("example.com"))}, true, ""},
		{"other address unaffected", "b@example.com", []Scope{scope(block("a@example.com"))}, true, ""},
		{"address beats domain (allow exception)", "ceo@example.com",
			[]Scope{scope(block("example.com"), allow("ceo@example.com"))}, true, "ceo@example.com"},
		{"address beats domain (block exception)", "spam@example.com",
			[]Scope{scope(allow("example.com"), block("spam@example.com"))}, false, "spam@example.com"},
		{"subdomain beats parent", "a@spam.example.com",
			[]Scope{scope(allow("example.com"), block("spam.example.com"))}, false, "spam.example.com"},
		{"block beats allow on the same entry", "a@example.com",
			[]Scope{scope(allow("example.com"), block("example.com"))}, false, "example.com"},
		{"inbox allow beats org block", "a@example.com",
			[]Scope{scope(allow("a@example.com")), {}, scope(block("example.com"))}, true, "a@example.com"},
		{"inbox block beats org allow", "a@example.com",
			[]Scope{scope(block("example.com")), {}, scope(allow("a@example.com"))}, false, "example.com"},
		{"pod decides before org", "a@example.com",
			[]Scope{{}, scope(allow("example.com")), scope(block("a@example.com"))}, true, "example.com"},
		{"allow-list mode blocks the rest", "a@other.com",
			[]Scope{{}, {}, scope(allow("example.com"))}, false, ""},
		{"allow-list mode from HasAllow alone", "a@other.com",
			[]Scope{{HasAllow: true}}, false, ""},
		{"allow-list mode lets listed through", "a@example.com",
			[]Scope{{}, {}, scope(allow("example.com"))}, true, "example.com"},
		{"block lists alone do not make allow-list mode", "a@other.com",
			[]Scope{scope(block("example.com"))}, true, ""},
		{"empty address in allow-list mode", "", []Scope{{HasAllow: true}}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.address, tt.scopes...)
			by := ""
			if d.Entry != nil {
				by = d.Entry.Entry
			}
			if d.Allowed != tt.allowed || by != tt.by {
				t.Errorf("Decide = allowed %v by %q, want %v by %q", d.Allowed, by, tt.allowed, tt.by)
			}
		})
	}
}

func TestValidDirectionAndType(t *testing.T) {
	for _, d := range []string{"send", "receive", "reply"} {
		if !ValidDirection(d) {
			t.Errorf("%s", d)
		}
	}
	for _, ty := range []string{"allow", "block"} {
		if !ValidType(ty) {
			t.Errorf("%s", ty)
		}
	}
	for _, bad := range []string{"", "Send", "forward", "deny"} {
		if ValidDirection(bad) || ValidType(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
