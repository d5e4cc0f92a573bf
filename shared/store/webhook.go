package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/oklog/ulid/v2"

	"github.com/pigeon-mail/pigeon/shared/events"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

const clientKindWebhook = "webhook"

// Webhook is a webhook as stored: the wire object, the organisation, the scope it was created
// at (ScopePodID for pod webhooks and for inbox webhooks, the pod of their inbox;
// ScopeInboxID for inbox webhooks; neither for organisation webhooks) and its custom headers.
type Webhook struct {
	wire.Webhook
	OrgID        string            `json:"organization_id"`
	ScopePodID   string            `json:"scope_pod_id,omitempty"`
	ScopeInboxID string            `json:"scope_inbox_id,omitempty"`
	Headers      map[string]string `json:"headers,omitempty"`
}

// Subscription is what the webhook receives. An inbox webhook hears its inbox; a pod webhook
// its pod, or only the pod's inboxes in InboxIDs when it names some; an organisation webhook
// the inboxes and pods it names, or the whole organisation when it names none.
func (w Webhook) Subscription() events.Subscription {
	sub := events.Subscription{OrgID: w.OrgID, EventTypes: w.EventTypes}
	switch {
	case w.ScopeInboxID != "":
		sub.InboxIDs = []string{w.ScopeInboxID}
	case w.ScopePodID != "":
		sub.InboxIDs = w.InboxIDs
		if len(sub.InboxIDs) == 0 {
			sub.PodIDs = []string{w.ScopePodID}
		}
	default:
		sub.InboxIDs, sub.PodIDs = w.InboxIDs, w.PodIDs
	}
	return sub
}

type webhookItem struct {
	keys
	Webhook
	// Version counts the webhook's writes; each update is conditioned on the version it read.
	Version int `json:"version"`
}

const skWebhook = "WEBHOOK"

func webhookPK(id string) string          { return "WEBHOOK#" + id }
func orgWebhooksPK(org string) string     { return "ORG#" + org + "#WEBHOOKS" }
func scopeWebhooksPK(scope string) string { return "SCOPE#" + scope + "#WEBHOOKS" }

// listScope is the GSI2 scope of the webhook, in API keys' form: "inbox:<id>", "pod:<id>" or
// "" for organisation webhooks.
func (w Webhook) listScope() string {
	return APIKey{PodID: w.ScopePodID, InboxID: w.ScopeInboxID}.scope()
}

func (w Webhook) item(version int) webhookItem {
	it := webhookItem{keys: keys{
		PK: webhookPK(w.WebhookID), SK: skWebhook,
		GSI1PK: orgWebhooksPK(w.OrgID), GSI1SK: timeID(w.CreatedAt, w.WebhookID),
	}, Webhook: w, Version: version}
	if scope := w.listScope(); scope != "" {
		it.GSI2PK, it.GSI2SK = scopeWebhooksPK(scope), timeID(w.CreatedAt, w.WebhookID)
	}
	return it
}

// writeWebhook is the transaction that writes w at version (conditioned on version-1, or on
// absence for version 1) with its index entries, removing those of prev it no longer has.
func (s *Store) writeWebhook(w Webhook, version int, prev *Webhook) ([]types.TransactWriteItem, error) {
	av, err := marshal(w.item(version))
	if err != nil {
		return nil, err
	}
	put := &types.Put{TableName: aws.String(s.table), Item: av}
	if version == 1 {
		put.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		put.ConditionExpression = aws.String("version = :v")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.Itoa(version - 1)}}
	}
	tx := []types.TransactWriteItem{{Put: put}}
	sub := w.Subscription()
	targets := subscriptionTargets(sub)
	copyOf := w
	for _, t := range targets {
		av, err := marshal(subIndexItem{
			keys: subIndexKeys(webhookPK(w.WebhookID), webhookPK(w.WebhookID), t),
			Kind: subKindWebhook, Sub: subAttr(sub), Webhook: &copyOf,
		})
		if err != nil {
			return nil, err
		}
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: av}})
	}
	if prev != nil {
		for _, t := range subscriptionTargets(prev.Subscription()) {
			if !slices.Contains(targets, t) {
				tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(webhookPK(w.WebhookID), t.key())}})
			}
		}
	}
	return tx, nil
}

// CreateWebhook creates a webhook with a new "ep_<ulid>" id, enabled, with w's URL, secret,
// event types, filters, scope and headers. With a client_id already used for a webhook of the
// organisation it returns that webhook and false instead.
func (s *Store) CreateWebhook(ctx context.Context, w Webhook) (Webhook, bool, error) {
	if target, err := s.clientTarget(ctx, clientKindWebhook, w.OrgID, w.ClientID); err != nil {
		return Webhook{}, false, err
	} else if target != "" {
		existing, err := s.GetWebhook(ctx, target)
		return existing, false, err
	}
	if w.OrgID == "" || w.URL == "" || w.Secret == "" {
		return Webhook{}, false, errors.New("store: a webhook needs an organisation, a URL and a secret")
	}
	w.WebhookID = "ep_" + strings.ToLower(ulid.Make().String())
	now := wire.UTC(s.now())
	w.CreatedAt, w.UpdatedAt, w.Enabled = now, now, true
	tx, err := s.writeWebhook(w, 1, nil)
	if err != nil {
		return Webhook{}, false, err
	}
	if w.ClientID != "" {
		c, err := s.putClient(clientKindWebhook, w.OrgID, w.ClientID, w.WebhookID)
		if err != nil {
			return Webhook{}, false, err
		}
		tx = append(tx, c)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	if reasons := cancelReasons(err); w.ClientID != "" && conditionFailed(reasons, len(tx)-1) {
		return s.CreateWebhook(ctx, w) // a concurrent create with the same client_id won
	} else if err != nil {
		return Webhook{}, false, fmt.Errorf("store: create webhook: %w", err)
	}
	return w, true, nil
}

// GetWebhook reads a webhook by id (strongly consistent).
func (s *Store) GetWebhook(ctx context.Context, id string) (Webhook, error) {
	w, _, err := s.webhookItem(ctx, id)
	return w, err
}

func (s *Store) webhookItem(ctx context.Context, id string) (Webhook, int, error) {
	if id == "" {
		return Webhook{}, 0, ErrNotFound
	}
	var it webhookItem
	if err := s.getItem(ctx, webhookPK(id), skWebhook, &it); err != nil {
		return Webhook{}, 0, err
	}
	return it.Webhook, it.Version, nil
}

// UpdateWebhook applies change to the webhook and writes it with its index entries in one
// transaction, retrying on a concurrent update. change may refuse with an error, which is
// returned as it is.
func (s *Store) UpdateWebhook(ctx context.Context, id string, change func(*Webhook) error) (Webhook, error) {
	for range 5 {
		w, version, err := s.webhookItem(ctx, id)
		if err != nil {
			return Webhook{}, err
		}
		prev := w
		w.Headers = maps.Clone(w.Headers)
		w.EventTypes, w.InboxIDs, w.PodIDs = slices.Clone(w.EventTypes), slices.Clone(w.InboxIDs), slices.Clone(w.PodIDs)
		if err := change(&w); err != nil {
			return Webhook{}, err
		}
		w.UpdatedAt = wire.UTC(s.now())
		if !w.UpdatedAt.After(prev.UpdatedAt) {
			w.UpdatedAt = prev.UpdatedAt.Add(time.Millisecond)
		}
		tx, err := s.writeWebhook(w, version+1, &prev)
		if err != nil {
			return Webhook{}, err
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
		reasons := cancelReasons(err)
		switch {
		case err == nil:
			return w, nil
		case conditionFailed(reasons, 0), isTransactionConflict(reasons):
			continue
		default:
			return Webhook{}, fmt.Errorf("store: update webhook %s: %w", id, err)
		}
	}
	return Webhook{}, fmt.Errorf("webhook %s: %w", id, ErrConflict)
}

// DeleteWebhook removes a webhook, its index entries and its client_id marker. Deliveries
// already queued are dropped by the webhooks function, which reads the webhook first.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	w, err := s.GetWebhook(ctx, id)
	if err != nil {
		return err
	}
	keys, err := s.partition(ctx, webhookPK(id))
	if err != nil {
		return err
	}
	tx := make([]types.TransactWriteItem, 0, len(keys)+1)
	for _, k := range keys {
		tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: k}})
	}
	if w.ClientID != "" {
		tx = append(tx, s.deleteClient(clientKindWebhook, w.OrgID, w.ClientID))
	}
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx}); err != nil {
		return fmt.Errorf("store: delete webhook %s: %w", id, err)
	}
	return nil
}

// ListWebhooks lists the webhooks of the organisation (podID and inboxID empty: every
// webhook, whatever its scope), or those created at a pod's or an inbox's scope, newest first
// unless pg.Ascending.
func (s *Store) ListWebhooks(ctx context.Context, orgID, podID, inboxID string, pg Page) ([]Webhook, string, error) {
	q := listQuery{index: indexGSI1, pkName: attrGSI1PK, skName: attrGSI1SK, pk: orgWebhooksPK(orgID)}
	if scope := (APIKey{PodID: podID, InboxID: inboxID}).scope(); scope != "" {
		q = listQuery{index: indexGSI2, pkName: attrGSI2PK, skName: attrGSI2SK, pk: scopeWebhooksPK(scope)}
	}
	items, next, err := s.queryPage(ctx, q, pg)
	if err != nil {
		return nil, "", err
	}
	out := make([]Webhook, 0, len(items))
	for _, item := range items {
		var it webhookItem
		if err := unmarshal(item, &it); err != nil {
			return nil, "", err
		}
		if it.OrgID == orgID {
			out = append(out, it.Webhook)
		}
	}
	return out, next, nil
}

// DeleteWebhooksOf deletes the webhooks created at a pod's or an inbox's scope, when that pod
// or inbox is deleted: they would otherwise stay listed at the organisation's scope, and an
// inbox re-created at the same address would inherit them.
func (s *Store) DeleteWebhooksOf(ctx context.Context, orgID, podID, inboxID string) error {
	if podID == "" && inboxID == "" {
		return fmt.Errorf("store: delete webhooks: no pod or inbox given")
	}
	pg := Page{Limit: MaxLimit}
	for {
		hooks, next, err := s.ListWebhooks(ctx, orgID, podID, inboxID, pg)
		if err != nil {
			return err
		}
		for _, w := range hooks {
			if err := s.DeleteWebhook(ctx, w.WebhookID); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		if next == "" {
			return nil
		}
		pg.Token = next
	}
}
