package host

import (
	"context"
	"time"

	"github.com/lendgate/lendgate/host/journal"
)

// apply journals a loan and its event in one transaction, then tells
// OnEvent. With a dedupe key seen before it changes nothing.
func (h *Host) apply(ctx context.Context, rec storedLoan, typ string, data map[string]string, dedupeKey string) (Event, bool, error) {
	l := rec.Loan
	if data == nil {
		data = map[string]string{}
	}
	e := Event{Type: typ, Provider: l.Provider, Loan: l.ID, Patron: l.Patron, Item: l.Item, At: time.Now().UTC(), Data: data}
	stored, applied, err := h.store.Apply(ctx, rec, e, dedupeKey)
	if err != nil {
		h.log.Error("journaling event failed", "type", typ, "provider", l.Provider, "loan", l.ID, "error", err)
		return Event{}, false, err
	}
	if applied {
		h.hooks.poke()
	}
	if applied && h.cfg.OnEvent != nil {
		h.cfg.OnEvent(stored)
	}
	return stored, applied, nil
}

// Events pages the event log, oldest first. limit defaults to 100 and is at
// most 1000.
func (h *Host) Events(ctx context.Context, after string, limit int) (EventPage, error) {
	if limit <= 0 {
		limit = 100
	}
	if limit > 1000 {
		return EventPage{}, invalid("limit must be at most 1000")
	}
	if _, err := journal.ParseCursor(after); err != nil {
		return EventPage{}, invalid("%v", err)
	}
	evs, err := h.store.Events(ctx, after, limit)
	if err != nil {
		return EventPage{}, err
	}
	next := after
	if len(evs) > 0 {
		next = evs[len(evs)-1].Cursor
	}
	return EventPage{Events: evs, Next: next}, nil
}
