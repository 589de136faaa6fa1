package host

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Renew extends a loan. When r.Patron is set it must be the loan's patron.
// Its Idempotency-Key is r.IdempotencyKey, or else WithIdempotencyKey's.
func (h *Host) Renew(ctx context.Context, provider, loanID string, r RenewRequest) (l Loan, err error) {
	r.IdempotencyKey = cmp.Or(r.IdempotencyKey, idempotencyKey(ctx))
	l, _, err = h.renew(ctx, provider, loanID, r)
	return l, err
}

func (h *Host) renew(ctx context.Context, provider, loanID string, r RenewRequest) (l Loan, replayed bool, err error) {
	start := time.Now()
	defer func() { h.logCall(provider, "renew", loanID, start, err) }()
	if err := validRenew(r); err != nil {
		return Loan{}, false, err
	}
	fp := ""
	if r.IdempotencyKey != "" {
		fp = fingerprint("renew", provider, loanID, r)
	}
	in, err := h.instance(provider)
	if err != nil {
		return Loan{}, false, err
	}
	return idempotent(ctx, h, "renew/"+provider, r.IdempotencyKey, fp, in.lease(), func(c claim) (Loan, error) {
		if c.takeover {
			// An earlier renewal under this key may have reached the
			// distributor (CB: a paid addition): it is sent again, under
			// the same RenewalID, only where the distributor would
			// recognise it.
			if err := resendable(in, loanID, "renewal", func(i sdk.Info) bool { return i.DedupesRenew }); err != nil {
				return Loan{}, err
			}
		}
		l, err := h.renewActive(ctx, provider, loanID, r, c)
		if err != nil && c.takeover {
			// The earlier attempt's outcome is still not known: the key
			// stays parked, whatever this one answered.
			return Loan{}, unknownAfter(loanID, err)
		}
		return l, err
	})
}

// renewActive sends the renewal of an active loan under c.ref and journals
// what the distributor answered, with one loan.renewed event per c.ref. A
// re-sent renewal (c.takeover) that the distributor answers
// duplicate_reference was made by the earlier attempt: the first renewal
// stands, and the loan's expiry moves by the days asked unless the journal
// already holds that renewal.
func (h *Host) renewActive(ctx context.Context, provider, loanID string, r RenewRequest, c claim) (Loan, error) {
	in, rec, err := h.activeLoan(ctx, provider, loanID, sdk.CapRenew)
	if err != nil {
		return Loan{}, err
	}
	if r.Patron != "" && r.Patron != rec.Loan.Patron {
		return Loan{}, sdk.Errorf(sdk.CodePatronMismatch, "loan %s belongs to another patron", loanID)
	}
	got, err := changeLoan(ctx, in, loanID, func(ctx context.Context, p sdk.Provider) (sdk.Loan, error) {
		return p.Renew(ctx, sdk.RenewRequest{Instance: in.name, Loan: loanRef(rec), Days: r.Days, RenewalID: c.ref})
	})
	if err != nil && c.takeover && sdk.CodeOf(err) == sdk.CodeDuplicateReference {
		// What the distributor answered the first time is lost; the
		// loan carries what the host knows.
		got, err = sdk.Loan{}, nil
		if rec.Loan.ExpiresAt != nil {
			got.ExpiresAt = rec.Loan.ExpiresAt.Add(time.Duration(r.Days) * 24 * time.Hour)
		}
	}
	if err != nil {
		return Loan{}, err
	}
	// An earlier attempt that journaled this renewal (its key was not
	// settled) makes the journal's loan the answer (journalRenewal).
	return h.journalRenewal(context.WithoutCancel(ctx), rec, got, map[string]string{"days": fmt.Sprint(r.Days)}, renewedKey(provider, c.ref))
}

// renewedKey is the dedupe key of the loan.renewed event of the renewal
// with RenewalID ref: one event per renewal, however often it is sent.
func renewedKey(provider, ref string) string { return "renewed|" + provider + "|" + ref }

// applyProviderLoan takes what a distributor answered into the host's loan.
func applyProviderLoan(l Loan, got sdk.Loan) Loan {
	if !got.ExpiresAt.IsZero() {
		l.ExpiresAt = timePtr(got.ExpiresAt)
	}
	if len(got.Links) > 0 {
		l.Links = linksFromSDK(got.Links)
	}
	if len(got.ProviderRef) > 0 {
		ref := cloneMap(l.ProviderRef)
		if ref == nil {
			ref = map[string]string{}
		}
		for k, v := range got.ProviderRef {
			ref[k] = v
		}
		l.ProviderRef = ref
	}
	return l
}
