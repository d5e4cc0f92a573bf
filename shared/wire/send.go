package wire

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// StringList is a request field that takes one string or an array of strings: the Addr
// (to, cc, bcc, reply_to) and Lbl (add_labels, remove_labels) types of the wire format.
// `null` and absence both leave it nil.
type StringList []string

// UnmarshalJSON accepts "a", ["a", "b"] and null.
func (l *StringList) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case bytes.Equal(data, []byte("null")):
		*l = nil
		return nil
	case len(data) > 0 && data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*l = StringList{s}
		return nil
	case len(data) > 0 && data[0] == '[':
		var list []*string
		if err := json.Unmarshal(data, &list); err != nil {
			return stringListError("array with a non-string element")
		}
		out := make(StringList, 0, len(list))
		for _, s := range list {
			if s == nil {
				return stringListError("array with a null element")
			}
			out = append(out, *s)
		}
		*l = out
		return nil
	}
	kind := "value"
	switch {
	case len(data) > 0 && (data[0] == '-' || data[0] >= '0' && data[0] <= '9'):
		kind = "number"
	case len(data) > 0 && data[0] == '{':
		kind = "object"
	case bytes.Equal(data, []byte("true")) || bytes.Equal(data, []byte("false")):
		kind = "bool"
	}
	return stringListError(kind)
}

// stringListError is an *json.UnmarshalTypeError, which the decoder completes with the
// field's name, so the API can say which field was wrong.
func stringListError(got string) error {
	return &json.UnmarshalTypeError{Value: got, Type: reflect.TypeFor[StringList]()}
}

// SendAttachment is an attachment given on send, reply, reply-all and forward: exactly one of
// Content (base64) and URL (downloaded by the server).
type SendAttachment struct {
	Filename           string `json:"filename,omitempty"`
	ContentType        string `json:"content_type,omitempty"`
	ContentDisposition string `json:"content_disposition,omitempty"` // "inline" | "attachment"
	ContentID          string `json:"content_id,omitempty"`
	Content            string `json:"content,omitempty"`
	URL                string `json:"url,omitempty"`
}

// SendMessageRequest is the body of the send routes. It is the union of SendMessageRequest
// (send, forward), ReplyToMessageRequest (reply: no subject; reply_all) and
// ReplyAllMessageRequest (reply-all: no recipients, no subject); the REST API refuses, per
// route, the fields that route's body does not have, as it refuses unknown fields.
type SendMessageRequest struct {
	Labels      StringList        `json:"labels,omitempty"`
	ReplyTo     StringList        `json:"reply_to,omitempty"`
	To          StringList        `json:"to,omitempty"`
	Cc          StringList        `json:"cc,omitempty"`
	Bcc         StringList        `json:"bcc,omitempty"`
	ReplyAll    *bool             `json:"reply_all,omitempty"`
	Subject     string            `json:"subject,omitempty"`
	Text        string            `json:"text,omitempty"`
	HTML        string            `json:"html,omitempty"`
	Attachments []SendAttachment  `json:"attachments,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	TrackOpens  *bool             `json:"track_opens,omitempty"`
	// Delivery overrides the inbox's delivery mode for this send (Pigeon's addition):
	// DeliveryEmail or DeliveryDryRun. The TypeScript SDK strips keys it does not know from
	// request bodies, so SDK users set the mode on the inbox instead.
	Delivery string `json:"delivery,omitempty"`
}

// SendMessageResponse is the answer of every send route.
type SendMessageResponse struct {
	MessageID string `json:"message_id"`
	ThreadID  string `json:"thread_id"`
}

// UpdateMessageRequest is a PATCH of a message's labels.
type UpdateMessageRequest struct {
	AddLabels    StringList `json:"add_labels,omitempty"`
	RemoveLabels StringList `json:"remove_labels,omitempty"`
}

// UpdateMessageResponse is a message's labels after an update.
type UpdateMessageResponse struct {
	MessageID string   `json:"message_id"`
	Labels    []string `json:"labels"`
}

// BatchGetMessagesRequest names up to 500 messages of an inbox.
type BatchGetMessagesRequest struct {
	MessageIDs []string `json:"message_ids"`
}

// BatchGetMessagesResponse holds the messages found, in request order, without bodies.
type BatchGetMessagesResponse struct {
	Limit    int       `json:"limit"`
	Count    int       `json:"count"`
	Messages []Message `json:"messages"`
}

// BatchUpdateMessagesRequest changes the labels of up to 50 messages, all or nothing.
type BatchUpdateMessagesRequest struct {
	MessageIDs   []string   `json:"message_ids"`
	AddLabels    StringList `json:"add_labels,omitempty"`
	RemoveLabels StringList `json:"remove_labels,omitempty"`
}

// BatchUpdateMessagesResponse holds each updated message's labels, in request order.
type BatchUpdateMessagesResponse struct {
	Limit   int                     `json:"limit"`
	Count   int                     `json:"count"`
	Updates []UpdateMessageResponse `json:"updates"`
}

// UpdateThreadRequest changes the labels of every message of a thread.
type UpdateThreadRequest struct {
	AddLabels    StringList `json:"add_labels,omitempty"`
	RemoveLabels StringList `json:"remove_labels,omitempty"`
}

// UpdateThreadResponse is a thread's labels after an update.
type UpdateThreadResponse struct {
	ThreadID string   `json:"thread_id"`
	Labels   []string `json:"labels"`
}
