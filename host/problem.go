package host

import (
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

func invalid(format string, args ...any) *Error {
	return sdk.Errorf(sdk.CodeInvalidRequest, format, args...)
}
