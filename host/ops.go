package host

// What the operations share: their log line, loan ids, the notify URL a
// checkout hands the distributor, the call that changes a loan. Each
// operation has a file of its own (checkout.go, fulfill.go, renew.go,
// return.go, download.go, access.go, loans.go, notify.go) and makes one
// validation call (validate.go); what it journals goes through journal.go.

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/lendgate/lendgate/sdk"
	"github.com/oklog/ulid/v2"
)

// logCall writes the one log line per call of api.md §6 and records its
// metrics (resilience.Observer).
func (h *Host) logCall(provider, op, loan string, start time.Time, err error) {
	h.observer.Done(provider, op, loan, start, err)
}

// newLoanID is "ln_" and a new ULID, built in one allocation.
func newLoanID() string {
	id := ulid.Make()
	var b [3 + ulid.EncodedSize]byte
	copy(b[:], "ln_")
	_ = id.MarshalTextTo(b[3:]) // cannot fail: b is the encoded size
	return string(b[:])
}

// notifyURL is the per-loan callback of api.md §5 ("" when the plugin takes
// none or the host has no public URL).
func (h *Host) notifyURL(in *instance, id string) string {
	if info, _ := in.info(); info.Has(sdk.CapNotifications) && h.publicURL != "" {
		return h.publicURL + "/v1/notifications/" + url.PathEscape(in.name) + "/" + h.keys.notifyToken(in.name, id)
	}
	return ""
}

// mayHaveActed reports whether a failed call that was handed to the plugin
// may have taken effect at the distributor (api.md §7: decided by what was
// sent, not by the error's name). The host's own failures during the call
// cannot tell (the plugin died or its connection broke, the deadline
// passed, the caller went away); otherwise the plugin's error says
// (sdk.OutcomeOf): a failure before anything was sent and a definitive
// answer took no effect; an unknown one, and a provider_error or
// provider_timeout that does not say, may have.
func mayHaveActed(err error) bool {
	switch {
	case errors.Is(err, errPluginCrashed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		sdk.CodeOf(err) == sdk.CodePluginUnavailable:
		return true
	}
	return sdk.OutcomeOf(err) == sdk.OutcomeUnknown
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// changeLoan makes the distributor call that changes a loan (a renewal, a
// return). An error after the call was sent that leaves its outcome unknown
// names the loan (unknownAfter), so that its key is parked, not released.
func changeLoan(ctx context.Context, in *instance, loanID string, call func(context.Context, sdk.Provider) (sdk.Loan, error)) (sdk.Loan, error) {
	var got sdk.Loan
	sent := false
	err := in.do(ctx, func(ctx context.Context, p sdk.Provider) error {
		sent = true
		var err error
		got, err = call(ctx, p)
		return err
	})
	if err != nil && sent && mayHaveActed(err) {
		return got, unknownAfter(loanID, err)
	}
	return got, err
}

// loansOf is what the API shows of journal records.
func loansOf(recs []storedLoan) []Loan {
	out := make([]Loan, len(recs))
	for i, r := range recs {
		out[i] = r.Loan
	}
	return out
}
