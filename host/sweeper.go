package host

import (
	"context"
	"errors"
	"time"

	"github.com/lendgate/lendgate/host/config"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/sdk"
)

// Defaults of the journal's housekeeping.
const (
	DefaultSweepInterval  = 30 * time.Second
	DefaultIdempotencyTTL = 24 * time.Hour
	sweepBatch            = 500
	// resolveBatch bounds the Resolve calls of one pass: they go through
	// each instance's limiter and breaker like any call.
	resolveBatch = 20
)

// sweep is the journal's housekeeping, run every Config.SweepInterval on
// every node (each step is idempotent, so nodes sharing a store may overlap):
//   - an active loan past its expiry becomes expired, with a loan.expired
//     event (once per expiry: the event's dedupe key is the loan's and its
//     expiry's), unless it was renewed or ended since the listing (cas.go);
//   - a pending loan whose checkout attempt began longer ago than its
//     instance's lease was being lent by a process that died during the
//     distributor call: its outcome cannot be
//     known from here, so it becomes status unknown, listed by
//     GET /v1/providers/{p}/loans?status=unknown for the library to check
//     with the distributor. It is never dropped;
//   - an unknown loan of an instance whose plugin offers resolve is settled
//     by asking the distributor (resolve.go), a bounded batch per pass;
//   - idempotency records older than the TTL are purged (parked claims of
//     unknown outcome and claims whose owner stopped beating too).
//
// While the journal is failing, each pass first probes it, so that /readyz
// turns ready again without waiting for a request.
func (h *Host) sweep(ctx context.Context) {
	h.mendJournal(ctx)
	now := time.Now().UTC()
	expired, err := h.store.ExpiredLoans(ctx, now, sweepBatch)
	if err != nil {
		h.log.Error("sweep: listing expired loans failed", "error", err)
	}
	for _, rec := range expired {
		h.expire(ctx, rec, now)
	}
	pending, err := h.store.LoansByStatus(ctx, "", StatusPending, sweepBatch)
	if err != nil {
		h.log.Error("sweep: listing pending loans failed", "error", err)
	}
	for _, rec := range pending {
		lease := config.DefaultMaxWait + config.DefaultTimeout + 5*time.Second
		if in, ok := h.instances[rec.Loan.Provider]; ok {
			lease = in.lease()
		}
		if now.Sub(rec.attempted()) < lease {
			continue // still in flight somewhere (a retry stamps its own attempt)
		}
		// As listed: if its checkout (or another attempt of it) journaled
		// anything since, the mark gives way.
		rec.Loan.Status = StatusUnknown
		if err := h.store.PutLoan(ctx, rec); err != nil {
			if errors.Is(err, journal.ErrConflict) {
				h.log.Debug("sweep: pending loan changed since the listing: not marked unknown", "provider", rec.Loan.Provider, "loan", rec.Loan.ID)
				continue
			}
			h.log.Error("sweep: marking loan unknown failed", "provider", rec.Loan.Provider, "loan", rec.Loan.ID, "error", err)
			continue
		}
		h.log.Warn("loan outcome unknown: the lending process stopped during the distributor call, or could not journal its answer", "provider", rec.Loan.Provider, "loan", rec.Loan.ID)
	}
	h.resolveUnknown(ctx)
	ttl := time.Duration(h.cfg.Store.IdempotencyTTL)
	if ttl <= 0 {
		ttl = DefaultIdempotencyTTL
	}
	if n, err := h.store.PurgeIdempotency(ctx, now.Add(-ttl)); err != nil {
		h.log.Error("sweep: purging idempotency keys failed", "error", err)
	} else if n > 0 {
		h.log.Debug("sweep: purged idempotency keys", "count", n)
	}
	h.purgeEvents(ctx, now)
}

// sweepLoop runs sweep at start and then every interval until the host
// closes. Between sweeps it mends the journal: a failing journal is probed
// every journalProbeEvery, and the loans owed an unknown mark are written as
// soon as it writes again (woken by the journal's health changes), without
// the rest of a sweep.
func (h *Host) sweepLoop(interval time.Duration) {
	defer h.bg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-h.closed; cancel() }()
	h.sweep(ctx)
	full := time.NewTicker(interval)
	defer full.Stop()
	probe := time.NewTicker(journalProbeEvery)
	defer probe.Stop()
	for {
		select {
		case <-h.closed:
			return
		case <-full.C:
			h.sweep(ctx)
		case <-probe.C:
			if !h.JournalWritable() || h.owed.len() > 0 {
				h.mendJournal(ctx)
			}
		case <-h.journalChanged():
			h.mendJournal(ctx)
		}
	}
}

// expire journals an active loan's expiry, read as listed: if it changed
// since, it is read again and expired only if it is still active with an
// expiry before now (a renewal in between wins).
func (h *Host) expire(ctx context.Context, rec storedLoan, now time.Time) {
	due := func(r storedLoan) bool {
		return r.Loan.Status == StatusActive && r.Loan.ExpiresAt != nil && r.Loan.ExpiresAt.Before(now)
	}
	expired := func(r storedLoan) storedLoan { r.Loan.Status = StatusExpired; return r }
	write := func(ctx context.Context, r storedLoan) error {
		_, _, err := h.apply(ctx, r, sdk.EventLoanExpired, nil, expiryKey(r))
		return err // not retried: the next sweep does
	}
	_, _, err := h.casWrite(ctx, expired(rec), write, func(cur storedLoan) (storedLoan, bool) { return expired(cur), due(cur) })
	if err != nil {
		h.log.Error("sweep: expiring loan failed", "provider", rec.Loan.Provider, "loan", rec.Loan.ID, "error", err)
	}
}

// expiryKey is the dedupe key of a loan's loan.expired: one per expiry, so
// that a loan renewed after it expired (cas.go) expires again later.
func expiryKey(r storedLoan) string {
	return "expired|" + r.Loan.Provider + "|" + r.Loan.ID + "|" + r.Loan.ExpiresAt.UTC().Format(time.RFC3339Nano)
}

// mendJournal probes a failing journal and writes what the host owes it.
func (h *Host) mendJournal(ctx context.Context) {
	if !h.JournalWritable() {
		h.probeJournal(ctx)
	}
	h.payOwed(ctx)
}
