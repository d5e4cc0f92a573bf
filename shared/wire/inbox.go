package wire

import "time"

// Organization is the single organisation a Pigeon deployment serves.
type Organization struct {
	OrganizationID string    `json:"organization_id"`
	InboxCount     int       `json:"inbox_count"`
	DomainCount    int       `json:"domain_count"`
	InboxLimit     *int      `json:"inbox_limit,omitempty"`
	DomainLimit    *int      `json:"domain_limit,omitempty"`
	UpdatedAt      time.Time `json:"updated_at"`
	CreatedAt      time.Time `json:"created_at"`
}

// Pod groups inboxes; every inbox belongs to one.
type Pod struct {
	PodID     string    `json:"pod_id"`
	Name      string    `json:"name"`
	ClientID  string    `json:"client_id,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	CreatedAt time.Time `json:"created_at"`
}

// Inbox is an agent's mailbox; its id is its email address.
type Inbox struct {
	PodID       string         `json:"pod_id"`
	InboxID     string         `json:"inbox_id"`
	Email       string         `json:"email"`
	DisplayName string         `json:"display_name,omitempty"`
	ClientID    string         `json:"client_id,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
	UpdatedAt   time.Time      `json:"updated_at"`
	CreatedAt   time.Time      `json:"created_at"`
	// Delivery is how the inbox's sends leave Pigeon, DeliveryEmail or DeliveryDryRun
	// (Pigeon's addition, REST only; "" in an inbox stored without one means email).
	Delivery string `json:"delivery,omitempty"`
}

// CreateInboxRequest is the body of POST /v0/inboxes (the body may be absent).
type CreateInboxRequest struct {
	Username    string         `json:"username,omitempty"`
	Domain      string         `json:"domain,omitempty"`
	DisplayName string         `json:"display_name,omitempty"`
	ClientID    string         `json:"client_id,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
	Delivery    string         `json:"delivery,omitempty"` // as Inbox.Delivery; default email
}

// ListInboxesResponse is a page of inboxes, newest first.
type ListInboxesResponse struct {
	Count         int     `json:"count"`
	Limit         int     `json:"limit,omitempty"`
	NextPageToken string  `json:"next_page_token,omitempty"`
	Inboxes       []Inbox `json:"inboxes"`
}

// ListPodsResponse is a page of pods, newest first.
type ListPodsResponse struct {
	Count         int    `json:"count"`
	Limit         int    `json:"limit,omitempty"`
	NextPageToken string `json:"next_page_token,omitempty"`
	Pods          []Pod  `json:"pods"`
}
