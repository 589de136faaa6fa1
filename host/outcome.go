package host

import (
	"errors"

	"github.com/lendgate/lendgate/sdk"
)

// Decisions where the contract is silent:
//   - At most once (api.md §7). A keyed call "may have reached the
//     distributor" when it was sent and then timed out (provider_timeout),
//     its plugin died or its connection broke (plugin_unavailable after the
//     send), its caller went away during it, or the journal could not record
//     the distributor's answer. Its claim is then parked, with its loan id,
//     until the key expires (journal.IdempotencyRecord.Unknown; parked claims and
//     claims whose owner stopped beating are purged with the key after
//     idempotency_ttl). A retry of a checkout re-sends under the same loan id
//     only if the plugin declares sdk.Info.DedupesCheckout (De Marque, CB);
//     a duplicate_reference answer to such a re-send means the first order
//     stands, and the loan becomes active with what the host knows (no link,
//     no provider_ref; expiry = created_at + days). Otherwise, and while the
//     plugin is down (plugin_unavailable, key still parked), the retry sends
//     nothing and answers 409 outcome_unknown with "loan". A failed re-send
//     answers its own code, naming the loan, and keeps the claim. A key whose
//     loan was resolved meanwhile answers that loan (active) or
//     not_available (revoked: never placed). Takeovers of a dead owner's
//     claim follow the same rule, decided by the loan it journaled (none:
//     nothing was sent, it runs afresh).
//   - Renewals and returns under a key whose earlier attempt may have reached
//     the distributor (or whose owner died) answer outcome_unknown with the
//     loan id and send nothing: no distributor dedupes them by a reference
//     the host controls (CB's renewal is a paid addition). The caller checks
//     the loan and, if needed, retries with a new key.
//   - Go callers get the loan id of outcome_unknown and of
//     journal_unavailable-after-the-answer from *LoanError (errors.As).

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
	if err == nil {
		return "" // every successful call: errors.As would allocate
	}
	var le *LoanError
	if errors.As(err, &le) {
		return le.Loan
	}
	return ""
}
