package httpapi

import (
	"errors"
	"net/http"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/config"
	"github.com/pigeon-mail/pigeon/shared/events"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/webhook"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// maxWebhookFilterIDs bounds a webhook's inbox_ids and pod_ids.
const maxWebhookFilterIDs = 10

// Webhooks at three scopes: /v0/webhooks (the organisation),
// /v0/pods/{pod_id}/webhooks and /v0/inboxes/{inbox_id}/webhooks. Tenancy:
//
//   - organisation webhooks are made and seen by organisation keys only;
//   - a pod webhook by organisation keys and the pod's keys (not its inbox keys, for a pod
//     webhook hears the whole pod);
//   - an inbox webhook by organisation keys, its pod's keys and its inbox's keys.
//
// Anything else answers 404 (reads) or 403 (creates), as for other resources.
func (s *server) webhookRoutes() {
	for _, prefix := range []string{"/v0", "/v0/pods/{pod_id}", "/v0/inboxes/{inbox_id}"} {
		s.handle("GET "+prefix+"/webhooks", "webhook_read", s.listWebhooks)
		s.handle("POST "+prefix+"/webhooks", "webhook_create", s.createWebhook)
		s.handle("GET "+prefix+"/webhooks/{webhook_id}", "webhook_read", s.getWebhook)
		s.handle("PATCH "+prefix+"/webhooks/{webhook_id}", "webhook_update", s.updateWebhook)
		s.handle("DELETE "+prefix+"/webhooks/{webhook_id}", "webhook_delete", s.deleteWebhook)
		s.handle("GET "+prefix+"/webhooks/{webhook_id}/headers", "webhook_read", s.getWebhookHeaders)
		s.handle("PATCH "+prefix+"/webhooks/{webhook_id}/headers", "webhook_update", s.updateWebhookHeaders)
	}
}

// webhookScope is the scope of a webhook route: the route's pod or inbox, resolved and
// checked against the key; both empty for /v0/webhooks.
type webhookScope struct {
	podID, inboxID string
}

func (s *server) webhookScope(r *http.Request, p auth.Principal) (webhookScope, error) {
	switch {
	case r.PathValue("inbox_id") != "":
		in, err := s.inbox(r, p)
		if err != nil {
			return webhookScope{}, err
		}
		return webhookScope{podID: in.PodID, inboxID: in.InboxID}, nil
	case r.PathValue("pod_id") != "":
		pod, err := s.pod(r, p)
		if err != nil {
			return webhookScope{}, err
		}
		return webhookScope{podID: pod.PodID}, nil
	}
	return webhookScope{}, nil
}

// canSeeWebhook applies the tenancy rules above.
func canSeeWebhook(p auth.Principal, w store.Webhook) bool {
	switch {
	case w.OrgID != p.OrgID:
		return false
	case p.InboxID != "":
		return w.ScopeInboxID == p.InboxID
	case p.PodID != "":
		return w.ScopePodID == p.PodID
	}
	return true
}

// webhook resolves {webhook_id} within the route's scope.
func (s *server) webhook(r *http.Request, p auth.Principal) (store.Webhook, error) {
	sc, err := s.webhookScope(r, p)
	if err != nil {
		return store.Webhook{}, err
	}
	w, err := s.st.GetWebhook(r.Context(), r.PathValue("webhook_id"))
	if errors.Is(err, store.ErrNotFound) {
		return store.Webhook{}, notFound("webhook")
	}
	if err != nil {
		return store.Webhook{}, err
	}
	if !canSeeWebhook(p, w) ||
		(sc.inboxID != "" && w.ScopeInboxID != sc.inboxID) ||
		(sc.inboxID == "" && sc.podID != "" && (w.ScopePodID != sc.podID || w.ScopeInboxID != "")) {
		return store.Webhook{}, notFound("webhook")
	}
	return w, nil
}

func (s *server) listWebhooks(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	pg, err := listPage(r.URL.Query())
	if err != nil {
		return err
	}
	sc, err := s.webhookScope(r, p)
	if err != nil {
		return err
	}
	resp := wire.ListWebhooksResponse{Limit: pg.Limit, Webhooks: []wire.Webhook{}}
	// Narrow to the key: a pod key listing the organisation's webhooks sees its pod's; an
	// inbox key its inbox's, and no pod webhooks at all.
	if sc.podID == "" && sc.inboxID == "" {
		sc = webhookScope{podID: p.PodID, inboxID: p.InboxID}
	}
	if p.InboxID != "" && sc.inboxID == "" {
		resp.Count = 0
		return ok(w, resp)
	}
	list, next, err := s.st.ListWebhooks(r.Context(), p.OrgID, sc.podID, sc.inboxID, pg)
	if err != nil {
		return err
	}
	for _, wh := range list {
		if canSeeWebhook(p, wh) {
			resp.Webhooks = append(resp.Webhooks, wh.Webhook)
		}
	}
	resp.NextPageToken, resp.Count = next, len(resp.Webhooks)
	return ok(w, resp)
}

func (s *server) createWebhook(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	sc, err := s.webhookScope(r, p)
	if err != nil {
		return err
	}
	// A key cannot make a webhook that hears more than the key may see.
	if (sc.podID == "" && p.PodID != "") || (sc.inboxID == "" && p.InboxID != "") {
		return forbidden("webhook_create")
	}
	var req wire.CreateWebhookRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	url := strings.TrimSpace(req.URL)
	if url == "" {
		return invalid("url", "url is required")
	}
	if err := webhook.ValidateURL(url, s.cfg.Mode == config.Deployed); err != nil {
		return invalid("url", "%s", err.Error())
	}
	if len(req.EventTypes) == 0 {
		return invalid("event_types", "event_types must name at least one event type")
	}
	types, err := s.webhookEventTypes(p, req.EventTypes)
	if err != nil {
		return err
	}
	if utf8.RuneCountInString(req.ClientID) > maxClientIDLen {
		return invalid("client_id", "client_id must be at most %d characters", maxClientIDLen)
	}
	if req.Headers != nil {
		if len(req.Headers) == 0 {
			return invalid("headers", "headers must have at least one entry when present")
		}
		if err := webhook.ValidateHeaders(req.Headers); err != nil {
			return invalid("headers", "%s", err.Error())
		}
	}
	wh := store.Webhook{
		Webhook: wire.Webhook{URL: url, EventTypes: types, Secret: webhook.NewSecret(), ClientID: req.ClientID},
		OrgID:   p.OrgID, ScopePodID: sc.podID, ScopeInboxID: sc.inboxID, Headers: req.Headers,
	}
	switch {
	case sc.inboxID != "":
		wh.InboxIDs = []string{sc.inboxID}
	case sc.podID != "":
		wh.PodIDs = []string{sc.podID}
		if wh.InboxIDs, err = s.webhookInboxes(r, p, sc, nil, req.InboxIDs, nil); err != nil {
			return err
		}
	default:
		if wh.InboxIDs, err = s.webhookInboxes(r, p, sc, nil, req.InboxIDs, nil); err != nil {
			return err
		}
		if wh.PodIDs, err = s.webhookPods(r, p, nil, req.PodIDs, nil); err != nil {
			return err
		}
	}
	created, _, err := s.st.CreateWebhook(r.Context(), wh)
	if err != nil {
		return err
	}
	if !canSeeWebhook(p, created) {
		return notFound("webhook") // a client_id replay of a webhook outside this key's scope
	}
	return ok(w, created.Webhook)
}

// webhookEventTypes checks event types (known, and permitted to the key: the
// message.received.spam/.blocked/.unauthenticated ones need a label permission, 403 without)
// and drops duplicates.
func (s *server) webhookEventTypes(p auth.Principal, ts []string) ([]string, error) {
	var out []string
	for _, t := range ts {
		t = strings.TrimSpace(t)
		if !events.IsType(t) {
			return nil, invalid("event_types", "unknown event type %q", t)
		}
		if perm := events.Permission(t); perm != "" && !p.Can(perm) {
			return nil, forbidden(perm)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// webhookInboxes is a webhook's inbox filter after removing remove and adding add: every
// added inbox must exist and be within the key's scope and the route's pod; at most 10.
func (s *server) webhookInboxes(r *http.Request, p auth.Principal, sc webhookScope, current, add, remove []string) ([]string, error) {
	out := slices.DeleteFunc(slices.Clone(current), func(id string) bool {
		return slices.ContainsFunc(remove, func(rm string) bool { return store.NormalizeAddress(rm) == id })
	})
	for _, id := range add {
		id = store.NormalizeAddress(id)
		if slices.ContainsFunc(remove, func(rm string) bool { return store.NormalizeAddress(rm) == id }) || slices.Contains(out, id) {
			continue // remove wins over add
		}
		in, err := s.st.GetInbox(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (!p.CanSeeInbox(in) || (sc.podID != "" && in.PodID != sc.podID))) {
			return nil, invalid("inbox_ids", "inbox %s not found", id)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	if len(out) > maxWebhookFilterIDs {
		return nil, invalid("inbox_ids", "a webhook can name at most %d inboxes", maxWebhookFilterIDs)
	}
	return out, nil
}

// webhookPods is the pod filter of an organisation webhook, like webhookInboxes.
func (s *server) webhookPods(r *http.Request, p auth.Principal, current, add, remove []string) ([]string, error) {
	out := slices.DeleteFunc(slices.Clone(current), func(id string) bool { return slices.Contains(remove, id) })
	for _, id := range add {
		id = strings.TrimSpace(id)
		if slices.Contains(remove, id) || slices.Contains(out, id) {
			continue
		}
		ok, err := s.st.PodExists(r.Context(), p.OrgID, id)
		if err != nil {
			return nil, err
		}
		if !ok || !p.CanSeePod(id) {
			return nil, invalid("pod_ids", "pod %s not found", id)
		}
		out = append(out, id)
	}
	if len(out) > maxWebhookFilterIDs {
		return nil, invalid("pod_ids", "a webhook can name at most %d pods", maxWebhookFilterIDs)
	}
	return out, nil
}

func (s *server) getWebhook(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	wh, err := s.webhook(r, p)
	if err != nil {
		return err
	}
	return ok(w, wh.Webhook)
}

// updateWebhook applies an update body: a non-empty event_types replaces the set; inbox
// filters change at the organisation and pod scopes, pod filters at the organisation scope
// (the fields of other scopes are refused as unknown: notOnRoute).
func (s *server) updateWebhook(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	wh, err := s.webhook(r, p)
	if err != nil {
		return err
	}
	var req wire.UpdateWebhookRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	var types []string
	if len(req.EventTypes) > 0 {
		if types, err = s.webhookEventTypes(p, req.EventTypes); err != nil {
			return err
		}
	}
	sc := webhookScope{podID: wh.ScopePodID, inboxID: wh.ScopeInboxID}
	updated, err := s.st.UpdateWebhook(r.Context(), wh.WebhookID, func(cur *store.Webhook) error {
		if types != nil {
			cur.EventTypes = types
		}
		if sc.inboxID != "" {
			return nil
		}
		var err error
		if cur.InboxIDs, err = s.webhookInboxes(r, p, sc, cur.InboxIDs, req.AddInboxIDs, req.RemoveInboxIDs); err != nil {
			return err
		}
		if sc.podID == "" {
			cur.PodIDs, err = s.webhookPods(r, p, cur.PodIDs, req.AddPodIDs, req.RemovePodIDs)
		}
		return err
	})
	if err != nil {
		return err
	}
	return ok(w, updated.Webhook)
}

func (s *server) deleteWebhook(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	wh, err := s.webhook(r, p)
	if err != nil {
		return err
	}
	if err := s.st.DeleteWebhook(r.Context(), wh.WebhookID); err != nil {
		return err
	}
	return noContent(w)
}

func (s *server) getWebhookHeaders(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	wh, err := s.webhook(r, p)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(wh.Headers))
	for name := range wh.Headers {
		names = append(names, name)
	}
	sort.Strings(names)
	return ok(w, wire.WebhookHeaderNamesResponse{HeaderNames: names})
}

// updateWebhookHeaders sets, replaces (names compare case-insensitively) and removes custom
// headers; at least one of headers and remove_headers, and no name in both.
func (s *server) updateWebhookHeaders(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	wh, err := s.webhook(r, p)
	if err != nil {
		return err
	}
	var req wire.UpdateWebhookHeadersRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if len(req.Headers) == 0 && len(req.RemoveHeaders) == 0 {
		return invalid("", "give headers to set or remove_headers to remove")
	}
	for _, rm := range req.RemoveHeaders {
		for name := range req.Headers {
			if strings.EqualFold(name, rm) {
				return invalid("remove_headers", "header %s is both set and removed", name)
			}
		}
	}
	_, err = s.st.UpdateWebhook(r.Context(), wh.WebhookID, func(cur *store.Webhook) error {
		h := map[string]string{}
		for name, value := range cur.Headers {
			if !slices.ContainsFunc(req.RemoveHeaders, func(rm string) bool { return strings.EqualFold(rm, name) }) {
				h[name] = value
			}
		}
		for name, value := range req.Headers {
			for old := range h {
				if strings.EqualFold(old, name) {
					delete(h, old)
				}
			}
			h[name] = value
		}
		if err := webhook.ValidateHeaders(h); err != nil {
			return invalid("headers", "%s", err.Error())
		}
		if len(h) == 0 {
			h = nil
		}
		cur.Headers = h
		return nil
	})
	if err != nil {
		return err
	}
	return noContent(w)
}
