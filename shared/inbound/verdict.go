package inbound

import (
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// verdictFail is SES's verdict status for a failed check (aws-facts §1.2).
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
