package host

import (
	"errors"

	"github.com/lendgate/lendgate/sdk"
)

// errOutcomeUnknown marks an answer that must not be kept for its
// Idempotency-Key: a call that may have reached the distributor, whose
// claim is parked instead (IdempotencyRecord.Unknown).
var errOutcomeUnknown = errors.New("outcome unknown")

// outcomeUnknownError is the answer to a retry whose earlier attempt may
// have reached the distributor, when nothing may be sent again.
func outcomeUnknownError(loan, format string, args ...any) error {
	return &LoanError{Loan: loan, Err: sdk.Wrap(sdk.CodeOutcomeUnknown, errOutcomeUnknown, format, args...)}
}

// unknownAfter marks err, the answer of an attempt that may have reached
// the distributor, so that its key is parked rather than released, and
// names the loan concerned.
func unknownAfter(loan string, err error) error {
	e := sdk.AsError(err)
	out := sdk.Wrap(e.Code, errors.Join(errOutcomeUnknown, err), "%s", e.Message).WithProviderCode(e.ProviderCode).WithRetryAfter(e.RetryAfter)
	out.Scope = e.Scope
	return &LoanError{Loan: loan, Err: out}
}

// loanOf returns the loan an error names ("" if none).
func loanOf(err error) string {
	var le *LoanError
	if errors.As(err, &le) {
		return le.Loan
	}
	return ""
}
