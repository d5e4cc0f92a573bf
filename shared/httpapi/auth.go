package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/store"
)

// authenticate finds the API key of a request. The SDKs send `Authorization: Bearer <key>`;
// `x-api-key: <key>` is accepted too for hand-written clients. Answers (agentmail-v0.md §1.2):
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
	return auth.FromKey(k), nil
}
