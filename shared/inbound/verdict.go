package inbound

import (
	"context"
	"slices"

	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// verdictFail is SES's verdict status for a failed check.
const verdictFail = "FAIL"

// classify turns SES's verdicts into the labels added to the message and the event type
// (see the package comment): spam or virus FAIL → spam; DMARC FAIL, or SPF and DKIM both
// FAIL → unauthenticated. Spam decides the event type when both apply.
func classify(v store.Verdicts) (labels []string, eventType string) {
	eventType = wire.EventMessageReceived
	unauthenticated := v.DMARC == verdictFail || (v.SPF == verdictFail && v.DKIM == verdictFail)
	if unauthenticated {
		labels = append(labels, wire.LabelUnauthenticated)
		eventType = wire.EventMessageReceivedUnauthenticated
	}
	if v.Spam == verdictFail || v.Virus == verdictFail {
		labels = append(labels, wire.LabelSpam)
		eventType = wire.EventMessageReceivedSpam
	}
	return labels, eventType
}

// applyReceiveList applies the inbox's receive allow/block lists (inbox, pod, organisation;
// see package lists for the rule) to the sender. A blocked sender's mail is still stored — raw
// mail is never lost — but labelled blocked, which keeps it out of lists unless
// include_blocked is asked with the label_blocked_read permission, and it emits only
// message.received.blocked. Mail without a readable From address is judged as allowed.
func (h *Handler) applyReceiveList(ctx context.Context, in store.InboxRecord, from string, labels []string, eventType string) ([]string, string, error) {
	addr := addrSpec(from)
	if addr == "" {
		return labels, eventType, nil
	}
	d, err := h.Store.CheckList(ctx, in.OrgID, in.PodID, in.InboxID, "receive", addr)
	if err != nil || d.Allowed {
		return labels, eventType, err
	}
	return append(slices.Clone(labels), wire.LabelBlocked), wire.EventMessageReceivedBlocked, nil
}
