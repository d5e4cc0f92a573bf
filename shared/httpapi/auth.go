package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/store"
)

// authenticate finds the API key of a request. The SDKs send `Authorization: Bearer <key>`;
// `x-api-key: <key>` is accepted too for hand-written clients. Answers:
// no key → 401 missing_authorization; another scheme → 401 invalid_token_type; a key that is
// not on file → 401 unknown_api_key.
func (s *server) authenticate(r *http.Request) (auth.Principal, error) {
	secret := ""
	if h := strings.TrimSpace(r.Header.Get("Authorization")); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return auth.Principal{}, unauthorized("invalid_token_type", "Authorization must be `Bearer <api key>`")
		}
		secret = strings.TrimSpace(token)
	} else {
		secret = strings.TrimSpace(r.Header.Get("X-Api-Key"))
	}
	if secret == "" {
		return auth.Principal{}, unauthorized("missing_authorization", "missing API key: send `Authorization: Bearer <api key>`")
	}
	k, err := s.st.APIKeyByHash(r.Context(), auth.Hash(secret))
	if errors.Is(err, store.ErrNotFound) {
		return auth.Principal{}, unauthorized("unknown_api_key", "unknown API key")
	}
	if err != nil {
		return auth.Principal{}, err
	}
	s.recordUse(r, k)
	return auth.FromKey(k), nil
}

// usedAtResolution is how often a key's used_at is written: at most once a minute per key
// and warm instance, so busy keys do not cost a write per request.
const usedAtResolution = time.Minute

// recordUse sets the key's used_at when the recorded one is older than usedAtResolution.
// It is best effort: a failure is logged and the request goes on.
func (s *server) recordUse(r *http.Request, k store.APIKey) {
	now := s.now()
	if k.UsedAt != nil && now.Sub(*k.UsedAt) < usedAtResolution {
		return
	}
	if err := s.st.TouchAPIKey(r.Context(), k, now); err != nil {
		s.log.WarnContext(r.Context(), "record api key use", slog.String("api_key_id", k.APIKeyID), slog.Any("err", err))
	}
}
