package mail

import (
	netmail "net/mail"
	"strings"
	"time"
)

// Dates (RFC 5322 §3.3). net/mail reads the standard form and its obsolete variants; the
// layouts below catch what other software writes instead (asctime, ISO 8601, missing seconds,
// month names spelled out, a zone name after the offset).

var dateLayouts = []string{
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04:05 -0700 MST",
	"2 Jan 2006 15:04 -0700",
	"2 Jan 2006 15:04:05",
	"2 Jan 06 15:04:05 -0700",
	"2 Jan 06 15:04 -0700",
	"2 January 2006 15:04:05 -0700",
	"2-Jan-2006 15:04:05 -0700",
	"Jan 2 15:04:05 2006",
	"Jan 2 15:04:05 MST 2006",
	"Jan 2 15:04:05 -0700 2006",
	"Jan 2, 2006 15:04:05 -0700",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05",
	time.RFC3339,
}

// parseDate parses a Date header value; ok is false when no layout fits.
func parseDate(v string) (t time.Time, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false
	}
	if t, ok := parseCommonDate(v); ok {
		return t, true
	}
	if t, err := netmail.ParseDate(v); err == nil {
		return t, true
	}
	s := strings.Join(strings.Fields(stripComments(v)), " ")
	if word, rest, ok := strings.Cut(s, " "); ok && isDayName(strings.TrimSuffix(word, ",")) {
		s = rest
	}
	s = strings.ReplaceAll(s, ", ", " ")
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseCommonDate is a shortcut to what net/mail.ParseDate returns for the usual form of Date,
// "Mon, 2 Jan 2006 15:04:05 -0700" with or without the day name. ParseDate cuts the value
// after its numeric zone and tries 48 layouts in turn, and every layout that fails allocates
// an error; the usual form is the first layout, or the first with a day name (the ones before
// it start with a digit). ok false says nothing: ParseDate has to be asked.
func parseCommonDate(v string) (t time.Time, ok bool) {
	if strings.ContainsAny(v, "\r\n") {
		return time.Time{}, false
	}
	// As ParseDate: leading blanks skipped, the value cut 5 bytes after its first "+" or "-".
	s := strings.TrimLeft(v, " \t")
	zone := strings.IndexAny(s, "+-")
	if s == "" || zone < 0 || len(s) < zone+5 {
		return time.Time{}, false
	}
	date, rest := s[:zone+5], strings.TrimLeft(s[zone+5:], " \t")
	layout := "2 Jan 2006 15:04:05 -0700"
	if c := date[0]; c < '0' || c > '9' {
		layout = "Mon, 2 Jan 2006 15:04:05 -0700"
	}
	t, err := time.Parse(layout, date)
	if err != nil {
		return time.Time{}, false
	}
	if rest != "" {
		// ParseDate also wants what follows the zone to be comments ("(PST)"); it checks them
		// the same way after any date, so a known-good date stands in for this one.
		if _, err := netmail.ParseDate("1 Jan 2000 00:00:00 +0000 " + rest); err != nil {
			return time.Time{}, false
		}
	}
	return t, true
}

func isDayName(w string) bool {
	if len(w) < 3 {
		return false
	}
	switch strings.ToLower(w[:3]) {
	case "mon", "tue", "wed", "thu", "fri", "sat", "sun":
		return true
	}
	return false
}

// earliestPlausible is the first date a real message can carry; older ones are clock errors.
var earliestPlausible = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// futureSlack is how far past receipt a Date may lie and still be believed: clocks drift and
// time zones get misconfigured, but a message from next week is not from next week.
const futureSlack = 24 * time.Hour

// plausibleDate reports whether a message dated t and received at receivedAt can be sorted by t.
func plausibleDate(t, receivedAt time.Time) bool {
	return !t.Before(earliestPlausible) && !t.After(receivedAt.Add(futureSlack))
}
