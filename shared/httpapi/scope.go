package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Tenancy is enforced here and only here: every route that names an inbox, a pod, a thread or
// an API key, or acts on a scope as a whole (ownScope), resolves it through these functions,
// which check the key's scope and answer 404 NotFoundError for anything outside it, exactly as
// for something that does not exist (a pod key cannot tell another pod's inbox from a free
// address). Lists at a wider scope than the key's are narrowed to the key's scope (listScope).
// The route matrix test (matrix_test.go) holds every registered route to these rules.

// inboxID normalises an {inbox_id}: inbox ids are lower-cased addresses.
func inboxID(r *http.Request) string {
	return strings.ToLower(strings.TrimSpace(r.PathValue("inbox_id")))
}

// inbox resolves the route's {inbox_id} (and {pod_id}, when the route is under a pod).
func (s *server) inbox(r *http.Request, p auth.Principal) (store.InboxRecord, error) {
	if podID := r.PathValue("pod_id"); podID != "" && !p.CanSeePod(podID) {
		return store.InboxRecord{}, notFound("inbox")
	}
	rec, err := s.st.GetInbox(r.Context(), inboxID(r))
	if errors.Is(err, store.ErrNotFound) {
		return store.InboxRecord{}, notFound("inbox")
	}
	if err != nil {
		return store.InboxRecord{}, err
	}
	if !p.CanSeeInbox(rec) {
		return store.InboxRecord{}, notFound("inbox")
	}
	if podID := r.PathValue("pod_id"); podID != "" && rec.PodID != podID {
		return store.InboxRecord{}, notFound("inbox")
	}
	return rec, nil
}

// pod resolves the route's {pod_id}.
func (s *server) pod(r *http.Request, p auth.Principal) (wire.Pod, error) {
	podID := r.PathValue("pod_id")
	if !p.CanSeePod(podID) {
		return wire.Pod{}, notFound("pod")
	}
	pod, err := s.st.GetPod(r.Context(), p.OrgID, podID)
	if errors.Is(err, store.ErrNotFound) {
		return wire.Pod{}, notFound("pod")
	}
	return pod, err
}

// listScope is the scope of a thread (or other org/pod/inbox-wide) list or lookup: the route's
// scope (…/inboxes/{inbox_id}, …/pods/{pod_id} or the organisation) narrowed to the key's.
func (s *server) listScope(r *http.Request, p auth.Principal) (store.Scope, error) {
	sc := store.Scope{OrgID: p.OrgID, PodID: p.PodID, InboxID: p.InboxID}
	switch {
	case r.PathValue("inbox_id") != "":
		in, err := s.inbox(r, p)
		if err != nil {
			return sc, err
		}
		sc.PodID, sc.InboxID = in.PodID, in.InboxID
	case r.PathValue("pod_id") != "":
		pod, err := s.pod(r, p)
		if err != nil {
			return sc, err
		}
		sc.PodID = pod.PodID
	}
	return sc, nil
}

// ownScope is the route's scope (…/inboxes/{inbox_id}, …/pods/{pod_id} or the organisation)
// for routes that act on the scope itself — creating an API key there, its allow and block
// lists — which the key must cover entirely. A pod or inbox the key cannot see answers 404 as
// everywhere; a visible scope wider than the key's (a pod key on the organisation, an inbox
// key on its pod) answers 403 missing_permission.
func (s *server) ownScope(r *http.Request, p auth.Principal, perm string) (store.Scope, error) {
	switch {
	case r.PathValue("inbox_id") != "":
		in, err := s.inbox(r, p)
		if err != nil {
			return store.Scope{}, err
		}
		return store.Scope{OrgID: p.OrgID, PodID: in.PodID, InboxID: in.InboxID}, nil
	case r.PathValue("pod_id") != "":
		pod, err := s.pod(r, p)
		if err != nil {
			return store.Scope{}, err
		}
		if p.InboxID != "" {
			return store.Scope{}, wideScope(perm, "pod "+pod.PodID)
		}
		return store.Scope{OrgID: p.OrgID, PodID: pod.PodID}, nil
	}
	if p.PodID != "" || p.InboxID != "" {
		return store.Scope{}, wideScope(perm, "the organisation")
	}
	return store.Scope{OrgID: p.OrgID}, nil
}

// apiKey resolves the route's {api_key_id} within the route's scope narrowed to the key's
// (listScope): a pod key reaches the keys of its pod and of its pod's inboxes, an inbox key
// those of its inbox.
func (s *server) apiKey(r *http.Request, p auth.Principal) (store.APIKey, error) {
	sc, err := s.listScope(r, p)
	if err != nil {
		return store.APIKey{}, err
	}
	k, err := s.st.GetAPIKey(r.Context(), r.PathValue("api_key_id"))
	if errors.Is(err, store.ErrNotFound) {
		return store.APIKey{}, notFound("api key")
	}
	if err != nil {
		return store.APIKey{}, err
	}
	if k.OrgID != sc.OrgID || (sc.PodID != "" && k.PodID != sc.PodID) || (sc.InboxID != "" && k.InboxID != sc.InboxID) {
		return store.APIKey{}, notFound("api key")
	}
	return k, nil
}

// thread resolves the route's {thread_id} within scope sc.
func (s *server) thread(r *http.Request, p auth.Principal, sc store.Scope) (store.ThreadRecord, error) {
	t, err := s.st.GetThread(r.Context(), r.PathValue("thread_id"))
	if errors.Is(err, store.ErrNotFound) {
		return store.ThreadRecord{}, notFound("thread")
	}
	if err != nil {
		return store.ThreadRecord{}, err
	}
	if !p.CanSeeThread(t) || t.OrgID != sc.OrgID ||
		(sc.PodID != "" && t.PodID != sc.PodID) || (sc.InboxID != "" && t.InboxID != sc.InboxID) {
		return store.ThreadRecord{}, notFound("thread")
	}
	return t, nil
}

// hiddenLabels are the classification labels left out of lists unless asked for, each with the
// permission a key needs to see them.
var hiddenLabels = []struct{ label, param, perm string }{
	{wire.LabelSpam, "include_spam", "label_spam_read"},
	{wire.LabelBlocked, "include_blocked", "label_blocked_read"},
	{wire.LabelUnauthenticated, "include_unauthenticated", "label_unauthenticated_read"},
	{wire.LabelTrash, "include_trash", "label_trash_read"},
}

// canSeeLabels reports whether the key may read a message carrying labels: one that is spam,
// blocked, unauthenticated or trash needs the matching label_*_read permission.
func canSeeLabels(p auth.Principal, labels []string) bool {
	for _, h := range hiddenLabels {
		for _, l := range labels {
			if l == h.label && !p.Can(h.perm) {
				return false
			}
		}
	}
	return true
}
