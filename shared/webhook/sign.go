// Package webhook delivers events to customers' URLs the way Svix does for AgentMail: signed
// per the Standard Webhooks specification (https://www.standardwebhooks.com, the svix-* and
// webhook-* headers), POSTed with a 10 s timeout, retried on Svix's schedule, and kept away from
// private networks in deployed mode.
//
// The package holds the rules and the HTTP client; which webhooks want an event (package
// events), the queue that carries Tasks between attempts and the dead-letter queue belong to
// the fanout and webhooks functions.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every signing secret; the rest is the key, base64-encoded.
const SecretPrefix = "whsec_"

// secretBytes is the key length of new secrets: 24 random bytes (192 bits), as Svix mints them.
const secretBytes = 24

// NewSecret mints a signing secret: whsec_ followed by the base64 of 24 random bytes.
func NewSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24 crashes the program instead)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// key decodes a secret into the HMAC key. The prefix is optional, as in the Standard Webhooks
// libraries.
func key(secret string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(k) == 0 {
		return nil, errors.New("webhook: signing secret is not whsec_ followed by base64")
	}
	return k, nil
}

// Sign returns the signature of one delivery, in the form the svix-signature and
// webhook-signature headers carry: "v1," + base64(HMAC-SHA256(key, msgID + "." + unix seconds
// + "." + body)), where key is the base64-decoded part of secret after whsec_.
//
// It returns an error, rather than a signature no receiver could verify, when the secret is
// malformed (only a corrupted stored secret can be; NewSecret's never are).
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	k, err := key(secret)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, k)
	fmt.Fprintf(m, "%s.%d.", msgID, ts.Unix())
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

// Tolerance is how far a delivery's timestamp may be from the receiver's clock: the 5 minutes
// the Svix and Standard Webhooks libraries use.
const Tolerance = 5 * time.Minute

// Verify checks a delivery as a receiver does (Svix's Webhook.verify): the webhook-* headers, or
// the svix-* ones, must carry a timestamp within Tolerance of now and a v1 signature of body
// made with secret. Pigeon does not need it to send; it is here for tests and for receivers
// written in Go.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	id, stamp, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" {
		id, stamp, sigs = h.Get("svix-id"), h.Get("svix-timestamp"), h.Get("svix-signature")
	}
	if id == "" || stamp == "" || sigs == "" {
		return errors.New("webhook: missing id, timestamp or signature header")
	}
	sec, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		return errors.New("webhook: malformed timestamp")
	}
	ts := time.Unix(sec, 0)
	if ts.Before(now.Add(-Tolerance)) || ts.After(now.Add(Tolerance)) {
		return errors.New("webhook: timestamp outside the tolerance")
	}
	want, err := Sign(secret, id, ts, body)
	if err != nil {
		return err
	}
	for _, sig := range strings.Fields(sigs) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return errors.New("webhook: no matching signature")
}
