// Package auth is who may do what: API key secrets (minting and hashing), the Principal an
// authenticated request acts as, its permission and scope checks, and the bootstrap
// organisation key a deployment starts with.
//
// Keys are stored only as the SHA-256 hex of the secret, so a leaked table does not leak keys;
// the secret is shown once, when the key is created.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/pigeon-mail/pigeon/shared/store"
)

// SecretPrefix starts every Pigeon API key, like AgentMail's (`am_`); the official SDKs pick
// the EU host only for `am_eu_`, so plain `am_` keeps them on the configured base URL.
const SecretPrefix = "am_"

// secretChars is the number of random base62 characters after SecretPrefix (≈256 bits).
const secretChars = 43

// prefixLen is how much of the secret is kept in clear to recognise a key in listings.
const prefixLen = 12

// BootstrapKeyID is the id of the organisation key created from the deployment's bootstrap secret.
const BootstrapKeyID = "ak_bootstrap"

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Hash is the stored form of a secret: the SHA-256 of it, hex-encoded.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewSecret mints a random API key secret and the prefix of it shown in listings.
func NewSecret() (secret, prefix string) {
	b := make([]byte, secretChars)
	max := big.NewInt(int64(len(base62)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(fmt.Sprintf("auth: crypto/rand failed: %v", err)) // crypto/rand never fails on supported platforms
		}
		b[i] = base62[n.Int64()]
	}
	secret = SecretPrefix + string(b)
	return secret, Prefix(secret)
}

// Prefix is the part of a secret that may be shown again after creation.
func Prefix(secret string) string {
	if len(secret) <= prefixLen {
		return secret
	}
	return secret[:prefixLen]
}

// TokenKey derives the key that signs page tokens from the bootstrap secret, for deployments
// that do not set one of their own.
func TokenKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("page-token"))
	return m.Sum(nil)
}

// Principal is what an authenticated request acts as: one API key and its scope. An
// organisation key has neither PodID nor InboxID; a pod key has PodID; an inbox key has InboxID
// and the PodID of that inbox.
type Principal struct {
	APIKeyID    string
	OrgID       string
	PodID       string
	InboxID     string
	Permissions map[string]bool // nil: every permission; otherwise only the true entries
}

// FromKey is the principal of a stored API key.
func FromKey(k store.APIKey) Principal {
	return Principal{APIKeyID: k.APIKeyID, OrgID: k.OrgID, PodID: k.PodID, InboxID: k.InboxID, Permissions: k.Permissions}
}

// Can reports whether the key holds permission perm (the ApiKeyPermissions of AgentMail's v0 API).
func (p Principal) Can(perm string) bool {
	if p.Permissions == nil {
		return true
	}
	return p.Permissions[perm]
}

// ScopeType is "organization", "pod" or "inbox", the most specific scope of the key.
func (p Principal) ScopeType() string {
	switch {
	case p.InboxID != "":
		return "inbox"
	case p.PodID != "":
		return "pod"
	}
	return "organization"
}

// CanSeePod reports whether the key's scope covers pod podID. An inbox key sees the pod of its inbox.
func (p Principal) CanSeePod(podID string) bool {
	return p.PodID == "" || p.PodID == podID
}

// CanSeeInbox reports whether the key's scope covers the inbox.
func (p Principal) CanSeeInbox(in store.InboxRecord) bool {
	if in.OrgID != p.OrgID || !p.CanSeePod(in.PodID) {
		return false
	}
	return p.InboxID == "" || p.InboxID == in.InboxID
}

// CanSeeThread reports whether the key's scope covers the thread.
func (p Principal) CanSeeThread(t store.ThreadRecord) bool {
	if t.OrgID != p.OrgID || !p.CanSeePod(t.PodID) {
		return false
	}
	return p.InboxID == "" || p.InboxID == t.InboxID
}

// Bootstrap makes sure the deployment's bootstrap secret is a working organisation key
// (id ak_bootstrap, all permissions) and that the organisation has its default pod. It is run at
// every cold start and is idempotent: an existing key for the same secret is left as it is.
func Bootstrap(ctx context.Context, st *store.Store, orgID, secret string) error {
	if secret == "" {
		return errors.New("auth: bootstrap secret is empty")
	}
	hash := Hash(secret)
	k, err := st.APIKeyByHash(ctx, hash)
	switch {
	case err == nil && k.APIKeyID == BootstrapKeyID && k.OrgID == orgID:
	case err == nil || errors.Is(err, store.ErrNotFound):
		// A new deployment, or a rotated secret: (re)write ak_bootstrap, keeping its creation
		// time; PutAPIKey drops the by-hash entry of the old secret.
		now := time.Now().UTC()
		k := store.APIKey{
			APIKeyID: BootstrapKeyID, Name: "bootstrap", Prefix: Prefix(secret), Hash: hash,
			OrgID: orgID, CreatedAt: now, UpdatedAt: now,
		}
		if old, err := st.GetAPIKey(ctx, BootstrapKeyID); err == nil {
			k.CreatedAt = old.CreatedAt
		}
		if err := st.PutAPIKey(ctx, k); err != nil {
			return fmt.Errorf("auth: bootstrap key: %w", err)
		}
	default:
		return fmt.Errorf("auth: bootstrap key: %w", err)
	}
	if _, err := st.EnsureDefaultPod(ctx, orgID); err != nil {
		return fmt.Errorf("auth: default pod: %w", err)
	}
	return nil
}
