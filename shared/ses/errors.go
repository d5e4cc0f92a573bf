package ses

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The three kinds of send failure. An *Error matches exactly one of them with errors.Is.
var (
	// ErrRejected: SES will not send this message as it stands (bad content, unverified sender
	// or MAIL FROM domain, suspended account, unknown configuration set, bad request). Retrying
	// the same request fails again; the API answers 403 MessageRejectedError or 400.
	ErrRejected = errors.New("ses: message rejected")
	// ErrThrottled: the sending rate or quota is exhausted for now. Retry after RetryAfter.
	ErrThrottled = errors.New("ses: sending throttled")
	// ErrUnavailable: SES could not be reached or failed (network error, 5xx, timeout), or
	// sending is paused. The message may be retried later.
	ErrUnavailable = errors.New("ses: unavailable")
)

// Error is a classified SendEmail failure.
type Error struct {
	Kind       error         // ErrRejected, ErrThrottled or ErrUnavailable
	Code       string        // SES's error code ("MessageRejected", "TooManyRequestsException"); "" when SES did not answer
	Reason     string        // SES's message, or what went wrong on the way
	RetryAfter time.Duration // how long to wait before retrying, when known (throttling)
	// Unknown: the request reached SES (or may have) and no answer came back that says what
	// became of it (a timeout, a connection lost after the request went out, a 5xx, an
	// unreadable answer): SES may have taken the message. False when it surely did not (an
	// answer refused it, or the connection could not even be opened).
	Unknown bool
	Err     error // the SDK's error, for errors.As (*types.MessageRejected, …)
}

func (e *Error) Error() string {
	s := e.Kind.Error()
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Is makes errors.Is(err, ErrRejected) (and the others) work on an *Error.
func (e *Error) Is(target error) bool { return target == e.Kind }

func (e *Error) Unwrap() error { return e.Err }

// Default waits when SES names no Retry-After: the per-second send rate recovers within a
// second; a LimitExceededException may be the daily quota (SES does not say which
// v2 error carries "Daily message quota exceeded"), so wait longer for it.
const (
	rateRetryAfter  = time.Second
	quotaRetryAfter = time.Minute
)

// classify turns an error from SendEmail into an *Error. This is the one place that knows
// SES's error codes (service/sesv2/types/errors.go):
//
//	TooManyRequestsException (429), Throttling*        → ErrThrottled, retry after 1 s or Retry-After
//	LimitExceededException                             → ErrThrottled, retry after 1 min or Retry-After
//	MessageRejected, MailFromDomainNotVerifiedException,
//	AccountSuspendedException, NotFoundException,
//	BadRequestException                                → ErrRejected with SES's message
//	SendingPausedException                             → ErrUnavailable (an operator must resume sending)
//	other API errors with a 5xx status, network errors,
//	unreadable responses, context deadline              → ErrUnavailable
//
// A cancelled context is returned as it is (the caller went away), and other API errors
// (AccessDenied, bad signature: Pigeon's own configuration) are returned wrapped but
// unclassified, so they surface as internal errors rather than as the sender's fault.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code, msg := apiErr.ErrorCode(), apiErr.ErrorMessage()
		e := &Error{Code: code, Reason: msg, Err: err}
		switch code {
		case "TooManyRequestsException", "Throttling", "ThrottlingException":
			e.Kind, e.RetryAfter = ErrThrottled, retryAfter(err, rateRetryAfter)
		case "LimitExceededException":
			e.Kind, e.RetryAfter = ErrThrottled, retryAfter(err, quotaRetryAfter)
		case "MessageRejected", "MailFromDomainNotVerifiedException", "AccountSuspendedException",
			"NotFoundException", "BadRequestException":
			e.Kind = ErrRejected
		case "SendingPausedException":
			e.Kind = ErrUnavailable
		case "InternalServiceErrorException":
			e.Kind, e.Unknown = ErrUnavailable, true
		default:
			if httpStatus(err) >= 500 {
				e.Kind, e.Unknown = ErrUnavailable, true
				break
			}
			return fmt.Errorf("ses: SendEmail: %w", err)
		}
		return e
	}
	var (
		sendErr  *smithyhttp.RequestSendError
		deserErr *smithy.DeserializationError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: ErrUnavailable, Reason: "timed out", Err: err, Unknown: true}
	case errors.As(err, &sendErr):
		return &Error{Kind: ErrUnavailable, Reason: "cannot reach SES: " + rootCause(err), Err: err, Unknown: !notConnected(err)}
	case errors.As(err, &deserErr):
		return &Error{Kind: ErrUnavailable, Reason: "unreadable answer from SES: " + rootCause(err), Err: err, Unknown: true}
	case httpStatus(err) >= 500:
		return &Error{Kind: ErrUnavailable, Reason: rootCause(err), Err: err, Unknown: true}
	}
	return fmt.Errorf("ses: SendEmail: %w", err)
}

// notConnected reports whether err is a failure to open the connection (dial), which
// means the request was never sent.
func notConnected(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// OutcomeUnknown reports whether err leaves open whether SES took the message (Error.Unknown).
func OutcomeUnknown(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Unknown
}

// retryAfter reads the Retry-After header (delay-seconds) of the HTTP response behind err.
func retryAfter(err error, def time.Duration) time.Duration {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		if s, convErr := strconv.Atoi(strings.TrimSpace(re.Response.Header.Get("Retry-After"))); convErr == nil && s > 0 {
			return time.Duration(s) * time.Second
		}
	}
	return def
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// rootCause is the innermost error's message: "connection refused" rather than the SDK's
// chain of operation, attempt and transport wrappers.
func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
