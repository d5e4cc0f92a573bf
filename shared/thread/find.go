package thread

import (
	"context"
	"slices"
	"strings"

	"github.com/oklog/ulid/v2"

	"github.com/pigeon-mail/pigeon/shared/mail"
)

// MaxLookups bounds how many ancestor ids one message looks up (the most recent ones), so a
// message with a huge References header costs one BatchGetItem.
const MaxLookups = 100

// Lookup returns, for each of the canonical Message-IDs it knows in the inbox, the thread of
// the message with that id. Ids it does not know are left out.
type Lookup func(ctx context.Context, canonicalIDs []string) (map[string]string, error)

// Find returns the thread a message with these In-Reply-To and References headers joins, or
// "" when it starts a new one.
func Find(ctx context.Context, lookup Lookup, inReplyTo string, references []string) (string, error) {
	ids := Ancestors(inReplyTo, references)
	if len(ids) == 0 {
		return "", nil
	}
	found, err := lookup(ctx, ids)
	if err != nil {
		return "", err
	}
	for _, id := range ids {
		if th := found[id]; th != "" {
			return th, nil
		}
	}
	return "", nil
}

// Ancestors lists the canonical ids a message refers to in the order they are tried:
// In-Reply-To, then References from last to first, without duplicates, at most MaxLookups.
func Ancestors(inReplyTo string, references []string) []string {
	var ids []string
	add := func(id string) {
		if c := mail.CanonicalMessageID(id); c != "" && !slices.Contains(ids, c) {
			ids = append(ids, c)
		}
	}
	for _, id := range mail.ParseMessageIDs(inReplyTo) {
		add(id)
	}
	if len(ids) == 0 && strings.TrimSpace(inReplyTo) != "" {
		add(inReplyTo)
	}
	for i := len(references) - 1; i >= 0 && len(ids) < MaxLookups; i-- {
		add(references[i])
	}
	if len(ids) > MaxLookups {
		ids = ids[:MaxLookups]
	}
	return ids
}

// NewID returns a new thread id, "thr_" and a lower-case ULID (time-ordered).
func NewID() string { return "thr_" + strings.ToLower(ulid.Make().String()) }
