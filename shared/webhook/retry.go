package webhook

import "time"

// schedule is Svix's retry schedule (https://docs.svix.com/retries): after the first attempt
// fails, the next ones come 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after the previous one,
// eight attempts over about 27.5 hours. AgentMail delivers through Svix, so receivers written
// for it see the same rhythm.
var schedule = []time.Duration{
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	10 * time.Hour,
}

// MaxAttempts is the number of attempts before a delivery is dead-lettered.
const MaxAttempts = 8

// Backoff is how long to wait after attempt number attempt (1-based) failed before attempt+1;
// ok is false when attempt was the last one and the task goes to the dead-letter queue.
//
// Every wait fits SQS's ChangeMessageVisibility (at most 12 hours), so the webhooks function can
// retry a task by setting the failed message's visibility timeout to the wait and reporting it
// as a batch item failure, with the queue's redrive policy (maxReceiveCount = MaxAttempts)
// moving it to the dead-letter queue after the last attempt. The attempt number is then
// Task.Attempt + ApproximateReceiveCount - 1. SQS's DelaySeconds (at most 15 minutes) is too
// short for re-sending a new message with the longer waits.
func Backoff(attempt int) (wait time.Duration, ok bool) {
	if attempt < 1 || attempt > len(schedule) {
		return 0, false
	}
	return schedule[attempt-1], true
}
