package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// maxKeyNameLen bounds an API key's name.
const maxKeyNameLen = 256

// apiKeyRoutes registers the API key routes of AgentMail v0 at the three scopes; the
// route's scope is the scope of the keys it creates. Only the organisation route reads one key.
//
// Rules beyond the wire format:
//   - a key never gets more than the key that creates or changes it: every permission it is
//     given must be held by the caller, and its scope must lie within the caller's (403
//     ForbiddenError missing_permission otherwise);
//   - the bootstrap key (ak_bootstrap) is listed and readable, but belongs to the deployment:
//     its secret comes from the deployment's configuration and every cold start re-creates
//     it, so changing or deleting it answers 400 ValidationError;
//   - the secret is shown once, in the create response; reads show only its prefix;
//   - a deleted key stops working at once (authentication reads the key by hash with a
//     strongly consistent read), and deleting an inbox or a pod deletes the keys scoped to it.
func (s *server) apiKeyRoutes() {
	for _, scope := range []string{"/v0", "/v0/pods/{pod_id}", "/v0/inboxes/{inbox_id}"} {
		s.handle("GET "+scope+"/api-keys", "api_key_read", s.listAPIKeys)
		s.handle("POST "+scope+"/api-keys", "api_key_create", s.createAPIKey)
		s.handle("PATCH "+scope+"/api-keys/{api_key_id}", "api_key_update", s.updateAPIKey)
		s.handle("DELETE "+scope+"/api-keys/{api_key_id}", "api_key_delete", s.deleteAPIKey)
	}
	s.handle("GET /v0/api-keys/{api_key_id}", "api_key_read", s.getAPIKey)
}

// createAPIKeyRequest is CreateBearerApiKeyRequest (wire.CreateAPIKeyRequest), plus the
// fields of a CreatePublicKeyRequest (public_key, client_id, expires_at), so that one is
// recognised and refused as unsupported rather than for its fields. (Not embedded:
// encoding/json would name the embedded type in its field errors.)
type createAPIKeyRequest struct {
	Name        *string                `json:"name"`
	Permissions wire.APIKeyPermissions `json:"permissions"`
	PublicKey   json.RawMessage        `json:"public_key"`
	ClientID    json.RawMessage        `json:"client_id"`
	ExpiresAt   json.RawMessage        `json:"expires_at"`
}

// listAPIKeys lists the keys of the route's scope narrowed to the caller's, newest first
// unless ascending. type=public_key lists nothing (Pigeon has only bearer keys).
func (s *server) listAPIKeys(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	sc, err := s.listScope(r, p)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	pg, err := listPage(q)
	if err != nil {
		return err
	}
	resp := wire.ListAPIKeysResponse{APIKeys: []wire.APIKey{}}
	switch q.Get("type") {
	case "", wire.APIKeyTypeBearer:
	case "public_key":
		return ok(w, resp)
	default:
		return invalid("type", "type must be bearer or public_key")
	}
	keys, next, err := s.st.ListAPIKeys(r.Context(), sc.OrgID, sc.PodID, sc.InboxID, pg)
	if err != nil {
		return err
	}
	for _, k := range keys {
		resp.APIKeys = append(resp.APIKeys, bearerKey(k))
	}
	resp.Count, resp.NextPageToken = len(resp.APIKeys), next
	return ok(w, resp)
}

func (s *server) getAPIKey(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	k, err := s.apiKey(r, p)
	if err != nil {
		return err
	}
	return ok(w, bearerKey(k))
}

// createAPIKey mints a bearer key for the route's scope and answers its secret, once.
func (s *server) createAPIKey(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	sc, err := s.ownScope(r, p, "api_key_create")
	if err != nil {
		return err
	}
	var req createAPIKeyRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if len(req.PublicKey) > 0 && string(req.PublicKey) != "null" {
		return invalid("public_key", "public-key credentials are not supported; omit public_key to create a bearer key")
	}
	// A bearer key takes neither (and no pod_id or inbox_id: the route gives the scope).
	switch {
	case req.ClientID != nil:
		return unknownField("client_id")
	case req.ExpiresAt != nil:
		return unknownField("expires_at")
	}
	name := ""
	if req.Name != nil {
		if name, err = keyName(*req.Name); err != nil {
			return err
		}
	}
	perms, err := checkPermissions(req.Permissions)
	if err != nil {
		return err
	}
	if err := canGrant(p, perms); err != nil {
		return err
	}
	secret, prefix := auth.NewSecret()
	now := wire.UTC(s.now())
	k := store.APIKey{
		APIKeyID: "ak_" + strings.ToLower(ulid.Make().String()), Name: name, Prefix: prefix, Hash: auth.Hash(secret),
		OrgID: p.OrgID, PodID: sc.PodID, InboxID: sc.InboxID, Permissions: perms, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.st.PutAPIKey(r.Context(), k); err != nil {
		return err
	}
	return ok(w, wire.CreateAPIKeyResponse{
		APIKeyID: k.APIKeyID, APIKey: secret, Prefix: k.Prefix, Name: k.Name, PodID: k.PodID, InboxID: k.InboxID,
		Permissions: wire.APIKeyPermissions(k.Permissions), CreatedAt: now,
	})
}

// updateAPIKey renames a key and/or replaces its permissions (at least one of the two).
func (s *server) updateAPIKey(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	k, err := s.apiKey(r, p)
	if err != nil {
		return err
	}
	if k.APIKeyID == auth.BootstrapKeyID {
		return bootstrapKeyManaged()
	}
	var req wire.CreateAPIKeyRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	var u store.APIKeyUpdate
	if req.Name != nil {
		name, err := keyName(*req.Name)
		if err != nil {
			return err
		}
		u.Name = &name
	}
	if req.Permissions != nil {
		if u.Permissions, err = checkPermissions(req.Permissions); err != nil {
			return err
		}
		if err := canGrant(p, u.Permissions); err != nil {
			return err
		}
	}
	if u.Name == nil && u.Permissions == nil {
		return invalid("", "give name or permissions")
	}
	updated, err := s.st.UpdateAPIKey(r.Context(), k.APIKeyID, u)
	if err != nil {
		return err
	}
	return ok(w, bearerKey(updated))
}

func (s *server) deleteAPIKey(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	k, err := s.apiKey(r, p)
	if err != nil {
		return err
	}
	if k.APIKeyID == auth.BootstrapKeyID {
		return bootstrapKeyManaged()
	}
	if err := s.st.DeleteAPIKey(r.Context(), k.APIKeyID); err != nil {
		return err
	}
	return noContent(w)
}

func bootstrapKeyManaged() error {
	return invalid("api_key_id", "the bootstrap key is managed by the deployment: rotate its secret in the deployment's configuration")
}

// bearerKey is the BearerApiKey of a stored key.
func bearerKey(k store.APIKey) wire.APIKey {
	out := wire.APIKey{
		Type: wire.APIKeyTypeBearer, APIKeyID: k.APIKeyID, Prefix: k.Prefix, Name: k.Name, PodID: k.PodID, InboxID: k.InboxID,
		Permissions: wire.APIKeyPermissions(k.Permissions), CreatedAt: wire.UTC(k.CreatedAt), UpdatedAt: wire.UTC(k.UpdatedAt),
	}
	if k.UsedAt != nil {
		t := wire.UTC(*k.UsedAt)
		out.UsedAt = &t
	}
	return out
}

func keyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > maxKeyNameLen {
		return "", invalid("name", "name must be at most %d characters", maxKeyNameLen)
	}
	if strings.ContainsAny(name, "\r\n\x00") {
		return "", invalid("name", "name must be one line")
	}
	return name, nil
}

// checkPermissions rejects permission names that ApiKeyPermissions does not have. nil (the
// field absent or null) stays nil: every permission.
func checkPermissions(perms wire.APIKeyPermissions) (map[string]bool, error) {
	if perms == nil {
		return nil, nil
	}
	for name := range perms {
		if !slices.Contains(wire.APIKeyPermissionNames, name) {
			return nil, invalid("permissions."+name, "%q is not an API key permission", name)
		}
	}
	return map[string]bool(perms), nil
}

// canGrant checks that the caller holds every permission of perms (nil: all of them), so a
// key cannot mint or widen a key beyond itself.
func canGrant(p auth.Principal, perms map[string]bool) error {
	for _, name := range wire.APIKeyPermissionNames {
		if (perms == nil || perms[name]) && !p.Can(name) {
			return forbidden(name)
		}
	}
	return nil
}
