package wire

import "testing"

func TestEventMessageID(t *testing.T) {
	cases := []struct {
		ev   Event
		want string
	}{
		{Event{Message: &Message{MessageID: "<r@x>"}}, "<r@x>"},
		{Event{Send: &Send{MessageID: "<s@x>"}}, "<s@x>"},
		{Event{Delivery: &Delivery{MessageID: "<d@x>"}}, "<d@x>"},
		{Event{Bounce: &Bounce{MessageID: "<b@x>"}}, "<b@x>"},
		{Event{Complaint: &Complaint{MessageID: "<c@x>"}}, "<c@x>"},
		{Event{Reject: &Reject{MessageID: "<j@x>"}}, "<j@x>"},
		{Event{EventType: "domain.verified"}, ""},
	}
	for _, c := range cases {
		if got := c.ev.MessageID(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.ev, got, c.want)
		}
	}
}
