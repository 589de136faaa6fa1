package host

import (
	"github.com/lendgate/lendgate/sdk"
)

// Error is the host's error type: the SDK's, so that a plugin's error and the
// host's own read the same. Check codes with CodeOf or errors.As.
type Error = sdk.Error

// CodeOf returns the unified code of err ("" for nil).
func CodeOf(err error) sdk.Code { return sdk.CodeOf(err) }

func invalid(format string, args ...any) *Error {
	return sdk.Errorf(sdk.CodeInvalidRequest, format, args...)
}
