package wire

import "time"

// ThreadItem is a thread in a list and the `thread` of message.received events.
type ThreadItem struct {
	InboxID           string       `json:"inbox_id"`
	ThreadID          string       `json:"thread_id"`
	Labels            []string     `json:"labels"`
	Timestamp         time.Time    `json:"timestamp"`
	ReceivedTimestamp *time.Time   `json:"received_timestamp,omitempty"`
	SentTimestamp     *time.Time   `json:"sent_timestamp,omitempty"`
	Senders           []string     `json:"senders"`
	Recipients        []string     `json:"recipients"`
	Subject           string       `json:"subject,omitempty"`
	Preview           string       `json:"preview,omitempty"`
	Attachments       []Attachment `json:"attachments,omitempty"`
	LastMessageID     string       `json:"last_message_id"`
	MessageCount      int          `json:"message_count"`
	Size              int64        `json:"size"`
	UpdatedAt         time.Time    `json:"updated_at"`
	CreatedAt         time.Time    `json:"created_at"`
}

// Thread is GET …/threads/{id}: the thread's fields and a page of its messages
// (ascending within the page; the first page holds the newest messages).
type Thread struct {
	ThreadItem
	Count         int       `json:"count"`
	Limit         int       `json:"limit,omitempty"`
	NextPageToken string    `json:"next_page_token,omitempty"`
	Messages      []Message `json:"messages"`
}

// ListThreadsResponse is a page of threads, most recently active first.
type ListThreadsResponse struct {
	Count         int          `json:"count"`
	Limit         int          `json:"limit,omitempty"`
	NextPageToken string       `json:"next_page_token,omitempty"`
	Threads       []ThreadItem `json:"threads"`
}
