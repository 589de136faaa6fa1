package host

import (
	"context"
	"errors"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/sdk"
)

// attempt is a checkout attempt whose pending record is journaled: rec is
// that record (at the version the journal holds), mayHaveReached says an
// earlier attempt under the same Idempotency-Key may have reached the
// distributor.
type attempt struct {
	rec            storedLoan
	mayHaveReached bool
}

// beginAttempt journals the pending record of a checkout attempt before
// the distributor call (if that write fails, nothing is sent and the
// answer is journal_unavailable). Under an Idempotency-Key, an earlier
// attempt may have reached the distributor (c.unknown, or the loan it
// journaled): the attempt goes on only where the plugin declares that its
// distributor deduplicates by the loan id; otherwise the answer is
// outcome_unknown and nothing is sent (api.md §7). A loan of the key that
// is active already is the answer (placed != nil).
//
// The pending record is written with compare-and-set: a new loan expects
// no record, a retry the record it read. If the loan changed meanwhile
// (the sweeper marked it unknown, resolve settled it), nothing has been
// sent: the loan is read again and the attempt decides again.
func (h *Host) beginAttempt(ctx context.Context, in *instance, r CheckoutRequest, c claim) (a attempt, placed *Loan, err error) {
	id := c.ref
	// A record under this id means an earlier attempt with the same
	// Idempotency-Key got this far (without a takeover the id is new:
	// nothing to look up, unless its creation conflicted).
	lookUp := c.takeover
	for try := 1; ; try++ {
		now := time.Now().UTC()
		var prev storedLoan
		retry := false
		if lookUp {
			var perr error
			prev, perr = h.store.Loan(ctx, in.name, id)
			switch {
			case perr == nil:
				retry = true
			case !errors.Is(perr, ErrNotFound):
				return a, nil, unknownAfter(id, h.journalUnavailable(perr, "reading the loan of an earlier attempt", in.name, id))
			}
		}
		if retry {
			switch prev.Loan.Status {
			case StatusActive:
				// It was placed: journaled before its answer was kept, or
				// resolved since.
				return a, &prev.Loan, nil
			case StatusPending, StatusUnknown:
			default:
				// Resolved as never placed, or ended since: this key's
				// checkout is over.
				return a, nil, &LoanError{Loan: id, Err: sdk.Errorf(sdk.CodeNotAvailable, "loan %s of this Idempotency-Key is %s", id, prev.Loan.Status)}
			}
		}
		a.mayHaveReached = retry || c.unknown
		if a.mayHaveReached {
			info, up := in.info()
			if !up {
				return a, nil, unknownAfter(id, sdk.Errorf(sdk.CodePluginUnavailable, "plugin %s is not running; loan %s of this Idempotency-Key keeps its unknown outcome", in.plugin.name, id).WithRetryAfter(time.Second))
			}
			if !info.DedupesCheckout {
				if retry && prev.Loan.Status == StatusPending {
					prev.Loan.Status = StatusUnknown
					h.putLoanLogged(context.WithoutCancel(ctx), prev)
				}
				return a, nil, outcomeUnknownError(id, "an earlier attempt with this Idempotency-Key may have placed loan %s and its distributor cannot tell a repeated order; nothing was sent again (the loan is listed with status unknown)", id)
			}
		}
		// A retry keeps the loan's creation, and stamps its own attempt:
		// the sweeper measures the lease from it.
		createdAt := now
		if retry {
			createdAt = prev.Loan.CreatedAt
		}
		rec := storedLoan{Loan: Loan{ID: id, Provider: in.name, Item: r.Item, Patron: r.Patron, Status: StatusPending,
			Format: r.Format, CreatedAt: createdAt, Links: []Link{}}, PatronKey: h.patronKey(in, r.Patron), PatronName: r.PatronName,
			Options: r.Options, Days: r.Days, AttemptAt: now, Version: prev.Version}
		err := h.store.PutLoan(ctx, rec)
		if errors.Is(err, journal.ErrConflict) && try < casAttempts {
			h.log.Debug("loan of a checkout changed before its attempt: read again", "provider", in.name, "loan", id)
			lookUp = true
			continue
		}
		if err != nil {
			jerr := h.journalUnavailable(err, "journaling the pending loan; nothing was sent to the distributor", in.name, id)
			if a.mayHaveReached {
				return a, nil, unknownAfter(id, jerr)
			}
			return a, nil, jerr
		}
		rec.Version++
		a.rec = rec
		return a, nil, nil
	}
}

// journalPlaced journals a loan the distributor placed (rec: the attempt's
// pending record made active) with its loan.created event, retried a few
// times if the journal fails. If the loan changed since the pending write
// (the sweeper marked it unknown, another attempt wrote it), the answer is
// written over pending or unknown; anything else (resolved, ended by a
// notification) stands, and is what the checkout answers.
func (h *Host) journalPlaced(ctx context.Context, rec storedLoan) (Loan, error) {
	key := "created|" + rec.Loan.Provider + "|" + rec.Loan.ID
	write := func(ctx context.Context, r storedLoan) error {
		return retryWrite(ctx, func(ctx context.Context) error {
			_, applied, err := h.apply(ctx, r, sdk.EventLoanCreated, nil, key)
			if err == nil && !applied {
				// The placement was journaled first (a resolution's
				// loan.resolved stands for loan.created): only the
				// record may need to say so, if it is not active yet.
				err = h.store.PutLoan(ctx, r)
			}
			return err
		})
	}
	out, _, err := h.casWrite(ctx, rec, write, func(cur storedLoan) (storedLoan, bool) {
		if cur.Loan.Status != StatusPending && cur.Loan.Status != StatusUnknown {
			return cur, false
		}
		next := rec
		next.Version = cur.Version
		return next, true
	})
	if err == nil && out.Loan.ID == "" {
		// Gone since the pending write (nothing of this host deletes a
		// loan that may have been placed; another writer did): the
		// distributor placed it, so it is written anew.
		h.log.Warn("placed loan's record was gone: written anew", "provider", rec.Loan.Provider, "loan", rec.Loan.ID)
		next := rec
		next.Version = 0
		if err = write(ctx, next); err == nil {
			next.Version = 1
			out = next
		}
	}
	return out.Loan, err
}

// deleteRefused removes the pending record of an attempt the distributor
// refused (nothing was placed). If the loan changed since, the deletion
// gives way: whatever changed it stands.
func (h *Host) deleteRefused(ctx context.Context, rec storedLoan) {
	err := h.store.DeleteLoan(ctx, rec.Loan.Provider, rec.Loan.ID, rec.Version)
	switch {
	case errors.Is(err, journal.ErrConflict):
		h.log.Info("refused checkout's loan changed since its pending write: left as it is", "provider", rec.Loan.Provider, "loan", rec.Loan.ID)
	case err != nil:
		h.log.Error("removing refused pending loan failed", "provider", rec.Loan.Provider, "loan", rec.Loan.ID, "error", err)
	}
}
