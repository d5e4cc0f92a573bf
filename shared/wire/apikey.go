package wire

import "time"

// APIKeyTypeBearer is the `type` of a bearer key in reads (BearerApiKey).
const APIKeyTypeBearer = "bearer"

// APIKeyPermissionNames are the fields of ApiKeyPermissions, each the
// name of one permission a key may hold.
var APIKeyPermissionNames = []string{
	"inbox_read", "inbox_create", "inbox_update", "inbox_delete",
	"message_read", "message_send", "message_update", "message_delete",
	"label_spam_read", "label_blocked_read", "label_unauthenticated_read", "label_trash_read",
	"draft_read", "draft_create", "draft_update", "draft_delete", "draft_send",
	"webhook_read", "webhook_create", "webhook_update", "webhook_delete",
	"domain_read", "domain_create", "domain_update", "domain_delete",
	"list_entry_read", "list_entry_create", "list_entry_delete",
	"metrics_read",
	"api_key_read", "api_key_create", "api_key_update", "api_key_delete",
	"provider_connect", "provider_share_owner",
	"pod_read", "pod_create", "pod_delete",
}

// APIKeyPermissions is ApiKeyPermissions: permission name → granted. Absent (nil) means every
// permission; present means only the true entries, so an empty object grants nothing. Fields
// carrying it use `omitzero`, which omits nil but keeps an empty map as {}.
type APIKeyPermissions map[string]bool

// CreateAPIKeyRequest is CreateBearerApiKeyRequest, which is also UpdateApiKeyRequest.
type CreateAPIKeyRequest struct {
	Name        *string           `json:"name,omitempty"`
	Permissions APIKeyPermissions `json:"permissions,omitzero"`
}

// CreateAPIKeyResponse answers a bearer key's creation: the only time the secret (APIKey) is
// shown. It has no `type` (the SDK tells it from PublicKeyCredential by its fields).
type CreateAPIKeyResponse struct {
	APIKeyID    string            `json:"api_key_id"`
	APIKey      string            `json:"api_key"`
	Prefix      string            `json:"prefix"`
	Name        string            `json:"name"`
	PodID       string            `json:"pod_id,omitempty"`
	InboxID     string            `json:"inbox_id,omitempty"`
	Permissions APIKeyPermissions `json:"permissions,omitzero"`
	CreatedAt   time.Time         `json:"created_at"`
}

// APIKey is BearerApiKey, a key as reads show it: its prefix, never its secret.
type APIKey struct {
	Type        string            `json:"type"`
	APIKeyID    string            `json:"api_key_id"`
	Prefix      string            `json:"prefix"`
	Name        string            `json:"name"`
	PodID       string            `json:"pod_id,omitempty"`
	InboxID     string            `json:"inbox_id,omitempty"`
	UsedAt      *time.Time        `json:"used_at,omitempty"`
	Permissions APIKeyPermissions `json:"permissions,omitzero"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	ExpiresAt   *time.Time        `json:"expires_at,omitempty"`
}

// ListAPIKeysResponse is a page of keys, newest first. Unlike other lists it has no `limit`.
type ListAPIKeysResponse struct {
	Count         int      `json:"count"`
	NextPageToken string   `json:"next_page_token,omitempty"`
	APIKeys       []APIKey `json:"api_keys"`
}
