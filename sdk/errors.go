package sdk

import (
	"errors"
	"fmt"
	"time"
)

// Code is a unified error code of the lending API (api.md §3).
type Code string

// The unified error codes.
const (
	CodeInvalidRequest         Code = "invalid_request"
	CodeUnauthorized           Code = "unauthorized"
	CodeForbidden              Code = "forbidden"
	CodeProviderNotFound       Code = "provider_not_found"
	CodeLoanNotFound           Code = "loan_not_found"
	CodeItemNotFound           Code = "item_not_found"
	CodeNotAvailable           Code = "not_available"
	CodeAlreadyOnLoan          Code = "already_on_loan"
	CodeDuplicateReference     Code = "duplicate_reference"
	CodeLimitReached           Code = "limit_reached"
	CodePatronMismatch         Code = "patron_mismatch"
	CodePatronRejected         Code = "patron_rejected"
	CodeUnsupportedCombination Code = "unsupported_combination"
	CodeIdempotencyMismatch    Code = "idempotency_mismatch"
	CodeUnsupportedOperation   Code = "unsupported_operation"
	CodeRateLimited            Code = "rate_limited"
	CodeTryLater               Code = "try_later"
	CodeCircuitOpen            Code = "circuit_open"
	CodePluginUnavailable      Code = "plugin_unavailable"
	CodeProviderCredentials    Code = "provider_credentials"
	CodeProviderError          Code = "provider_error"
	CodeProviderTimeout        Code = "provider_timeout"
	CodeJournalUnavailable     Code = "journal_unavailable"
	CodeOutcomeUnknown         Code = "outcome_unknown"
)

// Codes lists every unified code, in the order of api.md's table.
var Codes = []Code{
	CodeInvalidRequest, CodeUnauthorized, CodeForbidden, CodeProviderNotFound,
	CodeLoanNotFound, CodeItemNotFound, CodeNotAvailable, CodeAlreadyOnLoan,
	CodeDuplicateReference, CodeLimitReached, CodePatronMismatch,
	CodePatronRejected, CodeUnsupportedCombination, CodeIdempotencyMismatch,
	CodeUnsupportedOperation, CodeRateLimited, CodeTryLater, CodeCircuitOpen,
	CodePluginUnavailable, CodeProviderCredentials, CodeProviderError,
	CodeProviderTimeout, CodeJournalUnavailable, CodeOutcomeUnknown,
}

// Error is an error with a unified code. It crosses the plugin wire intact:
// what a plugin returns is what the host sees.
type Error struct {
	Code Code
	// ProviderCode is the distributor's own code (e.g. "EBS-10003").
	ProviderCode string
	// Message is safe to show to the caller: never put a secret in it.
	Message string
	// RetryAfter, when positive, tells the caller when to come back.
	RetryAfter time.Duration
	// Scope says what a RetryAfter pauses: the whole instance (the zero
	// value: the distributor asked every caller to wait, as with its HTTP
	// 429) or only this request (an answer about one item, such as a title
	// that has no price yet).
	Scope Scope
	// Outcome says whether the failed call may have taken effect at the
	// distributor (api.md §7): OutcomeNotSent, OutcomeDefinitive or
	// OutcomeUnknown. Exchange sets it on every error it makes; a plugin
	// that talks to its distributor otherwise sets it with WithOutcome. Left
	// unspecified, the host reads it from the code (see OutcomeOf).
	Outcome Outcome

	// cause is what the host saw when the error is its own (a canceled
	// context, a broken transport); it keeps errors.Is(err, context.Canceled)
	// true across the conversion.
	cause error
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// Wrap returns an *Error with code and message that unwraps to cause.
func Wrap(code Code, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), cause: cause}
}

func (e *Error) Error() string {
	if e.ProviderCode != "" {
		return fmt.Sprintf("%s (%s): %s", e.Code, e.ProviderCode, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Is makes errors.Is(err, &sdk.Error{Code: c}) match on the code alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.ProviderCode == "" || t.ProviderCode == e.ProviderCode)
}

// Errorf returns an *Error with code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithProviderCode sets the distributor's own code and returns e.
func (e *Error) WithProviderCode(pc string) *Error {
	e.ProviderCode = pc
	return e
}

// WithRetryAfter sets when to come back (at most MaxRetryAfter) and returns e.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	e.RetryAfter = BoundRetryAfter(d)
	return e
}

// Scope is what a distributor's pause applies to.
type Scope int

// The scopes of a pause.
const (
	// ScopeInstance pauses every call to the provider instance until
	// RetryAfter has passed.
	ScopeInstance Scope = iota
	// ScopeRequest answers this request only; other calls go on.
	ScopeRequest
)

// ForRequest marks e's pause as about this request only and returns e.
func (e *Error) ForRequest() *Error {
	e.Scope = ScopeRequest
	return e
}

// Outcome is what a failed call says about its effect at the distributor:
// whether the request may have reached it and taken effect. The host keeps
// the loan (status unknown) and parks the Idempotency-Key of every checkout,
// renewal or return whose outcome is OutcomeUnknown, and never orders again
// under that key unless the distributor deduplicates (Info.DedupesCheckout,
// DedupesRenew, DedupesReturn).
type Outcome int

// The outcomes of a failed call.
const (
	// OutcomeUnspecified: the error does not say. The host reads
	// provider_error and provider_timeout as OutcomeUnknown and every
	// other code as OutcomeDefinitive (OutcomeOf).
	OutcomeUnspecified Outcome = iota
	// OutcomeNotSent: not a byte of the request reached the distributor
	// (a failed dial, name lookup or TLS handshake, a request the
	// connector could not build, a deadline that passed before it was
	// sent). Nothing took effect.
	OutcomeNotSent
	// OutcomeDefinitive: the distributor answered and the plugin
	// understood the answer, a documented failure (CB's EBS-00001 "order
	// not fulfilled", a 409 with the distributor's own code): nothing took
	// effect beyond what it says.
	OutcomeDefinitive
	// OutcomeUnknown: the request went out and no answer the plugin
	// understood came back (a reset or closed connection, a gateway's 5xx
	// without the distributor's error body, an unreadable or over-size
	// answer, a timeout). It may have taken effect.
	OutcomeUnknown
)

// String names o as the wire, the kit and the docs do.
func (o Outcome) String() string {
	switch o {
	case OutcomeNotSent:
		return "not_sent"
	case OutcomeDefinitive:
		return "definitive"
	case OutcomeUnknown:
		return "unknown"
	}
	return "unspecified"
}

// WithOutcome sets what the failure says about its effect at the
// distributor and returns e.
func (e *Error) WithOutcome(o Outcome) *Error {
	e.Outcome = o
	return e
}

// OutcomeOf returns what err says about its effect at the distributor,
// never OutcomeUnspecified: err's own Outcome when set, else
// OutcomeUnknown for CodeProviderError and CodeProviderTimeout (a failure
// that does not say may have happened after the request went out) and
// OutcomeDefinitive for every other code. nil is OutcomeDefinitive (a
// success). A plain error (not an *Error) is OutcomeUnknown.
func OutcomeOf(err error) Outcome {
	if err == nil {
		return OutcomeDefinitive
	}
	var e *Error
	if !errors.As(err, &e) {
		return OutcomeUnknown
	}
	if e.Outcome != OutcomeUnspecified {
		return e.Outcome
	}
	switch e.Code {
	case CodeProviderError, CodeProviderTimeout:
		return OutcomeUnknown
	}
	return OutcomeDefinitive
}

// AsError returns err as an *Error: itself when it is one (or wraps one), else
// a CodeProviderError carrying err's message.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeProviderError, Message: err.Error()}
}

// CodeOf returns the unified code of err ("" for nil).
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	return AsError(err).Code
}
