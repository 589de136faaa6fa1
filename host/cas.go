package host

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/sdk"
)

// Decisions where the contract is silent (api.md §7, "status changes are
// compare-and-set"):
//   - Every write of a loan expects the version it read (journal.Store);
//     a write that finds the loan changed reads it again and decides again,
//     at most casAttempts times, or gives way when the change makes it
//     moot. Nothing is overwritten, and a write that gives way appends no
//     event.
//   - A renewal against the sweeper's expiry: the later expiry wins. A
//     renewal journaled first leaves the sweeper nothing to expire (it reads
//     the loan again and skips it). An expiry journaled first is undone by
//     a renewal whose answer moves the expiry past now: the loan is active
//     again, loan.renewed following loan.expired; a renewal that brings no
//     later expiry gives way and answers not_available, as for an expired
//     loan. The sweeper's loan.expired is deduplicated per expiry instant,
//     so a loan renewed after its expiry expires again at its new one.
//   - A renewal or a return against any other change: on an active loan it
//     is written over the change (the renewal's expiry, the return's
//     status); on a loan that ended (returned, revoked, or expired by a
//     renewal with no later expiry) it gives way and answers not_available
//     as if it had come after that end. A distributor's notification is the
//     distributor's latest word: it is applied to the loan as read again,
//     whatever its status; but one that ends the loan as the journal
//     already has it ended (a return the library made, then notified by
//     the distributor) changes nothing and appends no second event, and a
//     return that finds its loan returned meanwhile stands.
//   - A checkout against the sweeper and resolve: each attempt stamps its
//     pending record with its own time (AttemptAt; a retry under the same
//     Idempotency-Key keeps created_at), so the sweeper never takes a
//     retry in flight for a lost checkout; and a retry's pending write
//     moves an unknown loan out of resolve's reach before anything is sent
//     again. The sweeper's unknown mark and resolve's settlement expect the
//     version they listed and give way to any change since; the checkout's
//     answer, journaled after either, is written over pending or unknown
//     and gives way to anything else (the loan is then answered as the
//     journal has it).

// casAttempts bounds how often a write that lost its compare-and-set reads
// the loan again and decides again.
const casAttempts = 8

// casWrite journals a change of a loan with compare-and-set. It writes rec
// (the loan as read, changed); when the loan changed since it was read
// (journal.ErrConflict), it reads the loan again and asks again what to
// write: the record and true, or false to give way. It returns the record
// as the journal now holds it (written: rec at its new version; else the
// loan as read again, zero if it is gone) and whether it was written. A
// conflict still standing after casAttempts writes is returned.
func (h *Host) casWrite(ctx context.Context, rec storedLoan, write func(context.Context, storedLoan) error,
	again func(cur storedLoan) (storedLoan, bool)) (storedLoan, bool, error) {
	for i := 1; ; i++ {
		err := write(ctx, rec)
		if err == nil {
			rec.Version++
			return rec, true, nil
		}
		if !errors.Is(err, journal.ErrConflict) || i == casAttempts {
			return rec, false, err
		}
		cur, err := h.store.Loan(ctx, rec.Loan.Provider, rec.Loan.ID)
		if errors.Is(err, ErrNotFound) {
			h.log.Debug("loan gone since it was read: the write gives way", "provider", rec.Loan.Provider, "loan", rec.Loan.ID)
			return storedLoan{}, false, nil
		}
		if err != nil {
			return rec, false, err
		}
		next, ok := again(cur)
		if !ok {
			h.log.Debug("loan changed since it was read: the write gives way", "provider", rec.Loan.Provider, "loan", rec.Loan.ID, "status", cur.Loan.Status)
			return cur, false, nil
		}
		h.log.Debug("loan changed since it was read: written again over the change", "provider", rec.Loan.Provider, "loan", rec.Loan.ID, "status", cur.Loan.Status)
		rec = next
	}
}

// applyWrite is a casWrite's write that journals the loan with an event
// (apply), retried a few times if the journal fails (retryWrite), for a
// change the distributor already made.
// A change whose dedupe key was applied before (a re-sent renewal or
// return that an earlier attempt journaled) writes nothing and answers
// errJournaledBefore.
func (h *Host) applyWrite(typ string, data map[string]string, dedupeKey func(storedLoan) string) func(context.Context, storedLoan) error {
	return func(ctx context.Context, r storedLoan) error {
		applied := true
		err := retryWrite(ctx, func(ctx context.Context) error {
			var err error
			_, applied, err = h.apply(ctx, r, typ, data, dedupeKey(r))
			return err
		})
		if err == nil && !applied {
			return errJournaledBefore
		}
		return err
	}
}

// errJournaledBefore is applyWrite's answer to a change journaled already.
var errJournaledBefore = errors.New("journaled before")

// journaledBefore answers a change an earlier attempt journaled: the loan
// as the journal holds it.
func (h *Host) journaledBefore(ctx context.Context, rec storedLoan) (Loan, error) {
	cur, err := h.store.Loan(ctx, rec.Loan.Provider, rec.Loan.ID)
	if err != nil {
		return Loan{}, err
	}
	return cur.Loan, nil
}

// key is a dedupe key that does not depend on the record.
func key(k string) func(storedLoan) string { return func(storedLoan) string { return k } }

// journalRenewal journals a renewal the distributor made (got) on rec, the
// loan as read before the call. Over a change since: on an active loan it
// is written again; on a loan the sweeper expired meanwhile, only if the
// renewal moves the expiry past now (the later expiry wins); otherwise it
// gives way and answers as for the loan as it is (not_available).
func (h *Host) journalRenewal(ctx context.Context, rec storedLoan, got sdk.Loan, data map[string]string, dedupe string) (Loan, error) {
	renewed := func(r storedLoan) storedLoan {
		r.Loan = applyProviderLoan(r.Loan, got)
		r.Loan.Status = StatusActive
		return r
	}
	out, written, err := h.casWrite(ctx, renewed(rec), h.applyWrite(sdk.EventLoanRenewed, data, key(dedupe)),
		func(cur storedLoan) (storedLoan, bool) {
			switch cur.Loan.Status {
			case StatusActive:
				return renewed(cur), true
			case StatusExpired:
				return renewed(cur), !got.ExpiresAt.IsZero() && got.ExpiresAt.After(time.Now())
			}
			return cur, false
		})
	if errors.Is(err, errJournaledBefore) {
		return h.journaledBefore(ctx, rec)
	}
	if err != nil {
		return Loan{}, unknownAfter(rec.Loan.ID, h.journalUnavailable(err, "journaling a renewal the distributor made", rec.Loan.Provider, rec.Loan.ID))
	}
	if !written {
		h.log.Warn("renewal made by the distributor gives way to the loan's end, journaled meanwhile", "provider", rec.Loan.Provider, "loan", rec.Loan.ID, "status", out.Loan.Status)
		return Loan{}, endedMeanwhile(out, rec.Loan.ID)
	}
	return out.Loan, nil
}

// journalReturn journals a return the distributor made (got) on rec, the
// loan as read before the call: again over a change since if the loan is
// still active; otherwise the return gives way to the loan's end, and
// answers as if it had come after it (not_available).
func (h *Host) journalReturn(ctx context.Context, rec storedLoan, got sdk.Loan, dedupe string) (Loan, error) {
	returned := func(r storedLoan) storedLoan {
		r.Loan = applyProviderLoan(r.Loan, got)
		r.Loan.Status = StatusReturned
		return r
	}
	out, written, err := h.casWrite(ctx, returned(rec), h.applyWrite(sdk.EventLoanReturned, nil, key(dedupe)),
		func(cur storedLoan) (storedLoan, bool) { return returned(cur), cur.Loan.Status == StatusActive })
	if errors.Is(err, errJournaledBefore) {
		return h.journaledBefore(ctx, rec)
	}
	if err != nil {
		return Loan{}, unknownAfter(rec.Loan.ID, h.journalUnavailable(err, "journaling a return the distributor made", rec.Loan.Provider, rec.Loan.ID))
	}
	if !written && out.Loan.Status == StatusReturned {
		// Returned meanwhile (the distributor's notification of this very
		// return): the return stands.
		return out.Loan, nil
	}
	if !written {
		h.log.Info("return made by the distributor gives way to the loan's end, journaled meanwhile", "provider", rec.Loan.Provider, "loan", rec.Loan.ID, "status", out.Loan.Status)
		return Loan{}, endedMeanwhile(out, rec.Loan.ID)
	}
	return out.Loan, nil
}

// endedMeanwhile is the answer of a change that gave way to cur, the loan
// as the journal now holds it (zero: gone).
func endedMeanwhile(cur storedLoan, id string) error {
	if cur.Loan.ID == "" {
		return sdk.Errorf(sdk.CodeLoanNotFound, "loan %s is gone", id)
	}
	if err := requireActive(cur.Loan); err != nil {
		return err
	}
	return sdk.Errorf(sdk.CodeNotAvailable, "loan %s changed meanwhile", id)
}

// journalNotification applies a distributor's event to rec, the loan as
// read before the plugin handled it, and journals both: the distributor's
// latest word, so over a change since it is applied to the loan as read
// again, whatever its status.
func (h *Host) journalNotification(ctx context.Context, rec storedLoan, ev sdk.Event, typ, dedupe string) error {
	// A notification that ends the loan in a way the journal already holds
	// (a return the library made, then notified by the distributor)
	// changes nothing and appends no second event.
	ends := typ == sdk.EventLoanReturned || typ == sdk.EventLoanExpired || typ == sdk.EventLoanRevoked
	notified := func(r storedLoan) (storedLoan, bool) {
		changed := applyEvent(&r.Loan, ev)
		return r, changed || !ends
	}
	first, news := notified(rec)
	if !news {
		return nil
	}
	write := func(ctx context.Context, r storedLoan) error {
		_, _, err := h.apply(ctx, r, typ, ev.Data, dedupe)
		return err
	}
	out, written, err := h.casWrite(ctx, first, write, notified)
	if err != nil {
		return fmt.Errorf("journaling notification for %s: %w", rec.Loan.ID, err)
	}
	if !written && out.Loan.ID == "" {
		return sdk.Errorf(sdk.CodeLoanNotFound, "unknown notification token")
	}
	return nil
}
