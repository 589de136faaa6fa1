package host

import (
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
)

func windowEvents(from int, specs ...string) []Event {
	var out []Event
	for i, s := range specs {
		c := journal.FormatCursor(uint64(from + i))
		typ, loan := "loan.created", s
		if s == "" {
			typ = "loan.expired" // not wanted below
		}
		out = append(out, Event{ID: "ev_" + c, Cursor: c, Type: typ, Provider: "p", Loan: loan})
	}
	return out
}

func wantCreated(ev *Event) bool { return ev.Type == "loan.created" }

// readyIDs lists the entries ready at now.
func readyIDs(w *deliveryWindow, now time.Time, strict bool) []string {
	var out []string
	w.ready(now, strict, func(e *windowEntry) bool {
		out = append(out, e.ev.ID)
		return true
	})
	return out
}

// The cursor moves only over a contiguous prefix of the log that is done
// (delivered, given up or not wanted), whatever order deliveries end in.
func TestWindowCursorMovesOverTheDonePrefixOnly(t *testing.T) {
	w := newDeliveryWindow(journal.FormatCursor(10))
	w.add(windowEvents(11, "a", "b", "", "c"), wantCreated)
	if w.queued() != 3 || w.readPos != journal.FormatCursor(14) {
		t.Fatalf("queued %d, readPos %s", w.queued(), w.readPos)
	}
	e := w.entries
	w.finish(e[1]) // b before a
	if w.advance() || w.cursor != journal.FormatCursor(10) {
		t.Fatalf("the cursor moved to %s over a (not delivered)", w.cursor)
	}
	w.finish(e[0])
	if !w.advance() || w.cursor != journal.FormatCursor(13) { // a, b and the unwanted event
		t.Fatalf("cursor %s, want 13", w.cursor)
	}
	if w.queued() != 1 {
		t.Fatalf("queued %d, want 1 (c)", w.queued())
	}
}

// Each loan's events are ready one at a time, in log order; other loans'
// do not wait; strict readiness (concurrency 1) is the whole log in order.
func TestWindowReadyKeepsEachLoansOrder(t *testing.T) {
	now := time.Now()
	w := newDeliveryWindow("")
	w.add(windowEvents(1, "a", "b", "a", "c", "b"), wantCreated)
	if got := readyIDs(w, now, false); len(got) != 3 || got[0] != "ev_0000000000000001" || got[1] != "ev_0000000000000002" || got[2] != "ev_0000000000000004" {
		t.Fatalf("ready %v, want the first of a, b and c", got)
	}
	if got := readyIDs(w, now, true); len(got) != 1 || got[0] != "ev_0000000000000001" {
		t.Fatalf("strict: ready %v, want the first event alone", got)
	}
	// a's first in flight still holds a's second; a retry waiting for its
	// delay holds its loan too, and says when it is due.
	w.entries[0].flight = true
	w.entries[1].notBefore = now.Add(time.Second)
	var next time.Time
	var got []string
	next = w.ready(now, false, func(e *windowEntry) bool { got = append(got, e.ev.ID); return true })
	if len(got) != 1 || got[0] != "ev_0000000000000004" || !next.Equal(now.Add(time.Second)) {
		t.Fatalf("ready %v next %v, want c alone, next in 1 s", got, next)
	}
	w.finish(w.entries[0])
	if got := readyIDs(w, now, false); len(got) != 2 || got[0] != "ev_0000000000000003" {
		t.Fatalf("after a's first: ready %v, want a's second and c", got)
	}
}

// The queue counts the wanted events past the window too, and does not
// count twice those the window then reads.
func TestWindowCountsPastItself(t *testing.T) {
	w := newDeliveryWindow("")
	w.add(windowEvents(1, "a", ""), wantCreated)
	w.count(windowEvents(3, "b", "", "c", "d"), wantCreated) // read while full
	if w.queued() != 4 {
		t.Fatalf("queued %d, want 4", w.queued())
	}
	w.add(windowEvents(3, "b", ""), wantCreated) // now in the window
	if w.queued() != 4 || w.beyond != 2 {
		t.Fatalf("queued %d (beyond %d), want 4 (2)", w.queued(), w.beyond)
	}
	w.add(windowEvents(5, "c", "d", "e"), wantCreated) // past what was counted
	if w.queued() != 5 || w.beyond != 0 || w.countedPos != journal.FormatCursor(7) {
		t.Fatalf("queued %d beyond %d counted %s", w.queued(), w.beyond, w.countedPos)
	}
}
