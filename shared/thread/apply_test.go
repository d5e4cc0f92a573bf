package thread

import (
	"reflect"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

func at(min int) time.Time       { return time.Date(2025, 1, 2, 10, min, 0, 0, time.UTC) }
func ptr(t time.Time) *time.Time { return &t }

func TestApply(t *testing.T) {
	now := at(30)
	first := wire.Message{
		InboxID: "a@x.org", ThreadID: "thr_1", MessageID: "<1@x>", Labels: []string{"received", "unread"},
		Timestamp: at(0), From: "Alice <alice@example.com>", To: []string{"a@x.org"}, Cc: []string{"Bob <bob@example.com>"},
		Subject: "Plans", Preview: "first", Size: 100,
		Attachments: []wire.Attachment{{AttachmentID: "att_1", Size: 10}},
	}
	started := Apply(nil, first, now)
	want := wire.ThreadItem{
		InboxID: "a@x.org", ThreadID: "thr_1", Labels: []string{"received", "unread"},
		Timestamp: at(0), ReceivedTimestamp: ptr(at(0)),
		Senders: []string{"Alice <alice@example.com>"}, Recipients: []string{"a@x.org", "Bob <bob@example.com>"},
		Subject: "Plans", Preview: "first", Attachments: []wire.Attachment{{AttachmentID: "att_1", Size: 10}},
		LastMessageID: "<1@x>", MessageCount: 1, Size: 100, UpdatedAt: now, CreatedAt: now,
	}
	if !reflect.DeepEqual(started, want) {
		t.Fatalf("new thread:\n got %+v\nwant %+v", started, want)
	}

	tests := []struct {
		name string
		msg  wire.Message
		want func(*wire.ThreadItem)
	}{{
		name: "newer reply from a known sender in other case",
		msg: wire.Message{MessageID: "<2@x>", Labels: []string{"received", "important"}, Timestamp: at(5),
			From: "ALICE@example.com", To: []string{"a@x.org", "carol@example.com"}, Bcc: []string{"bob@EXAMPLE.com"},
			Subject: "Re: Plans", Preview: "second", Size: 50},
		want: func(th *wire.ThreadItem) {
			th.Labels = []string{"received", "unread", "important"}
			th.Timestamp, th.ReceivedTimestamp = at(5), ptr(at(5))
			th.Recipients = []string{"a@x.org", "Bob <bob@example.com>", "carol@example.com"}
			th.Preview, th.LastMessageID = "second", "<2@x>"
			th.MessageCount, th.Size = 2, 150
		},
	}, {
		name: "older message arriving late keeps preview and last id",
		msg: wire.Message{MessageID: "<0@x>", Labels: []string{"received"}, Timestamp: at(-5), From: "dave@example.com",
			To: []string{"a@x.org"}, Preview: "zeroth", Size: 1, Attachments: []wire.Attachment{{AttachmentID: "att_9"}}},
		want: func(th *wire.ThreadItem) {
			th.Senders = append(th.Senders, "dave@example.com")
			th.Attachments = append(th.Attachments, wire.Attachment{AttachmentID: "att_9"})
			th.MessageCount, th.Size = 2, 101
		},
	}, {
		name: "sent message sets sent_timestamp",
		msg: wire.Message{MessageID: "<3@x>", Labels: []string{"sent"}, Timestamp: at(10), From: "a@x.org",
			To: []string{"alice@example.com"}, Preview: "reply", Size: 10},
		want: func(th *wire.ThreadItem) {
			th.Labels = []string{"received", "unread", "sent"}
			th.Timestamp, th.SentTimestamp = at(10), ptr(at(10))
			th.Senders = append(th.Senders, "a@x.org")
			th.Recipients = append(th.Recipients, "alice@example.com")
			th.Preview, th.LastMessageID = "reply", "<3@x>"
			th.MessageCount, th.Size = 2, 110
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := Apply(nil, first, now)
			got := Apply(&before, tt.msg, at(40))
			want := Apply(nil, first, now)
			tt.want(&want)
			want.UpdatedAt = at(40)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("\n got %+v\nwant %+v", got, want)
			}
			if !reflect.DeepEqual(before, Apply(nil, first, now)) {
				t.Fatal("Apply changed the previous thread")
			}
		})
	}
}

func TestApplyCaps(t *testing.T) {
	var th *wire.ThreadItem
	for i := range MaxParticipants + 10 {
		m := wire.Message{MessageID: "<m>", Timestamp: at(0), From: string(rune('a'+i%26)) + "@" + time.Duration(i).String() + ".org",
			Attachments: []wire.Attachment{{AttachmentID: "x"}, {AttachmentID: "y"}}}
		next := Apply(th, m, at(1))
		th = &next
	}
	if len(th.Senders) != MaxParticipants || len(th.Attachments) != MaxAttachments || th.MessageCount != MaxParticipants+10 {
		t.Fatalf("senders %d attachments %d count %d", len(th.Senders), len(th.Attachments), th.MessageCount)
	}
	if th.Recipients == nil || th.Labels == nil {
		t.Fatal("required arrays must not be nil")
	}
}
