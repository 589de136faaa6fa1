package host

import (
	"context"
	"time"
)

// EventPurger is a Store that can drop old events: every driver of this
// package is one. It is an interface of its own, beside Store, so that a
// Store written elsewhere keeps compiling; the sweeper purges only stores
// that implement it.
type EventPurger interface {
	// PurgeEvents deletes events appended before t, oldest first, with
	// their dedupe keys, and returns how many it deleted. It never deletes
	// an event appended at or after t.
	PurgeEvents(ctx context.Context, t time.Time) (int, error)
}

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

// purgeEvents is the sweeper's retention pass.
func (h *Host) purgeEvents(ctx context.Context, now time.Time) {
	p, ok := h.store.(EventPurger)
	if !ok {
		return
	}
	if n, err := p.PurgeEvents(ctx, now.Add(-h.eventRetention())); err != nil {
		h.log.Error("sweep: purging old events failed", "error", err)
	} else if n > 0 {
		h.log.Debug("sweep: purged old events", "count", n)
	}
}
