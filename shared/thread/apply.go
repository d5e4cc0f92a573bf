package thread

import (
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Caps on a thread's accumulated lists, so a long thread stays far below DynamoDB's 400 KB
// item limit: once full, later senders, recipients and attachments are not added.
const (
	MaxParticipants = 50 // senders, and recipients, each
	MaxAttachments  = 100
)

// Apply returns the thread after message m joins it. prev is the thread before (nil when m
// starts it); now is the time of the change. It is a pure function:
//
//   - senders and recipients (to, cc, bcc) are de-duplicated by address, in order of appearance;
//   - subject is the first message's;
//   - preview and last_message_id are the newest message's (by timestamp; a tie goes to m);
//   - labels are the union of the messages' labels;
//   - timestamp, received_timestamp (messages labelled received) and sent_timestamp (labelled
//     sent) are maxima;
//   - message_count and size add up; attachments are appended.
func Apply(prev *wire.ThreadItem, m wire.Message, now time.Time) wire.ThreadItem {
	now = wire.UTC(now)
	var t wire.ThreadItem
	if prev != nil {
		t = *prev
		t.Labels = slices.Clone(prev.Labels)
		t.Senders = slices.Clone(prev.Senders)
		t.Recipients = slices.Clone(prev.Recipients)
		t.Attachments = slices.Clone(prev.Attachments)
	} else {
		t = wire.ThreadItem{InboxID: m.InboxID, ThreadID: m.ThreadID, Subject: m.Subject, CreatedAt: now}
	}
	ts := wire.UTC(m.Timestamp)
	if prev == nil || !ts.Before(t.Timestamp) {
		t.Timestamp = ts
		t.Preview = m.Preview
		t.LastMessageID = m.MessageID
	}
	if slices.Contains(m.Labels, wire.LabelReceived) {
		t.ReceivedTimestamp = later(t.ReceivedTimestamp, ts)
	}
	if slices.Contains(m.Labels, wire.LabelSent) {
		t.SentTimestamp = later(t.SentTimestamp, ts)
	}
	for _, l := range m.Labels {
		if !slices.Contains(t.Labels, l) {
			t.Labels = append(t.Labels, l)
		}
	}
	t.Senders = addAddresses(t.Senders, m.From)
	t.Recipients = addAddresses(t.Recipients, m.To...)
	t.Recipients = addAddresses(t.Recipients, m.Cc...)
	t.Recipients = addAddresses(t.Recipients, m.Bcc...)
	for _, a := range m.Attachments {
		if len(t.Attachments) < MaxAttachments {
			t.Attachments = append(t.Attachments, a)
		}
	}
	t.MessageCount++
	t.Size += m.Size
	t.UpdatedAt = now
	t.Labels = wire.NonNil(t.Labels)
	t.Senders = wire.NonNil(t.Senders)
	t.Recipients = wire.NonNil(t.Recipients)
	return t
}

func later(cur *time.Time, t time.Time) *time.Time {
	if cur != nil && !t.After(*cur) {
		return cur
	}
	return &t
}

// addAddresses appends each address not yet in list, comparing the addr-spec
// case-insensitively ("Bob <B@x.org>" and "b@x.org" are one participant).
func addAddresses(list []string, addrs ...string) []string {
	for _, a := range addrs {
		a = strings.TrimSpace(a)
		if a == "" || len(list) >= MaxParticipants {
			continue
		}
		k := addressKey(a)
		if !slices.ContainsFunc(list, func(have string) bool { return addressKey(have) == k }) {
			list = append(list, a)
		}
	}
	return list
}

func addressKey(a string) string {
	if p, err := mail.ParseAddress(a); err == nil {
		return strings.ToLower(p.Address)
	}
	return strings.ToLower(a)
}
