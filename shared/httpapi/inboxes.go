package httpapi

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Limits on inbox fields (AgentMail's, plus RFC 5321's 64-octet local part).
const (
	maxMetadataKeys   = 256
	maxMetadataLen    = 256 // characters in a key or a string value
	maxDisplayNameLen = 256
	maxClientIDLen    = 256
	maxUsernameLen    = 64
	randomUsernameLen = 10
)

// usernamePattern is the subset of RFC 5321's dot-atom Pigeon accepts as an inbox's local
// part: lower-case letters, digits and . _ - +, no leading, trailing or doubled dot. The other
// atext characters (/ ? # % …) are legal in mail but break URLs and shell scripts.
var usernamePattern = regexp.MustCompile(`^[a-z0-9_+-]+(\.[a-z0-9_+-]+)*$`)

func (s *server) inboxRoutes() {
	for _, prefix := range []string{"/v0", "/v0/pods/{pod_id}"} {
		s.handle("GET "+prefix+"/inboxes", "inbox_read", s.listInboxes)
		s.handle("POST "+prefix+"/inboxes", "inbox_create", s.createInbox)
		s.handle("GET "+prefix+"/inboxes/{inbox_id}", "inbox_read", s.getInbox)
		s.handle("PATCH "+prefix+"/inboxes/{inbox_id}", "inbox_update", s.updateInbox)
		s.handle("DELETE "+prefix+"/inboxes/{inbox_id}", "inbox_delete", s.deleteInbox)
	}
}

// listInboxes lists the inboxes of the organisation or of the route's pod, narrowed to the
// key's scope: a pod key sees its pod's inboxes, an inbox key its own inbox.
func (s *server) listInboxes(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	pg, err := listPage(r.URL.Query())
	if err != nil {
		return err
	}
	podID := p.PodID
	if r.PathValue("pod_id") != "" {
		pod, err := s.pod(r, p)
		if err != nil {
			return err
		}
		podID = pod.PodID
	}
	resp := wire.ListInboxesResponse{Limit: pg.Limit, Inboxes: []wire.Inbox{}}
	if p.InboxID != "" {
		in, err := s.st.GetInbox(r.Context(), p.InboxID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err == nil && pg.Token == "" && (podID == "" || in.PodID == podID) {
			resp.Inboxes = append(resp.Inboxes, in.Inbox)
		}
	} else {
		if resp.Inboxes, resp.NextPageToken, err = s.st.ListInboxes(r.Context(), p.OrgID, podID, pg); err != nil {
			return err
		}
		resp.Inboxes = wire.NonNil(resp.Inboxes)
	}
	resp.Count = len(resp.Inboxes)
	return ok(w, resp)
}

func (s *server) getInbox(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	in, err := s.inbox(r, p)
	if err != nil {
		return err
	}
	return ok(w, in.Inbox)
}

// createInbox creates an inbox `username@domain` (lower-cased) in the route's pod, the key's
// pod, or the organisation's default pod. A repeated client_id returns the inbox it created.
func (s *server) createInbox(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if p.InboxID != "" {
		return forbidden("inbox_create")
	}
	var req wire.CreateInboxRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	in, err := s.newInbox(req)
	if err != nil {
		return err
	}
	switch {
	case r.PathValue("pod_id") != "":
		pod, err := s.pod(r, p)
		if err != nil {
			return err
		}
		in.PodID = pod.PodID
	case p.PodID != "":
		in.PodID = p.PodID
	default:
		pod, err := s.st.EnsureDefaultPod(r.Context(), p.OrgID)
		if err != nil {
			return err
		}
		in.PodID = pod.PodID
	}
	created, _, err := s.st.CreateInbox(r.Context(), p.OrgID, in)
	if errors.Is(err, store.ErrTaken) {
		return taken("inbox address " + in.InboxID)
	}
	if err != nil {
		return err
	}
	if created.PodID != in.PodID && (r.PathValue("pod_id") != "" || !p.CanSeePod(created.PodID)) {
		// A client_id replay naming another pod than the original create; the inbox itself is
		// not shown, as it may lie outside the key's scope.
		return invalid("client_id", "client_id was already used for an inbox in another pod")
	}
	return ok(w, created)
}

// newInbox validates a create request and returns the inbox to create (without its pod).
func (s *server) newInbox(req wire.CreateInboxRequest) (wire.Inbox, error) {
	username := strings.ToLower(strings.TrimSpace(req.Username))
	if username == "" {
		username = randomUsername()
	}
	if len(username) > maxUsernameLen || !usernamePattern.MatchString(username) {
		return wire.Inbox{}, invalid("username", "username must be 1 to %d characters of a-z, 0-9, '.', '_', '-' and '+', without leading, trailing or consecutive dots", maxUsernameLen)
	}
	domain := strings.ToLower(strings.TrimSpace(req.Domain))
	if domain == "" {
		domain = s.cfg.DefaultDomain()
	}
	if !s.cfg.OwnsDomain(domain) {
		return wire.Inbox{}, invalid("domain", "domain %q is not one of this deployment's domains (%s)", domain, strings.Join(s.cfg.Domains, ", "))
	}
	if err := checkDisplayName(req.DisplayName); err != nil {
		return wire.Inbox{}, err
	}
	if utf8.RuneCountInString(req.ClientID) > maxClientIDLen {
		return wire.Inbox{}, invalid("client_id", "client_id must be at most %d characters", maxClientIDLen)
	}
	if err := checkMetadata(req.Metadata, false); err != nil {
		return wire.Inbox{}, err
	}
	delivery := req.Delivery
	if delivery == "" {
		delivery = wire.DeliveryEmail
	}
	if err := checkDelivery(delivery); err != nil {
		return wire.Inbox{}, err
	}
	addr := username + "@" + domain
	return wire.Inbox{
		InboxID: addr, Email: addr, DisplayName: strings.TrimSpace(req.DisplayName),
		ClientID: req.ClientID, Metadata: req.Metadata, Delivery: delivery,
	}, nil
}

// updateInboxRequest is UpdateInboxRequest with metadata kept raw, so that absent, null and
// {} can be told apart.
type updateInboxRequest struct {
	DisplayName *string  `json:"display_name"`
	Metadata    optional `json:"metadata"`
	Delivery    *string  `json:"delivery"` // Pigeon's addition: "email" | "dry-run"
}

// optional is a JSON value that remembers whether it was present, null included
// (json.RawMessage alone turns null into "absent").
type optional struct {
	set bool
	raw json.RawMessage
}

func (o *optional) UnmarshalJSON(b []byte) error {
	o.set, o.raw = true, append(json.RawMessage(nil), b...)
	return nil
}

// updateInbox sets display_name and/or merges metadata: listed keys are set, a key with null
// is removed, `metadata: null` clears it all, `{}` is rejected; at least one field is required.
func (s *server) updateInbox(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	in, err := s.inbox(r, p)
	if err != nil {
		return err
	}
	var req updateInboxRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	var u store.InboxUpdate
	if req.DisplayName != nil {
		if err := checkDisplayName(*req.DisplayName); err != nil {
			return err
		}
		name := strings.TrimSpace(*req.DisplayName)
		u.DisplayName = &name
	}
	if req.Delivery != nil {
		if err := checkDelivery(*req.Delivery); err != nil {
			return err
		}
		u.Delivery = req.Delivery
	}
	switch {
	case !req.Metadata.set:
	case string(req.Metadata.raw) == "null":
		u.ClearMetadata = true
	default:
		if err := json.Unmarshal(req.Metadata.raw, &u.Metadata); err != nil {
			return invalid("metadata", "metadata must be an object or null")
		}
		if len(u.Metadata) == 0 {
			return invalid("metadata", "metadata must set or remove at least one key (use null to clear it)")
		}
		if err := checkMetadata(u.Metadata, true); err != nil {
			return err
		}
		if n := mergedKeys(in.Metadata, u.Metadata); n > maxMetadataKeys {
			return invalid("metadata", "metadata would have %d keys; at most %d are allowed", n, maxMetadataKeys)
		}
	}
	if u.DisplayName == nil && u.Metadata == nil && !u.ClearMetadata && u.Delivery == nil {
		return invalid("", "give display_name, metadata or delivery")
	}
	updated, err := s.st.UpdateInbox(r.Context(), in.InboxID, u)
	if err != nil {
		return err
	}
	return ok(w, updated)
}

func (s *server) deleteInbox(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	in, err := s.inbox(r, p)
	if err != nil {
		// A delete that stopped half-way left the inbox hidden: a retry finishes it.
		rec, derr := s.st.DeletingInbox(r.Context(), inboxID(r))
		podID := r.PathValue("pod_id")
		if derr != nil || !p.CanSeeInbox(rec) || (podID != "" && rec.PodID != podID) {
			return err
		}
		in = rec
	}
	// The inbox's keys, lists and webhooks go first: an inbox created later at the same address must
	// not inherit them, and a failure here leaves the inbox for a retry to find.
	if err := s.st.DeleteAPIKeysOf(r.Context(), in.OrgID, "", in.InboxID); err != nil {
		return err
	}
	if err := s.st.DeleteListsOf(r.Context(), "", in.InboxID); err != nil {
		return err
	}
	if err := s.st.DeleteWebhooksOf(r.Context(), in.OrgID, "", in.InboxID); err != nil {
		return err
	}
	if err := s.st.DeleteInbox(r.Context(), in.InboxID); err != nil {
		return err
	}
	return noContent(w)
}

// checkDelivery accepts the delivery modes (wire.DeliveryEmail, wire.DeliveryDryRun).
func checkDelivery(mode string) error {
	if !wire.ValidDelivery(mode) {
		return invalid("delivery", "delivery must be %q or %q", wire.DeliveryEmail, wire.DeliveryDryRun)
	}
	return nil
}

func checkDisplayName(name string) error {
	if utf8.RuneCountInString(name) > maxDisplayNameLen {
		return invalid("display_name", "display_name must be at most %d characters", maxDisplayNameLen)
	}
	if strings.ContainsAny(name, "\r\n\x00") {
		return invalid("display_name", "display_name must be one line")
	}
	return nil
}

// checkMetadata enforces ≤256 keys, keys and string values ≤256 characters, and values that
// are strings, numbers or booleans (null too, in an update, meaning "remove").
func checkMetadata(md map[string]any, update bool) error {
	if len(md) > maxMetadataKeys {
		return invalid("metadata", "metadata may have at most %d keys", maxMetadataKeys)
	}
	for k, v := range md {
		path := "metadata." + k
		if k == "" || utf8.RuneCountInString(k) > maxMetadataLen {
			return invalid(path, "metadata keys must be 1 to %d characters", maxMetadataLen)
		}
		switch v := v.(type) {
		case string:
			if utf8.RuneCountInString(v) > maxMetadataLen {
				return invalid(path, "metadata values must be at most %d characters", maxMetadataLen)
			}
		case float64, bool:
		case nil:
			if !update {
				return invalid(path, "metadata values must be strings, numbers or booleans")
			}
		default:
			return invalid(path, "metadata values must be strings, numbers or booleans")
		}
	}
	return nil
}

// mergedKeys counts the keys metadata has after merging change into current.
func mergedKeys(current, change map[string]any) int {
	n := len(current)
	for k, v := range change {
		_, had := current[k]
		switch {
		case v == nil && had:
			n--
		case v != nil && !had:
			n++
		}
	}
	return n
}

// randomUsername is a random local part of lower-case letters and digits.
func randomUsername() string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, randomUsernameLen)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return string(b)
}
