package host

import (
	"errors"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Decisions where the contract is silent:
//   - At most once (api.md §7). A call "may have reached the distributor"
//     when it was handed to the plugin and then its plugin died or its
//     connection broke (plugin_unavailable after the send), the deadline
//     passed, its caller went away during it, or the plugin's error says
//     so: sdk.OutcomeOf is OutcomeUnknown (sdk.Exchange marks every failure
//     after the request was sent that is not a definitive answer: a cut
//     connection, a gateway's 5xx, an unreadable or over-size 2xx, a
//     timeout; an unmarked provider_error or provider_timeout counts as
//     unknown). So does a call whose answer the journal could not record.
//     A failure the plugin marks not_sent or definitive (a refused dial, a
//     documented refusal such as CB's EBS-00001) deletes the pending loan
//     and frees the key, as before. A keyed call that may have reached the
//     distributor keeps its loan (a checkout's as unknown; a renewal or
//     return leaves the loan as it was) and its claim is parked, with its loan id,
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
//     the distributor (or whose owner died) are sent again only where the
//     plugin declares that its distributor recognises a repeat:
//     sdk.Info.DedupesRenew (the renewal re-sent under the same RenewalID,
//     the claim's reference; CB's addition keeps its OrderReference and CB
//     answers EBS-10005) and sdk.Info.DedupesReturn. A duplicate_reference
//     answer to a re-sent renewal means the first renewal stands: the
//     loan's expiry moves by the days asked (the distributor's first answer
//     is lost), journaled with loan.renewed under the renewal's own dedupe
//     key, so that no attempt journals it twice. A re-sent return answers
//     the returned loan. A re-send that fails answers its own code naming
//     the loan and keeps the key parked. Otherwise (the plugin does not
//     declare it) the retry answers outcome_unknown with the loan id and
//     sends nothing; while the plugin is down, plugin_unavailable naming
//     the loan. The caller checks the loan and, if needed, retries with a
//     new key.
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
	out.Outcome = sdk.OutcomeUnknown
	return &LoanError{Loan: loan, Err: out}
}

// resendable decides whether a renewal or return whose earlier attempt
// under the same Idempotency-Key may have reached the distributor is sent
// again: only where the running plugin declares that its distributor
// recognises a repeat (dedupes). Otherwise the answer is outcome_unknown,
// or plugin_unavailable while the plugin is down, naming the loan, and the
// key stays parked.
func resendable(in *instance, loanID, what string, dedupes func(sdk.Info) bool) error {
	info, up := in.info()
	switch {
	case !up:
		return unknownAfter(loanID, sdk.Errorf(sdk.CodePluginUnavailable, "plugin %s is not running; the %s of loan %s under this Idempotency-Key keeps its unknown outcome", in.plugin.name, what, loanID).WithRetryAfter(time.Second))
	case !dedupes(info):
		return outcomeUnknownError(loanID, "an earlier %s with this Idempotency-Key may have reached the distributor, which cannot tell a repeated one; nothing was sent again (check loan %s)", what, loanID)
	}
	return nil
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
