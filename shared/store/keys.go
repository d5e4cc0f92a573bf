package store

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Attribute and index names of the table (see the package comment for the layout).
const (
	attrPK     = "pk"
	attrSK     = "sk"
	attrGSI1PK = "gsi1pk"
	attrGSI1SK = "gsi1sk"
	attrGSI2PK = "gsi2pk"
	attrGSI2SK = "gsi2sk"
	attrGSI3PK = "gsi3pk"
	attrGSI3SK = "gsi3sk"
	attrTTL    = "ttl"

	indexGSI1 = "gsi1"
	indexGSI2 = "gsi2"
	indexGSI3 = "gsi3"
)

// keys are the key attributes every item carries; the GSI ones only where the item is in
// that index (empty strings are omitted, which keeps the item out of the index).
type keys struct {
	PK     string `json:"pk"`
	SK     string `json:"sk"`
	GSI1PK string `json:"gsi1pk,omitempty"`
	GSI1SK string `json:"gsi1sk,omitempty"`
	GSI2PK string `json:"gsi2pk,omitempty"`
	GSI2SK string `json:"gsi2sk,omitempty"`
	GSI3PK string `json:"gsi3pk,omitempty"`
	GSI3SK string `json:"gsi3sk,omitempty"`
}

// sortTime formats t for sort keys: RFC 3339 UTC with fixed-width milliseconds, so that text
// order is time order.
func sortTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// EventKeyPrefix begins the pk of every event item: what the table stream's filter lets
// through to fanout.
const EventKeyPrefix = "EVT#"

// timeID is the "<time>#<id>" sort key of time-ordered lists.
func timeID(t time.Time, id string) string { return sortTime(t) + "#" + id }

func keyHashPK(hash string) string      { return "KEYHASH#" + hash }
func apiKeyPK(id string) string         { return "KEY#" + id }
func podPK(id string) string            { return "POD#" + id }
func inboxPK(id string) string          { return "INBOX#" + id }
func threadPK(id string) string         { return "THREAD#" + id }
func eventPK(id string) string          { return EventKeyPrefix + id }
func messageSK(messageID string) string { return "MSG#" + messageID }
func midSK(canonical string) string     { return "MID#" + canonical }
func sourceSK(objectKey string) string  { return "SRC#" + objectKey }
func clientPK(kind, org, clientID string) string {
	return "CLIENT#" + kind + "#" + org + "#" + clientID
}

func orgKeysPK(org string) string     { return "ORG#" + org + "#KEYS" }
func scopeKeysPK(scope string) string { return "SCOPE#" + scope + "#KEYS" }
func podKeysPK(pod string) string     { return "POD#" + pod + "#KEYS" }
func orgPodsPK(org string) string     { return "ORG#" + org + "#PODS" }
func orgInboxesPK(org string) string  { return "ORG#" + org + "#INBOXES" }
func podInboxesPK(pod string) string  { return "POD#" + pod + "#INBOXES" }
func inboxMsgsPK(inbox string) string { return "INBOX#" + inbox + "#MSGS" }
func threadMsgsPK(th string) string   { return "THREAD#" + th + "#MSGS" }
func inboxThreadsPK(in string) string { return "INBOX#" + in + "#THREADS" }
func podThreadsPK(pod string) string  { return "POD#" + pod + "#THREADS" }
func orgThreadsPK(org string) string  { return "ORG#" + org + "#THREADS" }
func inboxEventsPK(in string) string  { return "INBOX#" + in + "#EVTS" }

const (
	skAPIKey  = "KEY"
	skKeyHash = "KEYHASH"
	skPod     = "POD"
	skInbox   = "INBOX"
	skClient  = "CLIENT"
	skThread  = "THREAD"
	skEvent   = "EVT"
)

// objectHash names S3 objects after a message id: hex SHA-256, first 32 digits, so keys are
// deterministic (retries overwrite the same objects) and free of the id's odd characters.
func objectHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

func bodyObjectKey(inbox, messageID string) string {
	return "body/" + inbox + "/" + objectHash(messageID) + ".json"
}

func attachmentObjectKey(inbox, messageID, attachmentID string) string {
	return "att/" + inbox + "/" + objectHash(messageID) + "/" + attachmentID
}
