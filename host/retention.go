package host

import (
	"context"
	"time"
)

// DefaultEventRetention is how long events are kept when
// store.event_retention is not set.
const DefaultEventRetention = 90 * 24 * time.Hour

// eventRetention is the retention in force: the configured one, but never
// shorter than the Idempotency-Key TTL, because a checkout retried with its
// key finds its loan.created event by its dedupe key.
func (h *Host) eventRetention() time.Duration {
	r := time.Duration(h.cfg.Store.EventRetention)
	if r <= 0 {
		r = DefaultEventRetention
	}
	return max(r, h.idempotencyTTL())
}

func (h *Host) idempotencyTTL() time.Duration {
	if ttl := time.Duration(h.cfg.Store.IdempotencyTTL); ttl > 0 {
		return ttl
	}
	return DefaultIdempotencyTTL
}

// purgeEvents is the sweeper's retention pass (a journal that is no
// journal.EventPurger purges nothing).
func (h *Host) purgeEvents(ctx context.Context, now time.Time) {
	if n, err := h.store.PurgeEvents(ctx, now.Add(-h.eventRetention())); err != nil {
		h.log.Error("sweep: purging old events failed", "error", err)
	} else if n > 0 {
		h.log.Debug("sweep: purged old events", "count", n)
	}
}
