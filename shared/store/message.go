package store

import (
	"context"
	"encoding/json"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/pigeon-mail/pigeon/shared/delivery"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// InlineBodyLimit is the largest total of text + html + extracted_text + extracted_html kept
// in the message item. Larger bodies go to S3 as one JSON object (body/<inbox>/<hash>.json),
// which keeps the item far below DynamoDB's 400 KB and lists cheap.
const InlineBodyLimit = 64 << 10

// Verdicts are SES's receipt verdicts for a message: PASS, FAIL, GRAY, PROCESSING_FAILED or
// DISABLED; "" when unknown (imported mail, local delivery without scanning).
type Verdicts struct {
	Spam  string `json:"spam,omitempty"`
	Virus string `json:"virus,omitempty"`
	SPF   string `json:"spf,omitempty"`
	DKIM  string `json:"dkim,omitempty"`
	DMARC string `json:"dmarc,omitempty"`
}

// MessageRecord is a message as stored: the wire message (bodies loaded) and what only
// Pigeon needs — its owners, the S3 key of its raw form and of each attachment, and the
// receipt verdicts.
type MessageRecord struct {
	wire.Message
	OrgID          string            `json:"organization_id"`
	PodID          string            `json:"pod_id"`
	RawKey         string            `json:"raw_key,omitempty"`
	AttachmentKeys map[string]string `json:"attachment_keys,omitempty"` // attachment_id → S3 key
	Verdicts       Verdicts          `json:"verdicts"`
	// Sent messages only: SES's message id ("" when the send failed) and the delivery
	// lifecycle, whose status is the message's REST status (see outbound.go).
	SESMessageID string          `json:"ses_message_id,omitempty"`
	Delivery     *delivery.State `json:"delivery,omitempty"`
}

type messageItem struct {
	keys
	MessageRecord
	BodyKey     string `json:"body_key,omitempty"`    // S3 key of the bodies when not inline
	Fingerprint string `json:"fingerprint,omitempty"` // received mail: mail.Message.Fingerprint
}

// bodies are the four body fields, as stored in S3 when they do not fit the item.
type bodies struct {
	Text          string `json:"text,omitempty"`
	HTML          string `json:"html,omitempty"`
	ExtractedText string `json:"extracted_text,omitempty"`
	ExtractedHTML string `json:"extracted_html,omitempty"`
}

func bodiesOf(m *wire.Message) bodies {
	return bodies{Text: m.Text, HTML: m.HTML, ExtractedText: m.ExtractedText, ExtractedHTML: m.ExtractedHTML}
}

func (b bodies) size() int {
	return len(b.Text) + len(b.HTML) + len(b.ExtractedText) + len(b.ExtractedHTML)
}

func (b bodies) setOn(m *wire.Message) {
	m.Text, m.HTML, m.ExtractedText, m.ExtractedHTML = b.Text, b.HTML, b.ExtractedText, b.ExtractedHTML
}

func messageKeys(m *wire.Message) keys {
	return keys{
		PK: inboxPK(m.InboxID), SK: messageSK(m.MessageID),
		GSI1PK: inboxMsgsPK(m.InboxID), GSI1SK: timeID(m.Timestamp, m.MessageID),
		GSI2PK: threadMsgsPK(m.ThreadID), GSI2SK: timeID(m.Timestamp, m.MessageID),
	}
}

// GetMessage reads a message of an inbox, bodies included.
func (s *Store) GetMessage(ctx context.Context, inboxID, messageID string) (MessageRecord, error) {
	var it messageItem
	if err := s.getItem(ctx, inboxPK(NormalizeAddress(inboxID)), messageSK(messageID), &it); err != nil {
		return MessageRecord{}, err
	}
	if err := s.loadBodies(ctx, &it); err != nil {
		return MessageRecord{}, err
	}
	it.fillStatus()
	normalizeMessage(&it.Message)
	return it.MessageRecord, nil
}

func (s *Store) loadBodies(ctx context.Context, it *messageItem) error {
	if it.BodyKey == "" {
		return nil
	}
	data, err := s.blobs.Get(ctx, it.BodyKey)
	if err != nil {
		return fmt.Errorf("store: bodies of %s: %w", it.MessageID, err)
	}
	var b bodies
	if err := json.Unmarshal(data, &b); err != nil {
		return fmt.Errorf("store: bodies of %s: %w", it.MessageID, err)
	}
	b.setOn(&it.Message)
	return nil
}

// ListMessages lists an inbox's messages by timestamp, newest first unless pg.Ascending.
func (s *Store) ListMessages(ctx context.Context, inboxID string, pg Page) ([]wire.MessageItem, string, error) {
	items, next, err := s.queryPage(ctx, listQuery{
		index: indexGSI1, pkName: attrGSI1PK, skName: attrGSI1SK, pk: inboxMsgsPK(NormalizeAddress(inboxID)),
	}, pg)
	if err != nil {
		return nil, "", err
	}
	out := make([]wire.MessageItem, 0, len(items))
	for _, item := range items {
		var it messageItem
		if err := unmarshal(item, &it); err != nil {
			return nil, "", err
		}
		it.fillStatus()
		out = append(out, it.Message.Item())
	}
	return out, next, nil
}

// ThreadMessages returns a page of a thread's full messages: the first page holds the newest
// messages, each page is in ascending timestamp order, and the next token leads to older
// messages (pg.Ascending is ignored). Label and time filters apply as in lists.
func (s *Store) ThreadMessages(ctx context.Context, threadID string, pg Page) ([]wire.Message, string, error) {
	pg.Ascending = false
	items, next, err := s.queryPage(ctx, listQuery{
		index: indexGSI2, pkName: attrGSI2PK, skName: attrGSI2SK, pk: threadMsgsPK(threadID),
	}, pg)
	if err != nil {
		return nil, "", err
	}
	its := make([]messageItem, len(items))
	for i, item := range items {
		if err := unmarshal(item, &its[len(items)-1-i]); err != nil {
			return nil, "", err
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range its {
		if its[i].BodyKey != "" {
			g.Go(func() error { return s.loadBodies(gctx, &its[i]) })
		}
	}
	if err := g.Wait(); err != nil {
		return nil, "", err
	}
	out := make([]wire.Message, len(its))
	for i := range its {
		its[i].fillStatus()
		out[i] = its[i].Message
		normalizeMessage(&out[i])
	}
	return out, next, nil
}

// normalizeMessage restores the required arrays that are not stored when empty.
func normalizeMessage(m *wire.Message) {
	m.Labels, m.To = wire.NonNil(m.Labels), wire.NonNil(m.To)
}
