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
			// distributor (CB: a paid addition); it is not sent again.
			return Loan{}, outcomeUnknownError(loanID, "an earlier renewal with this Idempotency-Key may have reached the distributor; nothing was sent again (check loan %s)", loanID)
		}
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
		if err != nil {
			return Loan{}, err
		}
		return h.journalRenewal(context.WithoutCancel(ctx), rec, got, map[string]string{"days": fmt.Sprint(r.Days)}, "renewed|"+provider+"|"+c.ref)
	})
}

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
