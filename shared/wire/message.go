package wire

import "time"

// System labels. Clients cannot add or remove the lifecycle ones.
const (
	LabelReceived        = "received"
	LabelSent            = "sent"
	LabelUnread          = "unread"
	LabelSpam            = "spam"
	LabelBlocked         = "blocked"
	LabelUnauthenticated = "unauthenticated"
	LabelTrash           = "trash"
)

// Attachment describes one attachment of a message, thread or draft.
type Attachment struct {
	AttachmentID       string `json:"attachment_id"`
	Filename           string `json:"filename,omitempty"`
	Size               int64  `json:"size"`
	ContentType        string `json:"content_type,omitempty"`
	ContentDisposition string `json:"content_disposition,omitempty"` // "inline" | "attachment"
	ContentID          string `json:"content_id,omitempty"`
}

// Message is a full message (GET one, batch-get, thread pages, message.received events).
type Message struct {
	InboxID       string            `json:"inbox_id"`
	ThreadID      string            `json:"thread_id"`
	MessageID     string            `json:"message_id"`
	Labels        []string          `json:"labels"`
	Timestamp     time.Time         `json:"timestamp"`
	From          string            `json:"from"`
	ReplyTo       []string          `json:"reply_to,omitempty"`
	To            []string          `json:"to"`
	Cc            []string          `json:"cc,omitempty"`
	Bcc           []string          `json:"bcc,omitempty"`
	Subject       string            `json:"subject,omitempty"`
	Preview       string            `json:"preview,omitempty"`
	Text          string            `json:"text,omitempty"`
	HTML          string            `json:"html,omitempty"`
	ExtractedText string            `json:"extracted_text,omitempty"`
	ExtractedHTML string            `json:"extracted_html,omitempty"`
	Attachments   []Attachment      `json:"attachments,omitempty"`
	InReplyTo     string            `json:"in_reply_to,omitempty"`
	References    []string          `json:"references,omitempty"`
	Headers       map[string]string `json:"headers,omitempty"`
	Size          int64             `json:"size"`
	UpdatedAt     time.Time         `json:"updated_at"`
	CreatedAt     time.Time         `json:"created_at"`
	// Status is Pigeon's addition for REST responses: the delivery status of a message the
	// inbox sent (queued, sent, delivered, bounced, complained, rejected, failed, …); absent on
	// received mail. It is never part of an event payload (the SDKs parse those strictly).
	Status string `json:"status,omitempty"`
	// Delivery is the per-recipient side of Status (Pigeon's addition, REST only, sent
	// messages only); the message's status summarises it (see package delivery).
	Delivery []DeliveryRecipient `json:"delivery,omitempty"`
}

// MessageItem is a message in a list: a Message without reply_to and bodies.
type MessageItem struct {
	InboxID     string              `json:"inbox_id"`
	ThreadID    string              `json:"thread_id"`
	MessageID   string              `json:"message_id"`
	Labels      []string            `json:"labels"`
	Timestamp   time.Time           `json:"timestamp"`
	From        string              `json:"from"`
	To          []string            `json:"to"`
	Cc          []string            `json:"cc,omitempty"`
	Bcc         []string            `json:"bcc,omitempty"`
	Subject     string              `json:"subject,omitempty"`
	Preview     string              `json:"preview,omitempty"`
	Attachments []Attachment        `json:"attachments,omitempty"`
	InReplyTo   string              `json:"in_reply_to,omitempty"`
	References  []string            `json:"references,omitempty"`
	Headers     map[string]string   `json:"headers,omitempty"`
	Size        int64               `json:"size"`
	UpdatedAt   time.Time           `json:"updated_at"`
	CreatedAt   time.Time           `json:"created_at"`
	Status      string              `json:"status,omitempty"`   // as Message.Status
	Delivery    []DeliveryRecipient `json:"delivery,omitempty"` // as Message.Delivery
}

// Item returns the list form of m.
func (m Message) Item() MessageItem {
	return MessageItem{
		InboxID: m.InboxID, ThreadID: m.ThreadID, MessageID: m.MessageID,
		Labels: NonNil(m.Labels), Timestamp: m.Timestamp, From: m.From,
		To: NonNil(m.To), Cc: m.Cc, Bcc: m.Bcc, Subject: m.Subject, Preview: m.Preview,
		Attachments: m.Attachments, InReplyTo: m.InReplyTo, References: m.References,
		Headers: m.Headers, Size: m.Size, UpdatedAt: m.UpdatedAt, CreatedAt: m.CreatedAt, Status: m.Status,
		Delivery: m.Delivery,
	}
}

// ListMessagesResponse is a page of messages, newest first unless ascending.
type ListMessagesResponse struct {
	Count         int           `json:"count"`
	Limit         int           `json:"limit,omitempty"`
	NextPageToken string        `json:"next_page_token,omitempty"`
	Messages      []MessageItem `json:"messages"`
}

// RawMessageResponse points at the raw .eml of a message.
type RawMessageResponse struct {
	MessageID   string    `json:"message_id"`
	Size        int64     `json:"size"`
	DownloadURL string    `json:"download_url"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// AttachmentResponse is an attachment with a short-lived download URL.
type AttachmentResponse struct {
	Attachment
	DownloadURL string    `json:"download_url"`
	ExpiresAt   time.Time `json:"expires_at"`
}
