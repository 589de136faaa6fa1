package host

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/lendgate/lendgate/sdk"
)

// Error is the host's error type: the SDK's, so that a plugin's error and the
// host's own read the same. Check codes with CodeOf or errors.As.
type Error = sdk.Error

// CodeOf returns the unified code of err ("" for nil).
func CodeOf(err error) sdk.Code { return sdk.CodeOf(err) }

// StatusOf returns the HTTP status of a unified code (502 for an unknown one,
// which reads as provider_error).
func StatusOf(c sdk.Code) int { return c.Status() }

// problemFor renders err as a problem for provider.
func problemFor(err error, provider string) (Problem, *Error) {
	e := sdk.AsError(err)
	var se *Error
	if !errors.As(err, &se) {
		// Not one of ours: an internal failure. Never echo its text, which
		// could carry anything.
		e = &Error{Code: sdk.CodeProviderError, Message: "internal error"}
	}
	k := e.Code.Info()
	p := Problem{
		Type:         "https://lendgate.dev/problems/" + strings.ReplaceAll(string(e.Code), "_", "-"),
		Title:        k.Title,
		Status:       k.Status,
		Detail:       e.Message,
		Code:         string(e.Code),
		Provider:     provider,
		ProviderCode: e.ProviderCode,
		Retryable:    k.Retryable,
		Loan:         loanOf(err),
	}
	if e.RetryAfter > 0 {
		p.RetryAfter = int(math.Ceil(e.RetryAfter.Seconds()))
	}
	return p, e
}

// writeProblem writes err as application/problem+json. 429 and 503 always
// carry Retry-After.
func writeProblem(w http.ResponseWriter, err error, provider string) {
	p, _ := problemFor(err, provider)
	if p.Status == http.StatusTooManyRequests || p.Status == http.StatusServiceUnavailable {
		ra := p.RetryAfter
		if ra <= 0 {
			ra = 1
			p.RetryAfter = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(ra))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func invalid(format string, args ...any) *Error {
	return sdk.Errorf(sdk.CodeInvalidRequest, format, args...)
}
