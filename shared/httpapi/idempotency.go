package httpapi

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
)

// The Idempotency-Key header of the send routes and of draft send. An inbox remembers each
// key for store.IdempotencyTTL, bound to the fingerprint of the request that first used it:
// the same request again answers the first result without sending, and any other request
// with the key (another route, another message replied to or forwarded, another draft, another
// body) is refused with 422 IdempotencyKeyReusedError.

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 256

// idempotencyKey reads the request's Idempotency-Key ("" when it has none).
func idempotencyKey(r *http.Request) (string, error) {
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if len(key) > maxIdempotencyKey {
		return "", invalid("Idempotency-Key", "the Idempotency-Key header is at most %d characters", maxIdempotencyKey)
	}
	return key, nil
}

// requestFingerprint is the SHA-256 (hex) of what makes a keyed request the request it is:
// route names the operation ("send", "reply", "draft-send", …), target what it acts on (the
// message replied to or forwarded, the draft; "" for a new send), and body is the decoded
// request body encoded again, so that the JSON's field order, spacing and escapes do not
// matter. The inbox is not part of it: keys are kept per inbox.
func requestFingerprint(route, target string, body any) (string, error) {
	canonical, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(route), []byte(target), canonical} {
		// Each part is length-prefixed, so that no two different requests write the same bytes.
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(part))))
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
