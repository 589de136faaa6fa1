package host

import (
	"cmp"
	"context"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Checkout lends an item to a patron. Its Idempotency-Key is
// r.IdempotencyKey, or else the one WithIdempotencyKey put in ctx.
func (h *Host) Checkout(ctx context.Context, provider string, r CheckoutRequest) (Loan, error) {
	r.IdempotencyKey = cmp.Or(r.IdempotencyKey, idempotencyKey(ctx))
	l, _, err := h.checkout(ctx, provider, r)
	return l, err
}

func (h *Host) checkout(ctx context.Context, provider string, r CheckoutRequest) (l Loan, replayed bool, err error) {
	start := time.Now()
	defer func() { h.logCall(provider, "checkout", cmp.Or(l.ID, loanOf(err)), start, err) }()
	in, err := h.instance(provider)
	if err != nil {
		return Loan{}, false, err
	}
	if r, err = in.validCheckout(r); err != nil {
		return Loan{}, false, err
	}
	fp := "" // only a request with a key needs one
	if r.IdempotencyKey != "" {
		fp = fingerprint("checkout", provider, r)
	}
	scope := ""
	if r.IdempotencyKey != "" {
		scope = "checkout/" + provider
	}
	return idempotent(ctx, h, scope, r.IdempotencyKey, fp, in.lease(), func(c claim) (Loan, error) {
		return h.lend(ctx, in, r, c)
	})
}

// lend makes the distributor call of a checkout and journals the loan: as
// pending before the call (if that write fails, nothing is sent and the
// answer is journal_unavailable), so that a crash during it leaves a trace
// the sweeper turns into status unknown; as active, with its loan.created
// event, in one transaction after it (retried a few times; if it still
// fails, the answer is journal_unavailable naming the loan, and the sweeper
// surfaces it as unknown once the journal writes again).
//
// Under an Idempotency-Key, an earlier attempt may have reached the
// distributor (c.unknown, or the loan it journaled): the checkout is sent
// again under the same loan id only where the plugin declares that its
// distributor deduplicates by it; otherwise the answer is outcome_unknown
// and nothing is sent (api.md §7). Every write is compare-and-set
// (checkout_attempt.go, cas.go).
func (h *Host) lend(ctx context.Context, in *instance, r CheckoutRequest, c claim) (Loan, error) {
	id := c.ref
	a, placed, err := h.beginAttempt(ctx, in, r, c)
	switch {
	case err != nil:
		return Loan{}, err
	case placed != nil:
		return *placed, nil
	}
	rec, mayHaveReached, patronKey := a.rec, a.mayHaveReached, a.rec.PatronKey
	req := sdk.CheckoutRequest{Instance: in.name, LoanID: id, Item: r.Item, Patron: patronKey,
		PatronName: r.PatronName, Format: r.Format, Days: r.Days, Options: r.Options, NotifyURL: h.notifyURL(in, id)}
	var got sdk.Loan
	sent := false
	err = in.do(ctx, func(ctx context.Context, p sdk.Provider) error {
		sent = true
		var err error
		got, err = p.Checkout(ctx, req)
		return err
	})
	wctx := context.WithoutCancel(ctx) // the journal must follow what the distributor did
	if err != nil && mayHaveReached && sdk.CodeOf(err) == sdk.CodeDuplicateReference {
		// A distributor that deduplicates by the loan id saw this order
		// before (CB's EBS-10005): the first order stands. What it
		// answered then is lost; the loan carries what the host knows.
		err, got = nil, sdk.Loan{}
	}
	if err != nil {
		switch {
		case mayHaveReached || (sent && mayHaveActed(err)):
			// The order may stand: the loan stays, as unknown, and so
			// does the key's claim.
			rec.Loan.Status = StatusUnknown
			h.putLoanLogged(wctx, rec)
			return Loan{}, unknownAfter(id, err)
		default:
			h.deleteRefused(wctx, rec)
		}
		return Loan{}, err
	}
	rec.Loan = placedLoan(rec, got)
	l, err := h.journalPlaced(wctx, rec)
	if err != nil {
		// The order stands at the distributor but the journal cannot say
		// so with its event. Listed as unknown (if that write goes
		// through; else the sweeper turns the pending loan into unknown
		// once the journal writes again), it is resolved where the plugin
		// can, or left for the library to check.
		jerr := h.journalUnavailable(err, "journaling a loan the distributor placed; it is listed with status unknown", in.name, id)
		rec.Loan.Status = StatusUnknown
		h.putLoanLogged(wctx, rec)
		return Loan{}, unknownAfter(id, jerr)
	}
	return l, nil
}

// placedLoan is rec made active with what the distributor answered. A loan
// whose distributor did not say when it ends (a first order that stands,
// answered without its data) ends Days after it was created.
func placedLoan(rec storedLoan, got sdk.Loan) Loan {
	l := rec.Loan
	l.Status = StatusActive
	l.Format = cmp.Or(got.Format, l.Format)
	l.ExpiresAt = timePtr(got.ExpiresAt)
	if l.ExpiresAt == nil && rec.Days > 0 {
		l.ExpiresAt = timePtr(l.CreatedAt.Add(time.Duration(rec.Days) * 24 * time.Hour))
	}
	l.Links = linksFromSDK(got.Links)
	l.ProviderRef = got.ProviderRef
	return l
}
