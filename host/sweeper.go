package host

import (
	"context"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Defaults of the journal's housekeeping.
const (
	DefaultSweepInterval  = 30 * time.Second
	DefaultIdempotencyTTL = 24 * time.Hour
	sweepBatch            = 500
)

// sweep is the journal's housekeeping, run every Config.SweepInterval on
// every node (each step is idempotent, so nodes sharing a store may overlap):
//   - an active loan past its expiry becomes expired, with a loan.expired
//     event (once: the event's dedupe key is per loan);
//   - a pending loan older than its instance's lease was being lent by a
//     process that died during the distributor call: its outcome cannot be
//     known from here, so it becomes status unknown, listed by
//     GET /v1/providers/{p}/loans?status=unknown for the library to check
//     with the distributor. It is never dropped;
//   - idempotency records older than the TTL are purged.
func (h *Host) sweep(ctx context.Context) {
	now := time.Now().UTC()
	expired, err := h.store.ExpiredLoans(ctx, now, sweepBatch)
	if err != nil {
		h.log.Error("sweep: listing expired loans failed", "error", err)
	}
	for _, rec := range expired {
		rec.Loan.Status = StatusExpired
		if _, _, err := h.apply(ctx, rec, sdk.EventLoanExpired, nil, "expired|"+rec.Loan.Provider+"|"+rec.Loan.ID); err != nil {
			h.log.Error("sweep: expiring loan failed", "provider", rec.Loan.Provider, "loan", rec.Loan.ID, "error", err)
		}
	}
	pending, err := h.store.LoansByStatus(ctx, "", StatusPending, sweepBatch)
	if err != nil {
		h.log.Error("sweep: listing pending loans failed", "error", err)
	}
	for _, rec := range pending {
		lease := DefaultMaxWait + DefaultTimeout + 5*time.Second
		if in, ok := h.instances[rec.Loan.Provider]; ok {
			lease = in.lease()
		}
		if now.Sub(rec.Loan.CreatedAt) < lease {
			continue // still in flight somewhere
		}
		rec.Loan.Status = StatusUnknown
		if err := h.store.PutLoan(ctx, rec); err != nil {
			h.log.Error("sweep: marking loan unknown failed", "provider", rec.Loan.Provider, "loan", rec.Loan.ID, "error", err)
			continue
		}
		h.log.Warn("loan outcome unknown: the lending process stopped during the distributor call", "provider", rec.Loan.Provider, "loan", rec.Loan.ID)
	}
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

// sweepLoop runs sweep at start and then every interval until the host closes.
func (h *Host) sweepLoop(interval time.Duration) {
	defer h.bg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-h.closed; cancel() }()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		h.sweep(ctx)
		select {
		case <-h.closed:
			return
		case <-t.C:
		}
	}
}
