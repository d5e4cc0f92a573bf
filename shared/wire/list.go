package wire

import "time"

// List directions (the mail a list applies to) and list types.
const (
	ListDirectionSend    = "send"
	ListDirectionReceive = "receive"
	ListDirectionReply   = "reply"

	ListTypeAllow = "allow"
	ListTypeBlock = "block"

	ListEntryTypeEmail  = "email"
	ListEntryTypeDomain = "domain"
)

// ListEntry is one allow or block list entry. It serves as ListEntry (organisation lists,
// PodID and InboxID empty) and as PodListEntry (pod lists: PodID set; inbox lists: PodID and
// InboxID set).
type ListEntry struct {
	Entry          string    `json:"entry"`
	OrganizationID string    `json:"organization_id"`
	PodID          string    `json:"pod_id,omitempty"`
	InboxID        string    `json:"inbox_id,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	Direction      string    `json:"direction"`
	ListType       string    `json:"list_type"`
	EntryType      string    `json:"entry_type"`
	CreatedAt      time.Time `json:"created_at"`
	ReadOnly       bool      `json:"read_only,omitempty"`
}

// CreateListEntryRequest is the body of POST …/lists/{direction}/{type}.
type CreateListEntryRequest struct {
	Entry  string `json:"entry"`
	Reason string `json:"reason,omitempty"`
}

// ListListEntriesResponse is a page of list entries by entry, ascending (also
// PodListListEntriesResponse).
type ListListEntriesResponse struct {
	Count         int         `json:"count"`
	Limit         int         `json:"limit,omitempty"`
	NextPageToken string      `json:"next_page_token,omitempty"`
	Entries       []ListEntry `json:"entries"`
}
