package mail

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	utc := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"Tue, 10 Dec 2024 10:00:00 +0100", utc("2024-12-10T09:00:00Z"), true},
		{"10 Dec 2024 10:00:00 GMT", utc("2024-12-10T10:00:00Z"), true},
		{"Tue, 10 Dec 2024 10:00:00 +0000 (UTC)", utc("2024-12-10T10:00:00Z"), true},
		{"Tue Dec 10 10:00:00 2024", utc("2024-12-10T10:00:00Z"), true},
		{"Tue, 10 Dec 2024 10:00 +0000", utc("2024-12-10T10:00:00Z"), true},
		{"2024-12-10T10:00:00Z", utc("2024-12-10T10:00:00Z"), true},
		{"Tuesday, 10 December 2024 10:00:00 +0000", utc("2024-12-10T10:00:00Z"), true},
		{"Tue, 10 Dec 24 10:00:00 +0000", utc("2024-12-10T10:00:00Z"), true},
		{"not a date", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := parseDate(tt.in)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseDate(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestTimestamp(t *testing.T) {
	received := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		date string
		want time.Time
	}{
		{"Wed, 1 Jan 2025 10:00:00 +0200", time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC)},
		{"Thu, 2 Jan 2025 20:00:00 +0000", time.Date(2025, 1, 2, 20, 0, 0, 0, time.UTC)}, // within the slack
		{"Mon, 1 Jan 2099 00:00:00 +0000", received},
		{"Thu, 1 Jan 1970 00:00:00 +0000", received},
		{"garbage", received},
	}
	for _, tt := range tests {
		m := Parse([]byte("Date: "+tt.date+"\r\n\r\nx"), received)
		if !m.Timestamp.Equal(tt.want) || m.Timestamp.Location() != time.UTC {
			t.Errorf("Date %q: Timestamp %v, want %v UTC", tt.date, m.Timestamp, tt.want)
		}
	}
}
