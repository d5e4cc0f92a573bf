package local

import (
	"context"
	"fmt"
	"time"

	"github.com/pigeon-mail/pigeon/shared/drafts"
	"github.com/pigeon-mail/pigeon/shared/outbound"
)

// DefaultSchedulerInterval is how often the local stack runs the scheduler's work
// (PIGEON_SCHEDULER_INTERVAL; deployed, EventBridge runs it every minute).
const DefaultSchedulerInterval = 5 * time.Second

// schedulerRunTimeout bounds one run, as the scheduler function's Lambda timeout does.
const schedulerRunTimeout = 55 * time.Second

// startScheduler runs what the scheduler function does — send the drafts that are due — every
// PIGEON_SCHEDULER_INTERVAL, through the same send path as the api function. Runs never
// overlap: a tick that comes during a run is dropped.
func (s *Stack) startScheduler(set Settings, out *outbound.Service) error {
	interval := DefaultSchedulerInterval
	if v := set.lookup("PIGEON_SCHEDULER_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("local: PIGEON_SCHEDULER_INTERVAL must be a positive duration such as 5s, not %q", v)
		}
		interval = d
	}
	sender := &drafts.Sender{Store: s.Store, Outbound: out, Now: time.Now, Log: s.log.With("function", "scheduler")}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.stopScheduler = func() {
		cancel()
		<-done
	}
	go func() {
		defer close(done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			run, end := context.WithTimeout(ctx, schedulerRunTimeout)
			sent, err := sender.SendDue(run, time.Now())
			end()
			if err != nil {
				s.log.Warn("scheduler run", "function", "scheduler", "sent", sent, "err", err)
			}
		}
	}()
	return nil
}
