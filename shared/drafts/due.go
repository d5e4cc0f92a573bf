package drafts

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pigeon-mail/pigeon/shared/outbound"
	"github.com/pigeon-mail/pigeon/shared/ses"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// MaxSendAttempts is how many times a scheduled send is tried when its failures may pass
// (throttling, SES or the store unreachable) before the draft is marked failed.
const MaxSendAttempts = 5

// Scheduler tuning: drafts read per due shard and run, sends in parallel, and the time kept
// in reserve before the context's deadline (no draft is claimed later than that, so none is
// left sending when a Lambda run ends).
const (
	dueBatch    = 100
	dueParallel = 4
	dueReserve  = 20 * time.Second
)

// SendDue sends the scheduled drafts whose send_at is at or before now, and reports how many
// it sent. Each is claimed first (store.ClaimDraft), so concurrent runs never send one twice;
// a draft whose send failed in a way that may pass stays scheduled for the next run (at most
// MaxSendAttempts tries), one that cannot succeed is marked failed with the reason (see the
// package comment). The error joins what went wrong with individual drafts; the others are
// sent regardless.
func (s *Sender) SendDue(ctx context.Context, now time.Time) (int, error) {
	due, err := s.Store.DueDrafts(ctx, now, dueBatch)
	if err != nil {
		return 0, err
	}
	var (
		mu   sync.Mutex
		sent int
		errs []error
	)
	g, gctx := errgroup.WithContext(context.WithoutCancel(ctx))
	g.SetLimit(dueParallel)
	for _, d := range due {
		if dl, ok := ctx.Deadline(); (ok && time.Until(dl) < dueReserve) || ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			ok, err := s.sendDue(gctx, d, now)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				sent++
			}
			if err != nil {
				errs = append(errs, err)
			}
			return nil
		})
	}
	_ = g.Wait()
	return sent, errors.Join(errs...)
}

// sendDue claims and sends one due draft; ok when it was sent.
func (s *Sender) sendDue(ctx context.Context, d store.DueDraft, now time.Time) (ok bool, err error) {
	claim, err := s.Store.ClaimDraft(ctx, d.InboxID, d.DraftID, sendKey(d.DraftID, ""), sendFingerprint(d.DraftID, SendOptions{}), true, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, s.Store.ForgetDue(ctx, d) // its inbox was deleted
	case errors.Is(err, store.ErrDraftSending), errors.Is(err, store.ErrDraftNotDue):
		return false, nil // another run has it, or it was rescheduled
	case err != nil:
		return false, err
	}
	log := s.log().With("inbox", claim.InboxID, "draft_id", claim.DraftID)
	inbox, err := s.Store.GetInbox(ctx, claim.InboxID)
	var res outbound.Result
	if err == nil {
		res, err = s.send(ctx, inbox, claim, claim.Labels)
	}
	if err == nil {
		s.finish(ctx, claim, res)
		log.InfoContext(ctx, "drafts: scheduled draft sent", "message_id", res.MessageID, "replayed", res.Replayed)
		return true, nil
	}

	release := store.DraftRelease{Status: wire.DraftScheduled, CountAttempt: true}
	if permanent(err) || claim.SendAttempts+1 >= MaxSendAttempts {
		release.Status, release.Error = wire.DraftFailed, reason(err)
		log.WarnContext(ctx, "drafts: scheduled draft failed", "attempt", claim.SendAttempts+1, "err", err)
	} else {
		log.WarnContext(ctx, "drafts: scheduled draft not sent; retrying at the next run", "attempt", claim.SendAttempts+1, "err", err)
	}
	if rerr := s.Store.ReleaseDraft(context.WithoutCancel(ctx), claim, release); rerr != nil {
		return false, errors.Join(err, rerr)
	}
	if release.Status == wire.DraftFailed {
		return false, nil // recorded on the draft; nothing for the caller to retry
	}
	return false, err
}

// permanent reports whether a send failed for a reason that retrying will not change.
func permanent(err error) bool {
	var (
		ie *outbound.InvalidError
		tl *outbound.TooLargeError
		be *outbound.BlockedError
	)
	return errors.As(err, &ie) || errors.As(err, &tl) || errors.As(err, &be) ||
		errors.Is(err, ses.ErrRejected) || errors.Is(err, store.ErrNotFound)
}

// reason is the send_error shown on a failed draft.
func reason(err error) string {
	if errors.Is(err, store.ErrNotFound) {
		return "the inbox no longer exists"
	}
	return err.Error()
}
