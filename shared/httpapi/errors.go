package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// apiError is an error that already knows its status and wire body. Handlers return these (or
// store errors); writeError is the one place that turns any error into a response.
type apiError struct {
	status int
	body   wire.Error
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.status, e.body.Name, e.body.Message)
}

// invalid is a 400 ValidationError about one field (path may be empty for the whole request).
func invalid(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	e := &apiError{status: http.StatusBadRequest, body: wire.Error{Name: "ValidationError", Code: "validation_error", Message: msg}}
	if path != "" {
		e.body.Errors = []wire.FieldError{{Path: path, Message: msg}}
	}
	return e
}

// notFound is a 404 NotFoundError for a kind of resource ("inbox", "message", …). Resources
// outside the key's scope answer the same, so a key cannot probe for their existence.
func notFound(kind string) error {
	return &apiError{status: http.StatusNotFound, body: wire.Error{Name: "NotFoundError", Code: "not_found", Message: kind + " not found"}}
}

// forbidden is a 403 for a key that lacks a permission.
func forbidden(perm string) error {
	return &apiError{status: http.StatusForbidden, body: wire.Error{
		Name: "ForbiddenError", Code: "missing_permission", Message: "Forbidden: the API key lacks permission " + perm,
		Fix: "use a key with the " + perm + " permission",
	}}
}

// taken is a 403 IsTakenError: an address or name in use. Never 409, which the Python and Go
// SDKs retry.
func taken(what string) error {
	return &apiError{status: http.StatusForbidden, body: wire.Error{Name: "IsTakenError", Code: "already_taken", Message: what + " is already taken"}}
}

func unauthorized(code, msg string) error {
	return &apiError{status: http.StatusUnauthorized, body: wire.Error{Name: "UnauthorizedError", Code: code, Message: msg}}
}

// writeError maps err to its status and wire body:
//
//	*apiError                → its own status and body
//	store.ErrNotFound        → 404 NotFoundError / not_found
//	store.ErrTaken           → 403 IsTakenError / already_taken (never 409: the Python and Go
//	                           SDKs retry 409, which would repeat the create)
//	store.ErrBadPageToken    → 400 ValidationError / invalid_page_token
//	store.ErrConflict        → 409 ConflictError / conflict (a concurrent change; retrying is right)
//	*http.MaxBytesError      → 413 PayloadTooLargeError / payload_too_large
//	anything else            → 500 InternalServerError, logged with the request
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		ae  *apiError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, store.ErrNotFound):
		ae = notFound("resource").(*apiError)
	case errors.Is(err, store.ErrTaken):
		ae = taken("the name").(*apiError)
	case errors.Is(err, store.ErrBadPageToken):
		ae = &apiError{status: http.StatusBadRequest, body: wire.Error{
			Name: "ValidationError", Code: "invalid_page_token", Message: "page_token is not valid for this list",
			Errors: []wire.FieldError{{Path: "page_token", Message: "not a token issued for this list"}},
		}}
	case errors.Is(err, store.ErrConflict):
		ae = &apiError{status: http.StatusConflict, body: wire.Error{Name: "ConflictError", Code: "conflict", Message: "the resource was changed concurrently; retry"}}
	case errors.As(err, &mbe):
		ae = &apiError{status: http.StatusRequestEntityTooLarge, body: wire.Error{
			Name: "PayloadTooLargeError", Code: "payload_too_large", Message: fmt.Sprintf("request body is larger than %d bytes", mbe.Limit),
		}}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		ae = &apiError{status: http.StatusServiceUnavailable, body: wire.Error{Name: "ServiceUnavailableError", Code: "timeout", Message: "the request did not finish in time"}}
	default:
		s.log.ErrorContext(r.Context(), "request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
		ae = &apiError{status: http.StatusInternalServerError, body: wire.Error{Name: "InternalServerError", Code: "internal_error", Message: "internal server error"}}
	}
	writeJSON(w, ae.status, ae.body)
}
