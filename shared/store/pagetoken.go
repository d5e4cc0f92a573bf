package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Page tokens are sealed, not signed: a token is base64url(nonce ‖ AES-256-GCM ciphertext),
// and the plaintext is the key to resume the list after (a DynamoDB LastEvaluatedKey). Nothing
// in a token is readable, neither the table's partition names nor the ids and addresses in
// its sort keys.
//
// The additional authenticated data binds a token to the list it was issued for (partition,
// index, filters and order: listQuery.fingerprint) and to its owner (WithPageOwner: the
// REST API puts the route and the calling key's scope there). A token opens only for the
// same list asked by an owner of the same scope; anything else, tampered, truncated or
// issued under another secret, is ErrBadPageToken.

// pageTokenInfo separates the sealing key from every other use of the token secret.
const pageTokenInfo = "pigeon page token v1"

// pageSealer seals and opens page tokens.
type pageSealer struct{ aead cipher.AEAD }

// newPageSealer derives the AES-256 key from secret with HKDF-SHA256.
func newPageSealer(secret []byte) pageSealer {
	key, err := hkdf.Key(sha256.New, secret, nil, pageTokenInfo, 32)
	if err != nil {
		panic(fmt.Sprintf("store: derive page token key: %v", err)) // only for lengths over 255·32
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(fmt.Sprintf("store: page token cipher: %v", err)) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(fmt.Sprintf("store: page token AEAD: %v", err))
	}
	return pageSealer{aead: aead}
}

type pageOwnerKey struct{}

// WithPageOwner returns ctx with the owner that page tokens issued and accepted under it are
// bound to: a token issued to one owner is refused (ErrBadPageToken) to any other.
func WithPageOwner(ctx context.Context, owner string) context.Context {
	return context.WithValue(ctx, pageOwnerKey{}, owner)
}

func pageOwner(ctx context.Context) string {
	owner, _ := ctx.Value(pageOwnerKey{}).(string)
	return owner
}

// pageBinding is the additional data of a token: the list's fingerprint and the owner.
func pageBinding(ctx context.Context, fingerprint string) []byte {
	return []byte(pageTokenInfo + "\x00" + fingerprint + "\x00" + pageOwner(ctx))
}

// seal turns the key to resume after into a token bound to binding.
func (ps pageSealer) seal(start map[string]types.AttributeValue, binding []byte) (string, error) {
	plain := make(map[string]string, len(start))
	for k, v := range start {
		sv, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return "", fmt.Errorf("store: page key attribute %s is not a string", k)
		}
		plain[k] = sv.Value
	}
	payload, err := json.Marshal(plain)
	if err != nil {
		return "", fmt.Errorf("store: encode page token: %w", err)
	}
	nonce := make([]byte, ps.aead.NonceSize(), ps.aead.NonceSize()+len(payload)+ps.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("store: page token nonce: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(ps.aead.Seal(nonce, nonce, payload, binding)), nil
}

// open returns the key a token resumes after, or ErrBadPageToken.
func (ps pageSealer) open(token string, binding []byte) (map[string]types.AttributeValue, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < ps.aead.NonceSize()+ps.aead.Overhead() {
		return nil, ErrBadPageToken
	}
	n := ps.aead.NonceSize()
	payload, err := ps.aead.Open(nil, raw[:n], raw[n:], binding)
	if err != nil {
		return nil, ErrBadPageToken
	}
	var plain map[string]string
	if err := json.Unmarshal(payload, &plain); err != nil || len(plain) == 0 {
		return nil, ErrBadPageToken
	}
	start := make(map[string]types.AttributeValue, len(plain))
	for k, v := range plain {
		start[k] = strAV(v)
	}
	return start, nil
}
