package store

import (
	"context"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// ThreadRecord is a thread with the organisation and pod of its inbox.
type ThreadRecord struct {
	wire.ThreadItem
	OrgID string `json:"organization_id"`
	PodID string `json:"pod_id"`
}

type threadItem struct {
	keys
	ThreadRecord
	// Version counts the thread's updates; each write is conditioned on the version it read
	// (optimistic concurrency between deliveries to the same thread).
	Version int `json:"version"`
}

// threadKeys put the thread in its inbox's, pod's and organisation's lists, ordered by last
// activity: the sort key is rewritten on every message, so the thread moves up.
func threadKeys(t ThreadRecord) keys {
	sk := timeID(t.Timestamp, t.ThreadID)
	return keys{
		PK: threadPK(t.ThreadID), SK: skThread,
		GSI1PK: inboxThreadsPK(t.InboxID), GSI1SK: sk,
		GSI2PK: podThreadsPK(t.PodID), GSI2SK: sk,
		GSI3PK: orgThreadsPK(t.OrgID), GSI3SK: sk,
	}
}

// Scope selects whose threads to list; the most specific non-empty id applies.
type Scope struct {
	OrgID, PodID, InboxID string
}

// GetThread reads a thread by id. Callers check that its inbox, pod or organisation is in the
// caller's scope.
func (s *Store) GetThread(ctx context.Context, threadID string) (ThreadRecord, error) {
	var it threadItem
	if err := s.getItem(ctx, threadPK(threadID), skThread, &it); err != nil {
		return ThreadRecord{}, err
	}
	normalizeThread(&it.ThreadItem)
	return it.ThreadRecord, nil
}

// ListThreads lists the threads of an inbox, a pod or the organisation by last activity,
// most recent first unless pg.Ascending. Before/After bound the last activity.
func (s *Store) ListThreads(ctx context.Context, sc Scope, pg Page) ([]wire.ThreadItem, string, error) {
	var q listQuery
	switch {
	case sc.InboxID != "":
		q = listQuery{index: indexGSI1, pkName: attrGSI1PK, skName: attrGSI1SK, pk: inboxThreadsPK(NormalizeAddress(sc.InboxID))}
	case sc.PodID != "":
		q = listQuery{index: indexGSI2, pkName: attrGSI2PK, skName: attrGSI2SK, pk: podThreadsPK(sc.PodID)}
	default:
		q = listQuery{index: indexGSI3, pkName: attrGSI3PK, skName: attrGSI3SK, pk: orgThreadsPK(sc.OrgID)}
	}
	items, next, err := s.queryPage(ctx, q, pg)
	if err != nil {
		return nil, "", err
	}
	out := make([]wire.ThreadItem, 0, len(items))
	for _, item := range items {
		var it threadItem
		if err := unmarshal(item, &it); err != nil {
			return nil, "", err
		}
		normalizeThread(&it.ThreadItem)
		out = append(out, it.ThreadItem)
	}
	return out, next, nil
}

// normalizeThread restores the required arrays that are not stored when empty.
func normalizeThread(t *wire.ThreadItem) {
	t.Labels, t.Senders, t.Recipients = wire.NonNil(t.Labels), wire.NonNil(t.Senders), wire.NonNil(t.Recipients)
}
