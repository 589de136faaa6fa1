package host

import (
	"time"
)

// webhookOrderKey is what an endpoint keeps in log order: a loan's events
// reach the receiver in the order they were appended, events of different
// loans may overtake each other. An event of no loan has the key "": such
// events keep their order among themselves. (Hold events, which carry a
// hold and no loan, are to key on their hold here.)
func webhookOrderKey(ev *Event) string {
	if ev.Loan != "" {
		return "loan\x00" + ev.Provider + "\x00" + ev.Loan
	}
	return ""
}

// webhookWindowSize bounds how far past an endpoint's cursor its
// deliveries run: the events after the cursor that are read, delivered or
// not. An event that keeps failing holds the cursor, so the endpoint stalls
// once this many events after it are read, until it is delivered or given
// up; and it bounds what a restart may send again.
const webhookWindowSize = 1024

// windowEntry is one event after the cursor.
type windowEntry struct {
	cursor string
	ev     *Event // nil for an event the endpoint does not want (done at once)
	key    string
	done   bool // delivered, given up, or not wanted
	flight bool // an attempt is in flight
	// The event's own retries: failed attempts, the first failure (the
	// give-up clock) and when the next attempt may start.
	attempts     int
	firstFailure time.Time
	notBefore    time.Time
}

// deliveryWindow is the events after an endpoint's cursor that its driver
// has read, in log order, and the count of the wanted ones beyond them.
// It decides which may be sent (each key's events in order), and the
// cursor: it moves only over a prefix of the log that is delivered, given
// up or not wanted, so a restart never skips an event. One goroutine (the
// driver's) owns it.
type deliveryWindow struct {
	entries []*windowEntry
	cursor  string // the last event of the done prefix
	readPos string // the last event read into entries (cursor when none)
	// pending counts the wanted entries not done; beyond the wanted events
	// counted after readPos, up to countedPos. pending + beyond is the
	// endpoint's queue.
	pending, beyond int
	countedPos      string
	held            map[string]bool // ready's scratch
}

func newDeliveryWindow(cursor string) *deliveryWindow {
	return &deliveryWindow{cursor: cursor, readPos: cursor, countedPos: cursor}
}

// room is how many more events the window takes.
func (w *deliveryWindow) room() int { return webhookWindowSize - len(w.entries) }

// add appends events read after readPos; wanted says which the endpoint
// wants.
func (w *deliveryWindow) add(evs []Event, wanted func(*Event) bool) {
	for i := range evs {
		ev := &evs[i]
		e := &windowEntry{cursor: ev.Cursor}
		if wanted(ev) {
			e.ev, e.key = ev, webhookOrderKey(ev)
			w.pending++
			if cursorBefore(w.readPos, w.countedPos) && !cursorBefore(w.countedPos, ev.Cursor) {
				w.beyond-- // counted already, now in the window
			}
		} else {
			e.done = true
		}
		w.entries = append(w.entries, e)
		w.readPos = ev.Cursor
	}
	if !cursorBefore(w.readPos, w.countedPos) {
		// Past everything counted (events purged meanwhile are no longer
		// in the count either).
		w.countedPos, w.beyond = w.readPos, 0
	}
	w.beyond = max(w.beyond, 0)
}

// caughtUp records that nothing follows readPos in the log: what was
// counted past it is gone (purged).
func (w *deliveryWindow) caughtUp() {
	w.countedPos, w.beyond = w.readPos, 0
}

// count counts the wanted events of evs, read after countedPos while the
// window is full.
func (w *deliveryWindow) count(evs []Event, wanted func(*Event) bool) {
	for i := range evs {
		if wanted(&evs[i]) {
			w.beyond++
		}
		w.countedPos = evs[i].Cursor
	}
}

// queued is the endpoint's queue: the wanted events after the cursor that
// are not delivered or given up, as far as they are counted.
func (w *deliveryWindow) queued() int { return w.pending + w.beyond }

// finish marks e done (delivered or given up).
func (w *deliveryWindow) finish(e *windowEntry) {
	if !e.done {
		e.done, e.flight = true, false
		w.pending--
	}
}

// advance moves the cursor over the done entries at the front; true when
// it moved.
func (w *deliveryWindow) advance() bool {
	n := 0
	for n < len(w.entries) && w.entries[n].done {
		n++
	}
	if n == 0 {
		return false
	}
	w.cursor = w.entries[n-1].cursor
	clear(w.entries[:n])
	w.entries = w.entries[n:]
	if len(w.entries) == 0 {
		w.entries = nil // let the backing array go
	}
	return true
}

// head is the first entry after the cursor, if any and wanted.
func (w *deliveryWindow) head() *windowEntry {
	if len(w.entries) == 0 || w.entries[0].done {
		return nil
	}
	return w.entries[0]
}

// ready calls try with each entry that may be sent now: not done, not in
// flight, due at now, and with no earlier entry of its key left undone. It
// stops when try returns false. It returns the earliest time a waiting
// entry becomes due (zero if none waits on time).
func (w *deliveryWindow) ready(now time.Time, strict bool, try func(*windowEntry) bool) (next time.Time) {
	if w.held == nil {
		w.held = map[string]bool{}
	}
	held := w.held // keys with an earlier entry not done
	clear(held)
	for _, e := range w.entries {
		if e.done {
			continue
		}
		if held[e.key] || (strict && len(held) > 0) {
			continue
		}
		held[e.key] = true
		if e.flight {
			continue
		}
		if now.Before(e.notBefore) {
			if next.IsZero() || e.notBefore.Before(next) {
				next = e.notBefore
			}
			continue
		}
		if !try(e) {
			return next
		}
	}
	return next
}

// cursorBefore reports whether cursor a comes before b ("" is the start):
// cursors are fixed-width numbers, so longer is later.
func cursorBefore(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
