package host

import (
	"context"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Return ends a loan early.
//
// A return carries no body; its Idempotency-Key rides the context
// (WithIdempotencyKey): a retried return with the key answers the first
// return's loan instead of not_available.
func (h *Host) Return(ctx context.Context, provider, loanID string) (l Loan, err error) {
	l, _, err = h.returnLoan(ctx, provider, loanID, idempotencyKey(ctx))
	return l, err
}

type idemKeyCtx struct{}

// WithIdempotencyKey returns ctx carrying an Idempotency-Key: the one way
// that serves Checkout, Renew and Return alike (Return has no request body
// to carry one; for Checkout and Renew a key in the request wins).
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idemKeyCtx{}, key)
}

// idempotencyKey returns the key WithIdempotencyKey put in ctx ("" if none).
func idempotencyKey(ctx context.Context) string {
	k, _ := ctx.Value(idemKeyCtx{}).(string)
	return k
}

func (h *Host) returnLoan(ctx context.Context, provider, loanID, key string) (l Loan, replayed bool, err error) {
	start := time.Now()
	defer func() { h.logCall(provider, "return", loanID, start, err) }()
	in, err := h.instance(provider)
	if err != nil {
		return Loan{}, false, err
	}
	fp := ""
	if key != "" {
		fp = fingerprint("return", provider, loanID)
	}
	return idempotent(ctx, h, "return/"+provider, key, fp, in.lease(), func(c claim) (Loan, error) {
		if !c.takeover {
			return h.returnActive(ctx, provider, loanID)
		}
		// An earlier return under this key may have reached the
		// distributor: it is sent again only where the distributor
		// answers a repeated return with the returned loan.
		if err := resendable(in, loanID, "return", func(i sdk.Info) bool { return i.DedupesReturn }); err != nil {
			return Loan{}, err
		}
		if rec, err := h.loanRecord(ctx, provider, loanID); err == nil && rec.Loan.Status == StatusReturned {
			// The earlier attempt journaled it; only its key was not
			// settled.
			return rec.Loan, nil
		}
		l, err := h.returnActive(ctx, provider, loanID)
		if err != nil {
			// The earlier attempt's outcome is still not known.
			return Loan{}, unknownAfter(loanID, err)
		}
		return l, nil
	})
}

func (h *Host) returnActive(ctx context.Context, provider, loanID string) (Loan, error) {
	in, rec, err := h.activeLoan(ctx, provider, loanID, sdk.CapReturn)
	if err != nil {
		return Loan{}, err
	}
	got, err := changeLoan(ctx, in, loanID, func(ctx context.Context, p sdk.Provider) (sdk.Loan, error) {
		return p.Return(ctx, sdk.ReturnRequest{Instance: in.name, Loan: loanRef(rec)})
	})
	if err != nil {
		return Loan{}, err
	}
	return h.journalReturn(context.WithoutCancel(ctx), rec, got, "returned|"+provider+"|"+loanID)
}
