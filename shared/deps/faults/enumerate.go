package faults

import (
	"context"
	"fmt"
	"testing"
)

// Scenario is one handler invocation, run on fresh resources each time (a new table, bucket,
// queue: tests share the servers).
type Scenario struct {
	// Setup creates the resources, with every AWS client the handler uses going through inj,
	// and returns the invocation. What Setup itself calls is not recorded (inj is not armed).
	Setup func(t *testing.T, inj *Injector) Run
	// Attempts bounds the invocations: the first and the retries; 4 when 0.
	Attempts int
	// Known names the subtests ("after/7/SESv2.SendEmail") whose state is known to differ
	// from the clean run's, with the reason. Such a subtest is skipped with its reason and
	// its diff when it differs, and fails when it no longer does (the entry must go).
	Known map[string]string
}

// Run is one prepared invocation.
type Run struct {
	// Invoke delivers the invocation once, as its event source would (the same event every
	// time for at-least-once sources; for SQS partial batch responses, the items that failed
	// last time; for the API, the same request with the same Idempotency-Key) and reports
	// whether the source would deliver it again.
	Invoke func(ctx context.Context) (again bool)
	// State is what the invocation left behind, once everything it set in motion settled (SES
	// notifications handled, …). The injector is disarmed by then.
	State func(ctx context.Context) State
}

// Clean runs the scenario without a failure and returns its final state and the calls it
// made.
func Clean(t *testing.T, sc Scenario) (State, []Call) {
	t.Helper()
	return play(t, sc, 0, None, false)
}

// Enumerate runs sc once cleanly, then for every k from 1 to the number of calls the clean run
// made and for both kinds of failure, a run whose k-th call fails, retried as its event source
// retries; each must end in the clean run's state. A call added to a handler is covered
// without touching its test. The subtests are named kind/k/Service.Operation (the operation
// of the clean run's k-th call).
func Enumerate(t *testing.T, sc Scenario) {
	t.Helper()
	want, calls := Clean(t, sc)
	if len(calls) == 0 {
		t.Fatal("faults: the clean run made no AWS call")
	}
	for _, kind := range []Kind{Before, After} {
		for k := 1; k <= len(calls); k++ {
			name := fmt.Sprintf("%s/%d/%s", kind, k, calls[k-1])
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				reason, known := sc.Known[name]
				got, _ := play(t, sc, k, kind, known)
				d := Diff(got, want)
				switch {
				case d != "" && known:
					t.Skipf("known: %s\n%s", reason, d)
				case d != "":
					t.Errorf("the final state differs from the clean run's:\n%s", d)
				case known:
					t.Errorf("listed as known to differ (%s) but equals the clean run: drop it from Known", reason)
				}
			})
		}
	}
}

// play runs sc with the k-th call failing; known: a run that keeps failing is expected (its
// state says how), not an error of its own.
func play(t *testing.T, sc Scenario, k int, kind Kind, known bool) (State, []Call) {
	t.Helper()
	inj := &Injector{}
	run := sc.Setup(t, inj)
	attempts := sc.Attempts
	if attempts == 0 {
		attempts = 4
	}
	ctx := context.Background()
	inj.Arm(k, kind)
	var again bool
	var first []Call
	for i := range attempts {
		again = run.Invoke(ctx)
		if i == 0 {
			first = inj.Calls()
		}
		if !again {
			break
		}
	}
	injected := inj.Injected()
	inj.Disarm()
	switch {
	case again && known:
		t.Logf("still failing after %d invocations", attempts)
	case again:
		t.Errorf("still failing after %d invocations (calls: %v)", attempts, Names(inj.Calls()))
	case k > 0 && !injected:
		t.Errorf("call %d was never made (calls: %v)", k, Names(inj.Calls()))
	case k == 0 && len(first) != len(inj.Calls()):
		t.Errorf("the clean run was retried (calls: %v)", Names(inj.Calls()))
	}
	return run.State(ctx), first
}
