package wire

import (
	"bytes"
	"encoding/json"
	"time"
)

// Draft send states. A draft with a send_at is scheduled; the scheduler
// (or a send request) moves it to sending, and a sent draft is deleted; a scheduled send that
// cannot go out is failed, with the reason in send_error.
const (
	DraftScheduled = "scheduled"
	DraftSending   = "sending"
	DraftFailed    = "failed"
)

// Draft is a message being written in an inbox: a new message, a reply (in_reply_to) or a
// forward (forward_of).
type Draft struct {
	InboxID     string       `json:"inbox_id"`
	DraftID     string       `json:"draft_id"`
	ClientID    string       `json:"client_id,omitempty"`
	Labels      []string     `json:"labels"`
	ReplyTo     []string     `json:"reply_to,omitempty"`
	To          []string     `json:"to,omitempty"`
	Cc          []string     `json:"cc,omitempty"`
	Bcc         []string     `json:"bcc,omitempty"`
	Subject     string       `json:"subject,omitempty"`
	Preview     string       `json:"preview,omitempty"`
	Text        string       `json:"text,omitempty"`
	HTML        string       `json:"html,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	InReplyTo   string       `json:"in_reply_to,omitempty"`
	ForwardOf   string       `json:"forward_of,omitempty"`
	References  []string     `json:"references,omitempty"`
	SendStatus  string       `json:"send_status,omitempty"`
	SendAt      *time.Time   `json:"send_at,omitempty"`
	// SendError is Pigeon's addition: why a scheduled send failed (send_status failed).
	SendError string    `json:"send_error,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	CreatedAt time.Time `json:"created_at"`
}

// DraftItem is a draft in a list: no client_id, reply_to, bodies, references or created_at.
type DraftItem struct {
	InboxID     string       `json:"inbox_id"`
	DraftID     string       `json:"draft_id"`
	Labels      []string     `json:"labels"`
	To          []string     `json:"to,omitempty"`
	Cc          []string     `json:"cc,omitempty"`
	Bcc         []string     `json:"bcc,omitempty"`
	Subject     string       `json:"subject,omitempty"`
	Preview     string       `json:"preview,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	InReplyTo   string       `json:"in_reply_to,omitempty"`
	ForwardOf   string       `json:"forward_of,omitempty"`
	SendStatus  string       `json:"send_status,omitempty"`
	SendAt      *time.Time   `json:"send_at,omitempty"`
	SendError   string       `json:"send_error,omitempty"` // as Draft.SendError
	UpdatedAt   time.Time    `json:"updated_at"`
}

// Item returns the list form of d.
func (d Draft) Item() DraftItem {
	return DraftItem{
		InboxID: d.InboxID, DraftID: d.DraftID, Labels: NonNil(d.Labels),
		To: d.To, Cc: d.Cc, Bcc: d.Bcc, Subject: d.Subject, Preview: d.Preview,
		Attachments: d.Attachments, InReplyTo: d.InReplyTo, ForwardOf: d.ForwardOf,
		SendStatus: d.SendStatus, SendAt: d.SendAt, SendError: d.SendError, UpdatedAt: d.UpdatedAt,
	}
}

// ListDraftsResponse is a page of drafts, most recently updated first unless ascending.
type ListDraftsResponse struct {
	Count         int         `json:"count"`
	Limit         int         `json:"limit,omitempty"`
	NextPageToken string      `json:"next_page_token,omitempty"`
	Drafts        []DraftItem `json:"drafts"`
}

// CreateDraftRequest is the body of POST /v0/inboxes/{inbox_id}/drafts. Recipients are arrays
// only (not the Addr string-or-array of the send routes). send_at is an ISO-8601 string,
// parsed by the API so that a bad one is a 400 naming the field.
type CreateDraftRequest struct {
	Labels      []string         `json:"labels,omitempty"`
	ReplyTo     []string         `json:"reply_to,omitempty"`
	To          []string         `json:"to,omitempty"`
	Cc          []string         `json:"cc,omitempty"`
	Bcc         []string         `json:"bcc,omitempty"`
	Subject     string           `json:"subject,omitempty"`
	Text        string           `json:"text,omitempty"`
	HTML        string           `json:"html,omitempty"`
	Attachments []SendAttachment `json:"attachments,omitempty"`
	InReplyTo   string           `json:"in_reply_to,omitempty"`
	ForwardOf   string           `json:"forward_of,omitempty"`
	ReplyAll    *bool            `json:"reply_all,omitempty"`
	SendAt      *string          `json:"send_at,omitempty"`
	ClientID    string           `json:"client_id,omitempty"`
}

// UpdateDraftRequest is the body of PATCH …/drafts/{draft_id}. The Nullable fields tell an
// absent field (unchanged) from null (cleared).
type UpdateDraftRequest struct {
	ReplyTo           Nullable[[]string] `json:"reply_to,omitzero"`
	To                Nullable[[]string] `json:"to,omitzero"`
	Cc                Nullable[[]string] `json:"cc,omitzero"`
	Bcc               Nullable[[]string] `json:"bcc,omitzero"`
	Subject           Nullable[string]   `json:"subject,omitzero"`
	Text              Nullable[string]   `json:"text,omitzero"`
	HTML              Nullable[string]   `json:"html,omitzero"`
	AddAttachments    []SendAttachment   `json:"add_attachments,omitempty"`
	RemoveAttachments []string           `json:"remove_attachments,omitempty"`
	AddLabels         []string           `json:"add_labels,omitempty"`
	RemoveLabels      []string           `json:"remove_labels,omitempty"`
	SendAt            Nullable[string]   `json:"send_at,omitzero"`
}

// Nullable is a request field with three states, the nullable fields of the wire format: absent
// (Set false: leave unchanged), null (Set and Null: clear) or a value.
type Nullable[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// IsZero reports an absent field (for omitzero).
func (n Nullable[T]) IsZero() bool { return !n.Set }

// UnmarshalJSON records that the field was present; null sets Null. A value of the wrong type
// is an *json.UnmarshalTypeError, which the decoder labels with the field's name.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	*n = Nullable[T]{Set: true}
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		n.Null = true
		return nil
	}
	return json.Unmarshal(b, &n.Value)
}

// MarshalJSON writes null or the value (an absent field is left out by omitzero).
func (n Nullable[T]) MarshalJSON() ([]byte, error) {
	if n.Null {
		return []byte("null"), nil
	}
	return json.Marshal(n.Value)
}
