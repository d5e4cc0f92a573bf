package mail

import (
	"regexp"
	"strings"
)

// Reply and forward: the subject, recipients and threading headers of an answer, derived from
// the message answered the way mail clients derive them.

// replyPrefix matches one reply marker at the start of a subject: "Re:", "RE:", "re :",
// "Re[2]:", "Re(3):", and the German, Scandinavian and Dutch "Aw:", "Sv:", "Antw:". The
// full-width colon is what CJK clients write.
var replyPrefix = regexp.MustCompile(`^(?i:re|aw|sv|antw)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*`)

// forwardPrefix matches one forward marker: "Fwd:", "FW:", "Fw:", "Fwd[2]:".
var forwardPrefix = regexp.MustCompile(`^(?i:fwd|fw)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*`)

// ReplySubject is the subject of a reply to a message with subject s: "Re: " and the subject
// without the reply markers it already carries, so replies to replies stay "Re: topic" and a
// German "AW: topic" is answered as "Re: topic". Forward markers are kept ("Re: Fwd: topic"),
// as Gmail and Outlook do.
func ReplySubject(s string) string {
	return replyJoin("Re:", replyStrip(s, replyPrefix))
}

// ForwardSubject is the subject of a forward of a message with subject s: "Fwd: " and the
// subject without the forward markers it already carries ("FW: topic" → "Fwd: topic").
func ForwardSubject(s string) string {
	return replyJoin("Fwd:", replyStrip(s, forwardPrefix))
}

func replyStrip(s string, prefix *regexp.Regexp) string {
	s = strings.TrimSpace(s)
	for {
		loc := prefix.FindStringIndex(s)
		if loc == nil {
			return s
		}
		s = s[loc[1]:]
	}
}

func replyJoin(prefix, rest string) string {
	if rest == "" {
		return prefix
	}
	return prefix + " " + rest
}

// Original is what ReplyRecipients needs of the message replied to: its address fields as the
// API shows them, one address per entry ("Ann <ann@example.com>" or "ann@example.com").
type Original struct {
	From    string
	ReplyTo []string
	To      []string
	Cc      []string
}

// ReplyRecipients returns the recipients of a reply from the inbox whose address is
// inboxAddress to orig, as mail clients choose them:
//
//   - reply: Reply-To when the original has one, else From;
//   - reply-all: that, plus the original To in to and the original Cc in cc;
//   - the inbox's own address is left out, addresses are compared case-insensitively and each
//     appears once (an address already in to is not repeated in cc);
//   - when the original was sent by the inbox itself, replying continues the conversation with
//     its recipients (the original To; reply-all adds the Cc), as Gmail does;
//   - when that leaves nobody (a message the inbox sent to itself), the reply goes to the
//     original sender.
//
// Entries are returned as given (display names kept). Entries that do not parse as addresses
// are dropped: they could not be sent to anyway.
func ReplyRecipients(orig Original, inboxAddress string, replyAll bool) (to, cc []string) {
	self := strings.ToLower(strings.TrimSpace(inboxAddress))
	if a, err := composeAddressParser.Parse(inboxAddress); err == nil {
		self = strings.ToLower(a.Address)
	}
	seen := map[string]bool{self: true}
	add := func(dst *[]string, entries []string) {
		for _, e := range entries {
			for _, r := range replyEntries(e) {
				key := strings.ToLower(r.address)
				if seen[key] {
					continue
				}
				seen[key] = true
				*dst = append(*dst, r.display)
			}
		}
	}

	primary := orig.ReplyTo
	if len(replyEntries(strings.Join(primary, ","))) == 0 {
		primary = []string{orig.From}
	}
	fromSelf := false
	for _, r := range replyEntries(orig.From) {
		fromSelf = fromSelf || strings.EqualFold(r.address, self)
	}

	switch {
	case fromSelf:
		add(&to, orig.To)
		if replyAll {
			add(&cc, orig.Cc)
		}
	case replyAll:
		add(&to, primary)
		add(&to, orig.To)
		add(&cc, orig.Cc)
	default:
		add(&to, primary)
	}
	if len(to) == 0 && len(cc) > 0 {
		to, cc = cc, nil
	}
	if len(to) == 0 {
		delete(seen, self)
		add(&to, primary)
	}
	return to, cc
}

type replyEntry struct{ address, display string }

// replyEntries parses one address-field entry, which may hold several addresses. A single
// address keeps the entry's own spelling; addresses split out of a list are re-formatted.
func replyEntries(entry string) []replyEntry {
	entry = strings.TrimSpace(entry)
	if entry == "" {
		return nil
	}
	addrs, err := composeAddressParser.ParseList(entry)
	if err != nil {
		return nil
	}
	if len(addrs) == 1 {
		return []replyEntry{{addrs[0].Address, entry}}
	}
	out := make([]replyEntry, len(addrs))
	for i, a := range addrs {
		display := a.Address
		if a.Name != "" {
			display = replyDisplayName(a.Name) + " <" + a.Address + ">"
		}
		out[i] = replyEntry{a.Address, display}
	}
	return out
}

// replyDisplayName quotes a display name when it holds characters that are special in an
// address (RFC 5322 §3.2.3), keeping UTF-8 readable rather than RFC 2047-encoded.
func replyDisplayName(name string) string {
	if !strings.ContainsAny(name, `()<>[]:;@\,."`) {
		return name
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
}

// replyMaxReferences bounds the References of a reply. Long threads would otherwise grow the
// header without limit; like Thunderbird, the first id (the thread's root) and the most recent
// ones are kept, which is all that threading by References (RFC 5256, JWZ) needs.
const replyMaxReferences = 50

// ReplyReferences returns the In-Reply-To and References of a reply to the message whose
// Message-ID is origMessageID and whose References are origReferences (RFC 5322 §3.6.4): the
// original's References followed by its Message-ID, without duplicates, at most 50 (the root
// and the latest). Ids are returned in header form, "<id>", whether or not they were given with
// angle brackets; empty entries are skipped.
func ReplyReferences(origMessageID string, origReferences []string) (inReplyTo string, refs []string) {
	inReplyTo = replyMsgID(origMessageID)
	seen := map[string]bool{}
	for _, r := range append(append([]string{}, origReferences...), origMessageID) {
		// Some clients put several ids in one entry, or fold in the middle of one.
		for _, id := range strings.Fields(strings.ReplaceAll(r, "><", "> <")) {
			if id = replyMsgID(id); id != "" && !seen[id] {
				seen[id] = true
				refs = append(refs, id)
			}
		}
	}
	if len(refs) > replyMaxReferences {
		refs = append(refs[:1:1], refs[len(refs)-(replyMaxReferences-1):]...)
	}
	return inReplyTo, refs
}

// HeaderMessageID is the id a reply must name for a stored message: the Message-ID header the
// author wrote, when it has one that parses, else the stored message_id. The two differ for a
// mail that reused a Message-ID the inbox already held for another mail: it is stored under an
// id of its own, but its correspondents know it by the header.
func HeaderMessageID(messageID string, headers map[string]string) string {
	for k, v := range headers {
		if strings.EqualFold(k, "Message-ID") {
			if CanonicalMessageID(v) != "" {
				return strings.TrimSpace(v)
			}
		}
	}
	return messageID
}

func replyMsgID(id string) string {
	id = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
	if id == "" {
		return ""
	}
	return "<" + id + ">"
}
