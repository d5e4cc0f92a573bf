package events

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Why a subscription is refused. Errors from Authorize wrap one of these; their text is meant for
// the client (it names the offending id or type and nothing the key may not know).
var (
	ErrInvalid   = errors.New("invalid subscription")
	ErrForbidden = errors.New("subscription not allowed for this key")
	ErrNotFound  = errors.New("no such inbox or pod")
)

// denial is a refusal: a client-facing message wrapping one of the Err values.
type denial struct {
	kind error
	msg  string
}

func (d denial) Error() string { return d.msg }
func (d denial) Unwrap() error { return d.kind }

func deny(kind error, msg string) error { return denial{kind: kind, msg: msg} }

// Scope is the reach of the API key a subscription is made with: its organisation, and its pod
// or inbox for narrower keys (an inbox key carries the pod of its inbox too, like
// auth.Principal). Permissions follows ApiKeyPermissions: nil grants everything, otherwise only
// the true entries.
type Scope struct {
	OrgID       string
	PodID       string
	InboxID     string
	Permissions map[string]bool
}

func (s Scope) can(perm string) bool {
	return perm == "" || s.Permissions == nil || s.Permissions[perm]
}

// Directory resolves the ids a subscription names. The store implements it; the lookups stay
// inside organisation orgID.
type Directory interface {
	// InboxPod returns the pod of inbox inboxID; found is false when the organisation has no
	// such inbox.
	InboxPod(ctx context.Context, orgID, inboxID string) (podID string, found bool, err error)
	// PodExists reports whether the organisation has pod podID.
	PodExists(ctx context.Context, orgID, podID string) (bool, error)
}

// Authorize checks the filters a client asked for (sub's OrgID is ignored) against the key's
// scope and returns the subscription to store. Errors wrapping ErrInvalid, ErrForbidden or
// ErrNotFound are refusals for the client; any other error is the directory's.
//
// The rules, chosen to agree with the REST API's tenancy (httpapi answers 404 for anything
// outside a key's scope, so a key cannot tell someone else's inbox from a free address):
//
//   - every event type must exist (ErrInvalid) and the key must hold the permission it needs
//     (Permission; ErrForbidden);
//   - an inbox key may name only its own inbox and no pods at all (ErrForbidden for pod_ids,
//     ErrNotFound for another inbox);
//   - a pod key may name only its pod and inboxes in it; anything else is ErrNotFound, whether it
//     exists or not;
//   - an organisation key may name any inbox or pod of the organisation; unknown ones are
//     ErrNotFound.
//
// Then the result is narrowed to what the key may see: empty inbox and pod filters become the
// key's inbox (inbox key) or pod (pod key), and an empty event type list becomes the permitted
// types when the key lacks a label permission. Duplicates are dropped, inbox ids lower-cased.
func (s Scope) Authorize(ctx context.Context, dir Directory, sub Subscription) (Subscription, error) {
	out := Subscription{
		OrgID:      s.OrgID,
		InboxIDs:   dedupe(sub.InboxIDs, strings.ToLower),
		PodIDs:     dedupe(sub.PodIDs, nil),
		EventTypes: dedupe(sub.EventTypes, nil),
	}
	for _, f := range []struct {
		name string
		ids  []string
	}{{"inbox_ids", sub.InboxIDs}, {"pod_ids", sub.PodIDs}, {"event_types", sub.EventTypes}} {
		if slices.ContainsFunc(f.ids, func(id string) bool { return strings.TrimSpace(id) == "" }) {
			// Dropping it would widen the subscription (an empty filter means everything).
			return Subscription{}, deny(ErrInvalid, f.name+" must not contain empty strings")
		}
	}
	if err := CheckTypes(out.EventTypes); err != nil {
		return Subscription{}, err
	}
	for _, t := range out.EventTypes {
		if !s.can(Permission(t)) {
			return Subscription{}, deny(ErrForbidden, fmt.Sprintf("receiving %s needs the %s permission", t, Permission(t)))
		}
	}
	if len(out.EventTypes) == 0 {
		for _, t := range allTypes {
			if !s.can(Permission(t)) {
				out.EventTypes = s.permittedTypes()
				break
			}
		}
	}
	if err := s.checkPods(ctx, dir, out.PodIDs); err != nil {
		return Subscription{}, err
	}
	if err := s.checkInboxes(ctx, dir, out.InboxIDs); err != nil {
		return Subscription{}, err
	}
	if len(out.InboxIDs) == 0 && len(out.PodIDs) == 0 {
		switch {
		case s.InboxID != "":
			out.InboxIDs = []string{s.InboxID}
		case s.PodID != "":
			out.PodIDs = []string{s.PodID}
		}
	}
	return out, nil
}

func (s Scope) permittedTypes() []string {
	var ts []string
	for _, t := range allTypes {
		if s.can(Permission(t)) {
			ts = append(ts, t)
		}
	}
	return ts
}

func (s Scope) checkPods(ctx context.Context, dir Directory, podIDs []string) error {
	if len(podIDs) > 0 && s.InboxID != "" {
		return deny(ErrForbidden, "an inbox-scoped key can subscribe only to its inbox, not to pods")
	}
	for _, id := range podIDs {
		if s.PodID != "" {
			if id != s.PodID {
				return deny(ErrNotFound, fmt.Sprintf("pod %s not found", id))
			}
			continue
		}
		ok, err := dir.PodExists(ctx, s.OrgID, id)
		if err != nil {
			return fmt.Errorf("events: look up pod %s: %w", id, err)
		}
		if !ok {
			return deny(ErrNotFound, fmt.Sprintf("pod %s not found", id))
		}
	}
	return nil
}

func (s Scope) checkInboxes(ctx context.Context, dir Directory, inboxIDs []string) error {
	for _, id := range inboxIDs {
		if s.InboxID != "" {
			if id != s.InboxID {
				return deny(ErrNotFound, fmt.Sprintf("inbox %s not found", id))
			}
			continue
		}
		pod, found, err := dir.InboxPod(ctx, s.OrgID, id)
		if err != nil {
			return fmt.Errorf("events: look up inbox %s: %w", id, err)
		}
		if !found || (s.PodID != "" && pod != s.PodID) {
			return deny(ErrNotFound, fmt.Sprintf("inbox %s not found", id))
		}
	}
	return nil
}

// dedupe returns the distinct entries of ids (trimmed, then mapped by norm when given), in
// their first order; nil when there are none.
func dedupe(ids []string, norm func(string) string) []string {
	var out []string
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if norm != nil {
			id = norm(id)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
