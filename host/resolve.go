package host

import (
	"context"
	"errors"
	"sort"

	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/sdk"
)

// Decisions where the contract is silent:
//   - Resolution: each sweep asks, for each instance whose plugin declares
//     sdk.CapResolve, about up to 20 of its oldest unknown loans, through the
//     instance's limiter, breaker and deadline. Placed: the loan becomes
//     active with the distributor's data (expiry created_at + days when it
//     gives none). Not placed: the loan becomes revoked — the vocabulary has
//     no "never existed", and revoked reads right to a library: there is no
//     loan to serve. Both append loan.resolved {"outcome": "placed" |
//     "not_placed"} in the same transaction. A placement is journaled once:
//     loan.resolved (placed) and loan.created share a dedupe key, so a retry
//     racing the sweeper adds no second event. The settlement is written at
//     the version listed: a loan that changed meanwhile (a retry of its
//     checkout turned it pending, or settled it) is left to that change.
//     An error leaves the loan unknown for the next pass.

// Outcomes of a resolution, as loan.resolved's data "outcome".
const (
	resolvedPlaced    = "placed"
	resolvedNotPlaced = "not_placed"
)

// resolveUnknown settles unknown loans where the distributor can tell
// (api.md §7): for each instance whose running plugin declares
// sdk.CapResolve, up to resolveBatch of its oldest unknown loans are asked
// about, one call each through the instance's resilience chain. A loan the
// distributor holds becomes active with the distributor's data; one it
// certainly does not hold becomes revoked (the vocabulary has no "never
// existed", and revoked is what a library reads as "there is no loan to
// serve"); either way with a loan.resolved event, in one transaction. An
// error leaves the loan unknown for the next pass.
func (h *Host) resolveUnknown(ctx context.Context) {
	names := make([]string, 0, len(h.instances))
	for name := range h.instances {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		in := h.instances[name]
		if info, up := in.info(); !up || !info.Has(sdk.CapResolve) {
			continue
		}
		unknown, err := h.store.LoansByStatus(ctx, name, StatusUnknown, resolveBatch)
		if err != nil {
			h.log.Error("sweep: listing unknown loans failed", "provider", name, "error", err)
			continue
		}
		for _, rec := range unknown {
			if ctx.Err() != nil {
				return
			}
			h.resolveLoan(ctx, in, rec)
		}
	}
}

func (h *Host) resolveLoan(ctx context.Context, in *instance, rec storedLoan) {
	var res sdk.Resolution
	err := in.do(ctx, func(ctx context.Context, p sdk.Provider) error {
		rv, ok := p.(sdk.Resolver)
		if !ok {
			return sdk.Errorf(sdk.CodeUnsupportedOperation, "the plugin does not resolve")
		}
		var err error
		res, err = rv.Resolve(ctx, sdk.ResolveRequest{Instance: in.name, Loan: loanRef(rec), Days: rec.Days, NotifyURL: h.notifyURL(in, rec.Loan.ID)})
		return err
	})
	if err != nil {
		h.log.Warn("sweep: resolving an unknown loan failed; it stays unknown", "provider", in.name, "loan", rec.Loan.ID, "code", sdk.CodeOf(err))
		return
	}
	// The answer is about the loan as listed: it is journaled at the
	// version listed, and gives way to any change since (a retry of its
	// checkout, which turns it pending before sending again, or settles it).
	cur := rec
	outcome, dedupe := resolvedNotPlaced, "resolved|"+in.name+"|"+cur.Loan.ID
	if res.Placed {
		// A loan is placed once: by its checkout (a retry's re-send
		// racing this pass) or by its resolution, whichever journals
		// first; the other writes nothing.
		outcome, dedupe = resolvedPlaced, "created|"+in.name+"|"+cur.Loan.ID
		cur.Loan = placedLoan(cur, res.Loan)
	} else {
		cur.Loan.Status = StatusRevoked
	}
	_, applied, err := h.apply(ctx, cur, sdk.EventLoanResolved, map[string]string{"outcome": outcome}, dedupe)
	if err == nil && !applied && res.Placed {
		// Its checkout journaled the placement first; only the record
		// needs to say so again.
		err = h.store.PutLoan(ctx, cur)
	}
	if errors.Is(err, journal.ErrConflict) {
		h.log.Info("sweep: unknown loan changed while it was resolved: the resolution gives way", "provider", in.name, "loan", cur.Loan.ID)
		return
	}
	if err != nil {
		h.log.Error("sweep: journaling a resolved loan failed; it stays unknown", "provider", in.name, "loan", cur.Loan.ID, "error", err)
		return
	}
	h.log.Info("unknown loan resolved", "provider", in.name, "loan", cur.Loan.ID, "outcome", outcome)
}
