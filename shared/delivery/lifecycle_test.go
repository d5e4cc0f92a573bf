package delivery

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func note(kind Kind, id string, rcpts ...string) Notification {
	n := Notification{ID: id, Kind: kind, Timestamp: t0, Recipients: rcpts}
	switch kind {
	case KindBounce:
		n.Type, n.SubType = "Permanent", "General"
	case KindComplaint:
		n.Type = "abuse"
	}
	return n
}

func permutations(xs []Kind) [][]Kind {
	if len(xs) <= 1 {
		return [][]Kind{slices.Clone(xs)}
	}
	var out [][]Kind
	for i := range xs {
		rest := append(slices.Clone(xs[:i]), xs[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]Kind{xs[i]}, p...))
		}
	}
	return out
}

func before(order []Kind, a, b Kind) bool { return slices.Index(order, a) < slices.Index(order, b) }

// Every ordering of Send, Delivery, Bounce and Complaint for a one-recipient message, each
// notification delivered twice (immediately, and again at the end): the final status, and which
// events are emitted, each at most once.
func TestEveryOrderingWithDuplicates(t *testing.T) {
	const rcpt = "Bob <bob@example.com>"
	for _, order := range permutations([]Kind{KindSend, KindDelivery, KindBounce, KindComplaint}) {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			s := New([]string{rcpt})
			emitted := map[Kind]int{}
			var statuses []Status
			apply := func(k Kind) {
				var ch []Change
				s, ch = Apply(s, note(k, "id-"+string(k), "bob@example.com"))
				for _, c := range ch {
					emitted[c.Kind]++
				}
				statuses = append(statuses, s.Status)
			}
			for _, k := range order {
				apply(k)
				apply(k) // an immediate duplicate
			}
			for _, k := range order {
				apply(k) // late duplicates of everything
			}
			if s.Status != Complained {
				t.Errorf("final status %s, want complained", s.Status)
			}
			for i := 1; i < len(statuses); i++ {
				if rank[statuses[i]] < rank[statuses[i-1]] {
					t.Fatalf("status moved backwards: %v", statuses)
				}
			}
			want := map[Kind]int{KindComplaint: 1}
			if before(order, KindSend, KindDelivery) && before(order, KindSend, KindBounce) && before(order, KindSend, KindComplaint) {
				want[KindSend] = 1 // a late Send after any outcome changes nothing
			}
			if before(order, KindDelivery, KindBounce) && before(order, KindDelivery, KindComplaint) {
				want[KindDelivery] = 1
			}
			if before(order, KindBounce, KindComplaint) {
				want[KindBounce] = 1
			}
			for _, k := range []Kind{KindSend, KindDelivery, KindBounce, KindComplaint} {
				if emitted[k] != want[k] {
					t.Errorf("%s emitted %d times, want %d (all: %v)", k, emitted[k], want[k], emitted)
				}
			}
		})
	}
}

// A duplicate with a new id (SNS redelivers with the same MessageId, but Lambda retries and
// SES itself may not) still emits nothing, because the recipient cannot reach a state twice.
func TestDuplicateWithNewIDEmitsNothing(t *testing.T) {
	s := New([]string{"a@x.test"})
	s, ch := Apply(s, note(KindDelivery, "1", "a@x.test"))
	if len(ch) != 1 || s.Status != Delivered {
		t.Fatalf("first delivery: %v %s", ch, s.Status)
	}
	s2, ch := Apply(s, note(KindDelivery, "2", "a@x.test"))
	if len(ch) != 0 || s2.Status != Delivered {
		t.Fatalf("second delivery: %v %s", ch, s2.Status)
	}
}

func TestPerRecipientOutcomesAndSummary(t *testing.T) {
	s := New([]string{"a@x.test", "B@Y.test", "c@z.test"})
	steps := []struct {
		n      Notification
		status Status
		events int
	}{
		{note(KindSend, "s"), Sent, 1},
		{note(KindDelivery, "d1", "a@x.test"), Sent, 1},         // one of three delivered
		{note(KindDeliveryDelay, "dd", "c@z.test"), Delayed, 0}, // delays emit no event
		{note(KindDelivery, "d2", "b@y.test"), Delayed, 1},      // matched case-insensitively
		{note(KindBounce, "b1", "c@z.test"), Bounced, 1},        // the third bounces
		{note(KindDelivery, "d3", "c@z.test"), Bounced, 0},      // a delivery after the bounce: no change
		{note(KindComplaint, "c1", "a@x.test"), Complained, 1},  // complaint after delivery is recorded
		{note(KindSend, "s-late"), Complained, 0},               // late send: nothing
		{note(KindReject, "r", ""), Rejected, 1},                // reject is message-level
		{note(KindRenderingFailure, "rf"), Rejected, 0},         // terminal states stay
		{note(KindComplaint, "c2", "b@y.test"), Rejected, 1},    // recipients still recorded
	}
	for i, st := range steps {
		var ch []Change
		s, ch = Apply(s, st.n)
		if s.Status != st.status || len(ch) != st.events {
			t.Fatalf("step %d (%s): status %s events %d, want %s %d", i, st.n.Kind, s.Status, len(ch), st.status, st.events)
		}
	}
	got := map[string]Status{}
	for _, r := range s.Recipients {
		got[r.Address] = r.Status
	}
	want := map[string]Status{"a@x.test": Complained, "b@y.test": Complained, "c@z.test": Bounced}
	for a, st := range want {
		if got[a] != st {
			t.Errorf("%s: %s, want %s", a, got[a], st)
		}
	}
	if r := s.Recipients[2]; r.Detail != "Permanent/General" {
		t.Errorf("bounce detail %q", r.Detail)
	}
}

func TestAllDeliveredIsDelivered(t *testing.T) {
	s := New([]string{"a@x.test", "b@x.test"})
	s, _ = Apply(s, note(KindSend, "s"))
	s, ch := Apply(s, note(KindDelivery, "d", "a@x.test", "b@x.test"))
	if s.Status != Delivered || len(ch) != 1 || len(ch[0].Recipients) != 2 {
		t.Fatalf("status %s changes %v", s.Status, ch)
	}
}

func TestFailIsTerminal(t *testing.T) {
	s := Fail(New([]string{"a@x.test"}), "SES unreachable")
	s, ch := Apply(s, note(KindDelivery, "d", "a@x.test"))
	if s.Status != Failed || s.Reason != "SES unreachable" || len(ch) != 1 {
		t.Fatalf("%+v %v", s, ch)
	}
}

func TestApplyDoesNotMutateInput(t *testing.T) {
	s := New([]string{"a@x.test"})
	before := s.Recipients[0].Status
	Apply(s, note(KindDelivery, "d", "a@x.test"))
	if s.Recipients[0].Status != before || len(s.Applied) != 0 {
		t.Fatal("Apply mutated its input")
	}
}
