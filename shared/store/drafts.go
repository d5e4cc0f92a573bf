package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/oklog/ulid/v2"

	"github.com/pigeon-mail/pigeon/shared/mail"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Drafts. A draft lives in its inbox's partition (DRAFT#<draft_id>) and is listed through the
// three GSIs by updated_at, at inbox, pod and organisation scope; every update rewrites those
// sort keys, so a draft moves up when it changes. Its attachments are S3 objects under att/.
//
// A scheduled draft also has a due item, DUE#<shard> / <send_at>#<draft_id>, in the table
// itself (the three GSIs are taken by the lists), put and removed in the same transactions as
// the draft. The scheduler reads the due items of every shard up to now (DueDrafts: one
// strongly consistent query per shard, no scan), then claims each draft with a conditional
// update (ClaimDraft), so that two schedulers, or a scheduler and a send request, never both
// send it. send_status goes scheduled → sending → deleted (FinishDraftSend) or failed
// (ReleaseDraft); the due item stays while the draft is being sent and goes with it.
//
// A claim records the Idempotency-Key the send uses (send_key). A sender that dies leaves the
// draft sending; after claimTimeout another sender may take the claim over, keeping the key,
// so that a send the dead one completed is answered from its idempotency record instead of
// being sent again.

// DueShards is the number of partitions the due items are spread over (by a hash of the
// draft id), so that many drafts due at once do not all write to one partition.
const DueShards = 8

const (
	clientKindDraft = "draft"
	skDraftID       = "DRAFTID"
)

// maxDraftIDLength bounds the draft ids looked up (real ones are 30 characters).
const maxDraftIDLength = 64

var (
	// ErrDraftSending: the draft is being sent; it cannot be changed or sent again now.
	ErrDraftSending = errors.New("store: the draft is being sent")
	// ErrDraftNotDue: the draft is not scheduled, or its send_at has not come.
	ErrDraftNotDue = errors.New("store: the draft is not due")
)

// DraftSentError answers a create whose client_id made a draft that has since been sent:
// repeating that create must not make (and send) the draft again. The marker is kept for
// IdempotencyTTL after the send.
type DraftSentError struct {
	DraftID, MessageID, ThreadID string
}

func (e *DraftSentError) Error() string {
	return fmt.Sprintf("store: the draft %s made with this client_id was sent as message %s", e.DraftID, e.MessageID)
}

// NewDraftID returns a new draft id, "drf_<ulid>".
func NewDraftID() string { return "drf_" + strings.ToLower(ulid.Make().String()) }

func newAttachmentID() string { return "att_" + strings.ToLower(ulid.Make().String()) }

func draftSK(id string) string              { return "DRAFT#" + id }
func draftIDPK(id string) string            { return "DRAFTID#" + id }
func inboxDraftsPK(inbox string) string     { return "INBOX#" + inbox + "#DRAFTS" }
func podDraftsPK(pod string) string         { return "POD#" + pod + "#DRAFTS" }
func orgDraftsPK(org string) string         { return "ORG#" + org + "#DRAFTS" }
func dueShardPK(shard int) string           { return "DUE#" + strconv.Itoa(shard) }
func draftClientID(inbox, id string) string { return inbox + "#" + id }

func dueShard(draftID string) int {
	h := fnv.New32a()
	h.Write([]byte(draftID))
	return int(h.Sum32() % DueShards)
}

// DraftRecord is a draft as stored: the wire draft and what only Pigeon needs.
type DraftRecord struct {
	wire.Draft
	OrgID          string            `json:"organization_id"`
	PodID          string            `json:"pod_id"`
	AttachmentKeys map[string]string `json:"attachment_keys,omitempty"` // attachment_id → S3 key
	// While the draft is being sent: the Idempotency-Key of its send, the fingerprint the key
	// is bound to (see ClaimIdempotencyKey), and when it was claimed (epoch milliseconds).
	SendKey         string `json:"send_key,omitempty"`
	SendFingerprint string `json:"send_fingerprint,omitempty"`
	ClaimedAt       int64  `json:"claimed_at,omitempty"`
	// SendAttempts counts the scheduled sends of this draft that failed transiently.
	SendAttempts int `json:"send_attempts,omitempty"`
}

// Schedule sets the draft's send_at: a time schedules it (status scheduled, a failure
// forgotten), nil unschedules it (no status).
func (d *DraftRecord) Schedule(at *time.Time) {
	d.SendError, d.SendAttempts = "", 0
	if at == nil {
		d.SendAt, d.SendStatus = nil, ""
		return
	}
	t := wire.UTC(*at)
	d.SendAt, d.SendStatus = &t, wire.DraftScheduled
}

// due reports whether the draft has (or, while sending, keeps) a due item.
func (d *DraftRecord) due() bool {
	return d.SendAt != nil && (d.SendStatus == wire.DraftScheduled || d.SendStatus == wire.DraftSending)
}

type draftItem struct {
	keys
	DraftRecord
	SendAtMS int64 `json:"send_at_ms,omitempty"` // send_at as a number, for the claim's condition
	// Version counts the draft's writes; updates are conditioned on the version they read.
	Version int `json:"version"`
	// BodyKey is the S3 key of text and html when together they exceed InlineBodyLimit (one
	// object per version, so a write that loses a race cannot replace the winner's bodies).
	BodyKey string `json:"body_key,omitempty"`
}

// marshalDraft encodes the draft's item at version, moving large bodies to S3 first.
func (s *Store) marshalDraft(ctx context.Context, d DraftRecord, version int) (map[string]types.AttributeValue, error) {
	it := newDraftItem(d, version)
	if b := (bodies{Text: d.Text, HTML: d.HTML}); b.size() > InlineBodyLimit {
		data, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("store: encode draft bodies: %w", err)
		}
		it.BodyKey = "body/" + d.InboxID + "/" + objectHash(d.DraftID) + "-" + strconv.Itoa(version) + ".json"
		if err := s.blobs.Put(ctx, it.BodyKey, "application/json", data); err != nil {
			return nil, err
		}
		it.Text, it.HTML = "", ""
	}
	return marshal(it)
}

// decodeDraft reads a draft item, loading bodies kept in S3.
func (s *Store) decodeDraft(ctx context.Context, item map[string]types.AttributeValue) (draftItem, error) {
	var it draftItem
	if err := unmarshal(item, &it); err != nil {
		return draftItem{}, err
	}
	it.Labels = wire.NonNil(it.Labels)
	if it.BodyKey != "" {
		data, err := s.blobs.Get(ctx, it.BodyKey)
		if err != nil {
			return draftItem{}, fmt.Errorf("store: bodies of draft %s: %w", it.DraftID, err)
		}
		var b bodies
		if err := json.Unmarshal(data, &b); err != nil {
			return draftItem{}, fmt.Errorf("store: bodies of draft %s: %w", it.DraftID, err)
		}
		it.Text, it.HTML = b.Text, b.HTML
	}
	return it, nil
}

func newDraftItem(d DraftRecord, version int) draftItem {
	sk := timeID(d.UpdatedAt, d.DraftID)
	it := draftItem{keys: keys{
		PK: inboxPK(d.InboxID), SK: draftSK(d.DraftID),
		GSI1PK: inboxDraftsPK(d.InboxID), GSI1SK: sk,
		GSI2PK: podDraftsPK(d.PodID), GSI2SK: sk,
		GSI3PK: orgDraftsPK(d.OrgID), GSI3SK: sk,
	}, DraftRecord: d, Version: version}
	if d.SendAt != nil {
		it.SendAtMS = d.SendAt.UnixMilli()
	}
	return it
}

// draftIDItem finds a draft's inbox from its id alone (DRAFTID#<draft_id>), for the pod and
// organisation routes, which name no inbox. It is written and deleted with the draft; one
// left behind by a deleted inbox leads nowhere (GetDraft answers ErrNotFound).
type draftIDItem struct {
	keys
	InboxID string `json:"inbox_id"`
}

func (s *Store) putDraftID(d DraftRecord) (types.TransactWriteItem, error) {
	item, err := marshal(draftIDItem{keys: keys{PK: draftIDPK(d.DraftID), SK: skDraftID}, InboxID: d.InboxID})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: item}}, nil
}

func (s *Store) deleteDraftID(draftID string) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(draftIDPK(draftID), skDraftID)}}
}

// FindDraft reads a draft by id alone. Callers check that it is in the caller's scope.
func (s *Store) FindDraft(ctx context.Context, draftID string) (DraftRecord, error) {
	if !strings.HasPrefix(draftID, "drf_") || len(draftID) > maxDraftIDLength {
		return DraftRecord{}, ErrNotFound
	}
	var it draftIDItem
	if err := s.getItem(ctx, draftIDPK(draftID), skDraftID, &it); err != nil {
		return DraftRecord{}, err
	}
	return s.GetDraft(ctx, it.InboxID, draftID)
}

// dueItem marks a scheduled draft (DUE#<shard> / <send_at>#<draft_id>).
type dueItem struct {
	keys
	InboxID string `json:"inbox_id"`
	DraftID string `json:"draft_id"`
	OrgID   string `json:"organization_id"`
}

func dueKeys(draftID string, sendAt time.Time) keys {
	return keys{PK: dueShardPK(dueShard(draftID)), SK: timeID(sendAt, draftID)}
}

// draftClientItem is the client_id marker of a draft (CLIENT#draft#<org>#<inbox>#<client_id>):
// the draft it made and, once that draft is sent, the message it became (kept until ttl).
type draftClientItem struct {
	keys
	Target        string `json:"target"`
	SentMessageID string `json:"sent_message_id,omitempty"`
	SentThreadID  string `json:"sent_thread_id,omitempty"`
	TTL           int64  `json:"ttl,omitempty"`
}

func draftClientKeys(org, inbox, clientID string) keys {
	return clientKind(clientKindDraft, org, draftClientID(inbox, clientID))
}

// CreateDraft stores a new draft of inbox: d's content (ids, times and send state are set
// here; d.SendAt schedules it) and the attachments described by atts, whose contents go to S3
// (an attachment without an id gets one; sizes are the contents' lengths).
//
// With a client_id already used for a draft of this inbox it returns that draft and false; if
// that draft has been sent, a *DraftSentError. ErrNotFound: the inbox is gone.
func (s *Store) CreateDraft(ctx context.Context, inbox InboxRecord, d wire.Draft, atts []mail.Attachment) (DraftRecord, bool, error) {
	prevTarget := ""
	if d.ClientID != "" {
		rec, target, err := s.draftByClient(ctx, inbox, d.ClientID)
		switch {
		case err != nil:
			return DraftRecord{}, false, err
		case rec != nil:
			return *rec, false, nil
		}
		prevTarget = target
	}
	now := wire.UTC(s.now())
	d.InboxID, d.DraftID = inbox.InboxID, NewDraftID()
	d.CreatedAt, d.UpdatedAt = now, now
	rec := DraftRecord{Draft: d, OrgID: inbox.OrgID, PodID: inbox.PodID}
	rec.Schedule(d.SendAt)
	rec.Labels, rec.Attachments = wire.NonNil(rec.Labels), nil
	if err := s.addDraftAttachments(ctx, &rec, atts); err != nil {
		return DraftRecord{}, false, err
	}

	item, err := s.marshalDraft(ctx, rec, 1)
	if err != nil {
		return DraftRecord{}, false, err
	}
	tx := []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String(s.table), Key: key(inboxPK(inbox.InboxID), skInbox),
			ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(deleting)"),
		}},
	}
	lookup, err := s.putDraftID(rec)
	if err != nil {
		return DraftRecord{}, false, err
	}
	tx = append(tx, lookup)
	clientPos := -1
	if d.ClientID != "" {
		put, err := s.putDraftClient(draftClientItem{keys: draftClientKeys(inbox.OrgID, inbox.InboxID, d.ClientID), Target: rec.DraftID}, prevTarget)
		if err != nil {
			return DraftRecord{}, false, err
		}
		tx = append(tx, put)
		clientPos = len(tx) - 1
	}
	if rec.due() {
		put, err := s.putDue(rec)
		if err != nil {
			return DraftRecord{}, false, err
		}
		tx = append(tx, put)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	reasons := cancelReasons(err)
	switch {
	case clientPos >= 0 && conditionFailed(reasons, clientPos):
		return s.createDraftAgain(ctx, inbox, d.ClientID)
	case conditionFailed(reasons, 1):
		return DraftRecord{}, false, fmt.Errorf("inbox %s: %w", inbox.InboxID, ErrNotFound)
	case err != nil:
		return DraftRecord{}, false, fmt.Errorf("store: create draft in %s: %w", inbox.InboxID, err)
	}
	return rec, true, nil
}

// createDraftAgain answers a create that lost a race on its client_id: the winner's draft.
func (s *Store) createDraftAgain(ctx context.Context, inbox InboxRecord, clientID string) (DraftRecord, bool, error) {
	rec, _, err := s.draftByClient(ctx, inbox, clientID)
	switch {
	case err != nil:
		return DraftRecord{}, false, err
	case rec == nil:
		return DraftRecord{}, false, fmt.Errorf("store: draft client_id %q: %w", clientID, ErrConflict)
	}
	return *rec, false, nil
}

// draftByClient returns the draft made with clientID in inbox, nil when there is none. When a
// marker exists whose draft is gone (deleted with its inbox, or sent long ago), it returns
// the marker's target, which a new create may replace.
func (s *Store) draftByClient(ctx context.Context, inbox InboxRecord, clientID string) (*DraftRecord, string, error) {
	k := draftClientKeys(inbox.OrgID, inbox.InboxID, clientID)
	var m draftClientItem
	switch err := s.getItem(ctx, k.PK, k.SK, &m); {
	case errors.Is(err, ErrNotFound):
		return nil, "", nil
	case err != nil:
		return nil, "", err
	}
	if m.SentMessageID != "" {
		if m.TTL > s.now().Unix() {
			return nil, "", &DraftSentError{DraftID: m.Target, MessageID: m.SentMessageID, ThreadID: m.SentThreadID}
		}
		return nil, m.Target, nil
	}
	rec, err := s.GetDraft(ctx, inbox.InboxID, m.Target)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, m.Target, nil
	case err != nil:
		return nil, "", err
	}
	return &rec, "", nil
}

// putDraftClient is the transaction action that records a client_id marker. It fails when the
// client_id is in use, unless the marker is the stale one the caller saw (prevTarget).
func (s *Store) putDraftClient(m draftClientItem, prevTarget string) (types.TransactWriteItem, error) {
	item, err := marshal(m)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	p := &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if prevTarget != "" {
		p.ConditionExpression = aws.String("attribute_not_exists(pk) OR target = :prev")
		p.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": strAV(prevTarget)}
	}
	return types.TransactWriteItem{Put: p}, nil
}

func (s *Store) putDue(d DraftRecord) (types.TransactWriteItem, error) {
	item, err := marshal(dueItem{keys: dueKeys(d.DraftID, *d.SendAt), InboxID: d.InboxID, DraftID: d.DraftID, OrgID: d.OrgID})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: item}}, nil
}

func (s *Store) deleteDue(draftID string, sendAt time.Time) types.TransactWriteItem {
	k := dueKeys(draftID, sendAt)
	return types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(k.PK, k.SK)}}
}

// addDraftAttachments writes atts to S3 and adds them to the draft.
func (s *Store) addDraftAttachments(ctx context.Context, d *DraftRecord, atts []mail.Attachment) error {
	if len(atts) == 0 {
		return nil
	}
	described := make([]wire.Attachment, len(atts))
	for i := range atts {
		a := &atts[i].Attachment
		if a.AttachmentID == "" {
			a.AttachmentID = newAttachmentID()
		}
		a.Size = int64(len(atts[i].Content))
		a.Filename = truncate(a.Filename, maxFilenameBytes)
		described[i] = *a
	}
	keys, err := s.putAttachments(ctx, d.InboxID, d.DraftID, atts, described)
	if err != nil {
		return err
	}
	if d.AttachmentKeys == nil {
		d.AttachmentKeys = make(map[string]string, len(keys))
	}
	for id, k := range keys {
		d.AttachmentKeys[id] = k
	}
	d.Attachments = append(d.Attachments, described...)
	return nil
}

// GetDraft reads a draft of an inbox. Callers check that the inbox is in the caller's scope.
func (s *Store) GetDraft(ctx context.Context, inboxID, draftID string) (DraftRecord, error) {
	it, err := s.draftItem(ctx, inboxID, draftID)
	return it.DraftRecord, err
}

func (s *Store) draftItem(ctx context.Context, inboxID, draftID string) (draftItem, error) {
	if !strings.HasPrefix(draftID, "drf_") || len(draftID) > maxDraftIDLength {
		return draftItem{}, ErrNotFound
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(inboxPK(NormalizeAddress(inboxID)), draftSK(draftID)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return draftItem{}, fmt.Errorf("store: get draft %s: %w", draftID, err)
	}
	if out.Item == nil {
		return draftItem{}, ErrNotFound
	}
	return s.decodeDraft(ctx, out.Item)
}

// ListDrafts lists the drafts of an inbox, a pod or the organisation (the most specific id of
// sc) by updated_at, most recent first unless pg.Ascending. Before/After bound updated_at.
func (s *Store) ListDrafts(ctx context.Context, sc Scope, pg Page) ([]wire.DraftItem, string, error) {
	var q listQuery
	switch {
	case sc.InboxID != "":
		q = listQuery{index: indexGSI1, pkName: attrGSI1PK, skName: attrGSI1SK, pk: inboxDraftsPK(NormalizeAddress(sc.InboxID))}
	case sc.PodID != "":
		q = listQuery{index: indexGSI2, pkName: attrGSI2PK, skName: attrGSI2SK, pk: podDraftsPK(sc.PodID)}
	default:
		q = listQuery{index: indexGSI3, pkName: attrGSI3PK, skName: attrGSI3SK, pk: orgDraftsPK(sc.OrgID)}
	}
	items, next, err := s.queryPage(ctx, q, pg)
	if err != nil {
		return nil, "", err
	}
	out := make([]wire.DraftItem, 0, len(items))
	for _, item := range items {
		var it draftItem
		if err := unmarshal(item, &it); err != nil {
			return nil, "", err
		}
		out = append(out, it.Draft.Item())
	}
	return out, next, nil
}

// draftAttempts bounds the retries of a draft write that loses a race.
const draftAttempts = 5

// UpdateDraft changes a draft: the attachments add are written to S3 and appended, then
// change edits the draft as stored (its content, labels, attachments, and send_at through
// Schedule); an error from change is returned as is and nothing is written. The draft's
// updated_at moves forward and its due item follows its schedule. It is a read-modify-write
// retried (change called again) when the draft changed in between.
//
// ErrDraftSending: the draft is being sent. ErrNotFound: no such draft.
func (s *Store) UpdateDraft(ctx context.Context, inboxID, draftID string, add []mail.Attachment, change func(*DraftRecord) error) (DraftRecord, error) {
	uploaded := false
	for range draftAttempts {
		it, err := s.draftItem(ctx, inboxID, draftID)
		if err != nil {
			return DraftRecord{}, err
		}
		if it.SendStatus == wire.DraftSending {
			return DraftRecord{}, fmt.Errorf("draft %s: %w", draftID, ErrDraftSending)
		}
		prev := it.DraftRecord
		next := it.DraftRecord
		next.Labels = slices.Clone(next.Labels)
		next.Attachments = slices.Clone(next.Attachments)
		next.AttachmentKeys = make(map[string]string, len(prev.AttachmentKeys)+len(add))
		for id, k := range prev.AttachmentKeys {
			next.AttachmentKeys[id] = k
		}
		if !uploaded {
			if err := s.addDraftAttachments(ctx, &next, add); err != nil {
				return DraftRecord{}, err
			}
			uploaded = true
		} else {
			for _, a := range add {
				next.Attachments = append(next.Attachments, a.Attachment)
				next.AttachmentKeys[a.AttachmentID] = attachmentObjectKey(next.InboxID, next.DraftID, a.AttachmentID)
			}
		}
		if err := change(&next); err != nil {
			return DraftRecord{}, err
		}
		for id := range next.AttachmentKeys {
			if !slices.ContainsFunc(next.Attachments, func(a wire.Attachment) bool { return a.AttachmentID == id }) {
				delete(next.AttachmentKeys, id)
			}
		}
		next.UpdatedAt = wire.UTC(s.now())
		if !next.UpdatedAt.After(prev.UpdatedAt) {
			next.UpdatedAt = prev.UpdatedAt.Add(time.Millisecond)
		}

		item, err := s.marshalDraft(ctx, next, it.Version+1)
		if err != nil {
			return DraftRecord{}, err
		}
		tx := []types.TransactWriteItem{{Put: &types.Put{
			TableName: aws.String(s.table), Item: item,
			ConditionExpression:       aws.String("version = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": numAV(it.Version)},
		}}}
		if prev.due() && (!next.due() || !prev.SendAt.Equal(*next.SendAt)) {
			tx = append(tx, s.deleteDue(prev.DraftID, *prev.SendAt))
		}
		if next.due() {
			put, err := s.putDue(next)
			if err != nil {
				return DraftRecord{}, err
			}
			tx = append(tx, put)
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
		reasons := cancelReasons(err)
		switch {
		case err == nil:
			return next, nil
		case conditionFailed(reasons, 0), isTransactionConflict(reasons):
			continue
		default:
			return DraftRecord{}, fmt.Errorf("store: update draft %s: %w", draftID, err)
		}
	}
	return DraftRecord{}, fmt.Errorf("draft %s: %w", draftID, ErrConflict)
}

// DeleteDraft deletes a draft with its due item and client_id marker. A draft being sent may
// be deleted: the send in flight still completes. The attachments' S3 objects stay.
func (s *Store) DeleteDraft(ctx context.Context, inboxID, draftID string) error {
	for range draftAttempts {
		it, err := s.draftItem(ctx, inboxID, draftID)
		if err != nil {
			return err
		}
		tx := []types.TransactWriteItem{{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: key(it.PK, it.SK),
			ConditionExpression:       aws.String("version = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": numAV(it.Version)},
		}}}
		tx = append(tx, s.deleteDraftID(it.DraftID))
		if it.SendAt != nil {
			tx = append(tx, s.deleteDue(it.DraftID, *it.SendAt))
		}
		clientPos := -1
		if it.ClientID != "" {
			k := draftClientKeys(it.OrgID, it.InboxID, it.ClientID)
			clientPos = len(tx)
			tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{
				TableName: aws.String(s.table), Key: key(k.PK, k.SK),
				ConditionExpression:       aws.String("attribute_not_exists(pk) OR target = :id"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":id": strAV(it.DraftID)},
			}})
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
		reasons := cancelReasons(err)
		switch {
		case err == nil:
			return nil
		case conditionFailed(reasons, 0), isTransactionConflict(reasons):
			continue
		case clientPos >= 0 && conditionFailed(reasons, clientPos):
			// The marker names another draft (a newer create after this one's inbox went
			// away and came back); leave it.
			tx = tx[:clientPos]
			if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx}); err != nil && cancelReasons(err) == nil {
				return fmt.Errorf("store: delete draft %s: %w", draftID, err)
			}
			return nil
		default:
			return fmt.Errorf("store: delete draft %s: %w", draftID, err)
		}
	}
	return fmt.Errorf("draft %s: %w", draftID, ErrConflict)
}

// ClaimDraft takes a draft for sending with one conditional update, so that two senders never
// both take it: send_status becomes sending, with the claim time, sendKey, the
// Idempotency-Key the send will use, and fingerprint, the digest that key is bound to. With
// due, only a scheduled draft whose send_at is at or before now can be taken (the scheduler);
// without, any draft that is not being sent (a send request). Either way a claim older than
// claimTimeout, whose sender died, is taken over, and the dead sender's key and fingerprint
// are kept (the returned record has the ones to send with).
//
// ErrNotFound: no such draft. ErrDraftSending: another sender has it. ErrDraftNotDue: with
// due, the draft is not scheduled or not yet due.
func (s *Store) ClaimDraft(ctx context.Context, inboxID, draftID, sendKey, fingerprint string, due bool, now time.Time) (DraftRecord, error) {
	if !strings.HasPrefix(draftID, "drf_") || len(draftID) > maxDraftIDLength {
		return DraftRecord{}, ErrNotFound
	}
	values := map[string]types.AttributeValue{
		":sending": strAV(wire.DraftSending),
		":now":     numAV64(now.UnixMilli()),
		":stale":   numAV64(now.Add(-claimTimeout).UnixMilli()),
		":key":     strAV(sendKey),
		":fp":      strAV(fingerprint),
		":one":     numAV(1),
	}
	cond := "attribute_exists(pk) AND (attribute_not_exists(send_status) OR send_status <> :sending OR claimed_at < :stale)"
	if due {
		cond = "attribute_exists(pk) AND ((send_status = :scheduled AND send_at_ms <= :now) OR (send_status = :sending AND claimed_at < :stale))"
		values[":scheduled"] = strAV(wire.DraftScheduled)
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(inboxPK(NormalizeAddress(inboxID)), draftSK(draftID)),
		ConditionExpression:                 aws.String(cond),
		UpdateExpression:                    aws.String("SET send_status = :sending, claimed_at = :now, send_key = if_not_exists(send_key, :key), send_fingerprint = if_not_exists(send_fingerprint, :fp), version = version + :one"),
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		var old draftItem
		if ccf.Item == nil {
			if err := s.getItem(ctx, inboxPK(NormalizeAddress(inboxID)), draftSK(draftID), &old); err != nil {
				return DraftRecord{}, err
			}
		} else if err := unmarshal(ccf.Item, &old); err != nil {
			return DraftRecord{}, err
		}
		if old.SendStatus == wire.DraftSending {
			return DraftRecord{}, fmt.Errorf("draft %s: %w", draftID, ErrDraftSending)
		}
		return DraftRecord{}, fmt.Errorf("draft %s: %w", draftID, ErrDraftNotDue)
	case err != nil:
		return DraftRecord{}, fmt.Errorf("store: claim draft %s: %w", draftID, err)
	}
	it, err := s.decodeDraft(ctx, out.Attributes)
	return it.DraftRecord, err
}

// FinishDraftSend removes a draft that claim (the record ClaimDraft returned) has sent as
// sent: the draft and its due item go, and its client_id marker remembers the message for
// IdempotencyTTL (a repeated create must not make the draft again). A draft deleted or taken
// over meanwhile is left to whoever has it.
func (s *Store) FinishDraftSend(ctx context.Context, claim DraftRecord, sent SendResult) error {
	tx := []types.TransactWriteItem{{Delete: &types.Delete{
		TableName: aws.String(s.table), Key: key(inboxPK(claim.InboxID), draftSK(claim.DraftID)),
		ConditionExpression:       aws.String("send_status = :sending AND send_key = :key"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":sending": strAV(wire.DraftSending), ":key": strAV(claim.SendKey)},
	}}}
	tx = append(tx, s.deleteDraftID(claim.DraftID))
	if claim.SendAt != nil {
		tx = append(tx, s.deleteDue(claim.DraftID, *claim.SendAt))
	}
	if claim.ClientID != "" {
		m := draftClientItem{
			keys:   draftClientKeys(claim.OrgID, claim.InboxID, claim.ClientID),
			Target: claim.DraftID, SentMessageID: sent.MessageID, SentThreadID: sent.ThreadID,
			TTL: s.now().Add(IdempotencyTTL).Unix(),
		}
		put, err := s.putDraftClient(m, claim.DraftID)
		if err != nil {
			return err
		}
		tx = append(tx, put)
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	if reasons := cancelReasons(err); conditionFailed(reasons, 0) {
		return nil
	} else if conditionFailed(reasons, len(tx)-1) && claim.ClientID != "" {
		// The client_id marker now names another draft; remove this one without touching it.
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx[:len(tx)-1]})
		if cancelReasons(err) != nil {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("store: finish sending draft %s: %w", claim.DraftID, err)
	}
	return nil
}

// DraftRelease is how a draft leaves sending when its send did not happen.
type DraftRelease struct {
	// Status is the draft's send_status after: wire.DraftScheduled (sent when due, or at the
	// next run if it is due already), wire.DraftFailed, or "" (not scheduled).
	Status string
	Error  string // send_error, with DraftFailed
	// CountAttempt adds one to the draft's count of failed attempts.
	CountAttempt bool
}

// ReleaseDraft gives back the claim on a draft whose send did not happen (claim is the record
// ClaimDraft returned). A scheduled draft keeps its due item; any other loses it. A draft
// deleted or taken over meanwhile is left as it is.
func (s *Store) ReleaseDraft(ctx context.Context, claim DraftRecord, r DraftRelease) error {
	if r.Status == wire.DraftScheduled && claim.SendAt == nil {
		r.Status = ""
	}
	for range draftAttempts {
		it, err := s.draftItem(ctx, claim.InboxID, claim.DraftID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if it.SendStatus != wire.DraftSending || it.SendKey != claim.SendKey {
			return nil
		}
		d := it.DraftRecord
		d.SendStatus, d.SendKey, d.SendFingerprint, d.ClaimedAt, d.SendError = r.Status, "", "", 0, ""
		if r.Status == wire.DraftFailed {
			d.SendError = truncate(r.Error, maxSendErrorBytes)
		}
		if r.CountAttempt {
			d.SendAttempts++
		}
		item, err := s.marshalDraft(ctx, d, it.Version+1)
		if err != nil {
			return err
		}
		tx := []types.TransactWriteItem{{Put: &types.Put{
			TableName: aws.String(s.table), Item: item,
			ConditionExpression:       aws.String("version = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": numAV(it.Version)},
		}}}
		if d.SendAt != nil {
			if d.due() {
				put, err := s.putDue(d)
				if err != nil {
					return err
				}
				tx = append(tx, put)
			} else {
				tx = append(tx, s.deleteDue(d.DraftID, *d.SendAt))
			}
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
		reasons := cancelReasons(err)
		switch {
		case err == nil:
			return nil
		case conditionFailed(reasons, 0), isTransactionConflict(reasons):
			continue
		default:
			return fmt.Errorf("store: release draft %s: %w", claim.DraftID, err)
		}
	}
	return fmt.Errorf("draft %s: %w", claim.DraftID, ErrConflict)
}

// maxSendErrorBytes bounds the send_error kept on a failed draft.
const maxSendErrorBytes = 1024

// DueDraft names a scheduled draft whose send_at has come.
type DueDraft struct {
	InboxID, DraftID string
	SendAt           time.Time
}

// DueDrafts returns up to limit drafts per shard whose send_at is at or before now, oldest
// first: one strongly consistent query of each shard's due items.
func (s *Store) DueDrafts(ctx context.Context, now time.Time, limit int) ([]DueDraft, error) {
	var out []DueDraft
	for shard := range DueShards {
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(s.table), ConsistentRead: aws.Bool(true), Limit: aws.Int32(int32(limit)),
			KeyConditionExpression: aws.String("pk = :pk AND sk < :end"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": strAV(dueShardPK(shard)), ":end": strAV(sortTime(now) + "$"),
			},
		})
		if err != nil {
			return nil, fmt.Errorf("store: due drafts: %w", err)
		}
		for _, item := range res.Items {
			var it dueItem
			if err := unmarshal(item, &it); err != nil {
				return nil, err
			}
			at, _ := time.Parse("2006-01-02T15:04:05.000Z", strings.SplitN(it.SK, "#", 2)[0])
			out = append(out, DueDraft{InboxID: it.InboxID, DraftID: it.DraftID, SendAt: at})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].SendAt.Before(out[j].SendAt) })
	return out, nil
}

// ForgetDue removes the due item of a draft that no longer exists (its inbox was deleted).
func (s *Store) ForgetDue(ctx context.Context, d DueDraft) error {
	k := dueKeys(d.DraftID, d.SendAt)
	if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(k.PK, k.SK)}); err != nil {
		return fmt.Errorf("store: forget due draft %s: %w", d.DraftID, err)
	}
	return nil
}

// SentResult returns the result recorded for a completed send with idempotencyKey from the
// inbox, nil when there is none (never used, released, expired, or pending for longer than
// a sender lives). ErrIdempotencyKeyReused: the key is held by a request with another
// fingerprint. ErrSendInProgress: this request's send is still running.
func (s *Store) SentResult(ctx context.Context, inboxID, idempotencyKey, fingerprint string) (*SendResult, error) {
	var it idempotencyItem
	switch err := s.getItem(ctx, inboxPK(NormalizeAddress(inboxID)), idempotencySK(idempotencyKey), &it); {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	now := s.now()
	switch {
	case it.TTL < now.Unix(), it.State == claimPending && it.ClaimedAt < now.Add(-claimTimeout).UnixMilli():
		return nil, nil
	case it.Fingerprint != fingerprint:
		return nil, fmt.Errorf("inbox %s: %w", inboxID, ErrIdempotencyKeyReused)
	case it.State != claimDone:
		return nil, ErrSendInProgress
	}
	return &SendResult{MessageID: it.MessageID, ThreadID: it.ThreadID}, nil
}

func numAV(n int) types.AttributeValue { return numAV64(int64(n)) }

func numAV64(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
