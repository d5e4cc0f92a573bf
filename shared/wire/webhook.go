package wire

import "time"

// Webhook is a webhook as every read returns it. Secret, the
// whsec_… signing key, is returned on every read, as AgentMail does. PodIDs and InboxIDs are
// the webhook's filters: for a pod webhook PodIDs is its pod, for an inbox webhook InboxIDs is
// its inbox.
type Webhook struct {
	WebhookID  string    `json:"webhook_id"`
	URL        string    `json:"url"`
	EventTypes []string  `json:"event_types,omitempty"`
	PodIDs     []string  `json:"pod_ids,omitempty"`
	InboxIDs   []string  `json:"inbox_ids,omitempty"`
	Secret     string    `json:"secret"`
	Enabled    bool      `json:"enabled"`
	UpdatedAt  time.Time `json:"updated_at"`
	CreatedAt  time.Time `json:"created_at"`
	ClientID   string    `json:"client_id,omitempty"`
}

// CreateWebhookRequest is the create body of all three scopes; InboxIDs applies to the
// organisation and pod scopes, PodIDs to the organisation scope only.
type CreateWebhookRequest struct {
	URL        string            `json:"url"`
	EventTypes []string          `json:"event_types"`
	ClientID   string            `json:"client_id"`
	Headers    map[string]string `json:"headers"`
	InboxIDs   []string          `json:"inbox_ids"`
	PodIDs     []string          `json:"pod_ids"`
}

// UpdateWebhookRequest is the update body of all three scopes: a non-empty EventTypes
// replaces the set; the inbox lists apply to the organisation and pod scopes, the pod lists to
// the organisation scope.
type UpdateWebhookRequest struct {
	EventTypes     []string `json:"event_types"`
	AddInboxIDs    []string `json:"add_inbox_ids"`
	RemoveInboxIDs []string `json:"remove_inbox_ids"`
	AddPodIDs      []string `json:"add_pod_ids"`
	RemovePodIDs   []string `json:"remove_pod_ids"`
}

// UpdateWebhookHeadersRequest sets or replaces Headers and removes RemoveHeaders.
type UpdateWebhookHeadersRequest struct {
	Headers       map[string]string `json:"headers"`
	RemoveHeaders []string          `json:"remove_headers"`
}

// WebhookHeaderNamesResponse lists a webhook's custom header names; values are write-only.
type WebhookHeaderNamesResponse struct {
	HeaderNames []string `json:"header_names"`
}

// ListWebhooksResponse is a page of webhooks, newest first.
type ListWebhooksResponse struct {
	Count         int       `json:"count"`
	Limit         int       `json:"limit,omitempty"`
	NextPageToken string    `json:"next_page_token,omitempty"`
	Webhooks      []Webhook `json:"webhooks"`
}
