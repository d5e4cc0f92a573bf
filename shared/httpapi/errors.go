package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/pigeon-mail/pigeon/shared/outbound"
	"github.com/pigeon-mail/pigeon/shared/ses"
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

// wideScope is a 403 for a pod or inbox key asking to act on a wider scope than its own
// (organisation lists, keys for the whole organisation, …).
func wideScope(perm, what string) error {
	return &apiError{status: http.StatusForbidden, body: wire.Error{
		Name: "ForbiddenError", Code: "missing_permission", Message: "Forbidden: the API key's scope does not cover " + what,
		Fix: "use a key whose scope covers " + what + ", with the " + perm + " permission",
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
//
// and for the send routes and label updates (package outbound, shared/ses):
//
//	*outbound.InvalidError   → 400 ValidationError naming the field
//	*outbound.TooLargeError  → 413 PayloadTooLargeError
//	*outbound.BlockedError   → 403 MessageRejectedError / recipient_blocked (a send list)
//	*outbound.UnsentError    → 503 ServiceUnavailableError / send_failed (recorded as failed)
//	store.ErrSendInProgress  → 425 IdempotencyKeyInUseError / idempotency_key_in_use, with
//	                           Retry-After (never 409, 429 or 5xx, which the SDKs retry)
//	store.ErrIdempotencyKeyReused → 422 IdempotencyKeyReusedError / idempotency_key_reused
//	ses.ErrThrottled         → 429 TooManyRequestsError with Retry-After (nothing was sent)
//	ses.ErrRejected          → 403 MessageRejectedError with SES's reason
//	ses.ErrUnavailable       → 503 ServiceUnavailableError / ses_unavailable
//	store.ErrThreadTooLarge  → 422 UnprocessableError / thread_too_large
//	anything else            → 500 InternalServerError, logged with the request
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		ae      *apiError
		mbe     *http.MaxBytesError
		inv     *outbound.InvalidError
		large   *outbound.TooLargeError
		blocked *outbound.BlockedError
		unsent  *outbound.UnsentError
		sesErr  *ses.Error
	)
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &inv):
		ae = invalid(inv.Field, "%s", inv.Error()).(*apiError)
	case errors.As(err, &large):
		ae = &apiError{status: http.StatusRequestEntityTooLarge, body: wire.Error{
			Name: "PayloadTooLargeError", Code: "payload_too_large", Message: large.Error(),
		}}
	case errors.As(err, &blocked):
		ae = &apiError{status: http.StatusForbidden, body: wire.Error{Name: "MessageRejectedError", Code: "recipient_blocked", Message: blocked.Error()}}
	case errors.As(err, &unsent):
		ae = &apiError{status: http.StatusServiceUnavailable, body: wire.Error{
			Name: "ServiceUnavailableError", Code: "send_failed", Message: unsent.Error(),
			Fix: "retry later; the failed message stays in the inbox with status failed",
		}}
	case errors.Is(err, store.ErrSendInProgress):
		// Not a status any SDK retries on its own (they retry 408, 409, 429 and 5xx): the caller
		// decides when to repeat the request, as Retry-After suggests.
		w.Header().Set("Retry-After", "1")
		ae = &apiError{status: http.StatusTooEarly, body: wire.Error{
			Name: "IdempotencyKeyInUseError", Code: "idempotency_key_in_use",
			Message: "the first request with this Idempotency-Key is still being sent",
			Fix:     "repeat the same request with the same Idempotency-Key after Retry-After seconds to get its result",
		}}
	case errors.Is(err, store.ErrIdempotencyKeyReused):
		msg := "this Idempotency-Key was already used for a different request (another route, message, draft or body)"
		ae = &apiError{status: http.StatusUnprocessableEntity, body: wire.Error{
			Name: "IdempotencyKeyReusedError", Code: "idempotency_key_reused", Message: msg,
			Fix:    "use a new Idempotency-Key for a new request; repeat the first request exactly to get its result",
			Errors: []wire.FieldError{{Path: "Idempotency-Key", Message: msg}},
		}}
	case errors.Is(err, ses.ErrThrottled):
		wait := time.Second
		if errors.As(err, &sesErr) && sesErr.RetryAfter > wait {
			wait = sesErr.RetryAfter
		}
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		ae = &apiError{status: http.StatusTooManyRequests, body: wire.Error{
			Name: "TooManyRequestsError", Code: "sending_throttled", Message: "SES is throttling sends: " + err.Error(),
		}}
	case errors.Is(err, ses.ErrRejected):
		reason := err.Error()
		if errors.As(err, &sesErr) && sesErr.Reason != "" {
			reason = sesErr.Reason
		}
		ae = &apiError{status: http.StatusForbidden, body: wire.Error{Name: "MessageRejectedError", Code: "message_rejected", Message: reason}}
	case errors.Is(err, ses.ErrUnavailable):
		ae = &apiError{status: http.StatusServiceUnavailable, body: wire.Error{Name: "ServiceUnavailableError", Code: "ses_unavailable", Message: err.Error()}}
	case errors.Is(err, store.ErrThreadTooLarge):
		ae = &apiError{status: http.StatusUnprocessableEntity, body: wire.Error{
			Name: "UnprocessableError", Code: "thread_too_large",
			Message: fmt.Sprintf("the thread has more than %d messages; update its messages with batch-update", store.MaxThreadUpdate),
		}}
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
