package journaltest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
)

func event(r journal.Loan, typ string, seconds int) journal.Event {
	return journal.Event{Type: typ, Provider: r.Provider, Loan: r.ID, Patron: r.Patron,
		Item: r.Item, At: at(seconds), Data: map[string]string{"n": fmt.Sprint(seconds)}}
}

// allEvents pages through the whole log, limit events at a time, checking
// that cursors increase as numbers and as text.
func allEvents(t *testing.T, s journal.Store, limit int) []journal.Event {
	t.Helper()
	var out []journal.Event
	after := ""
	for {
		page, err := s.Events(t.Context(), after, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > limit {
			t.Fatalf("Events(limit %d) returned %d", limit, len(page))
		}
		for _, e := range page {
			mustAfter(t, e.Cursor, after)
			after = e.Cursor
		}
		out = append(out, page...)
		if len(page) < limit {
			return out
		}
	}
}

// mustAfter checks that cursor c comes after prev, as a number and as text.
func mustAfter(t *testing.T, c, prev string) {
	t.Helper()
	n, err := journal.ParseCursor(c)
	if err != nil {
		t.Fatalf("cursor %q: %v", c, err)
	}
	p, _ := journal.ParseCursor(prev)
	if n <= p || (prev != "" && c <= prev) {
		t.Fatalf("cursor %q does not come after %q", c, prev)
	}
}

func testApplyWritesLoanAndEvent(t *testing.T, o *opened) {
	ctx, s := t.Context(), o.s
	r := loan("a", "ln_01", "p1", journal.StatusActive)
	e := event(r, "loan.created", 1)
	got, applied, err := s.Apply(ctx, r, e, "")
	if err != nil || !applied {
		t.Fatalf("Apply = %v, %v", applied, err)
	}
	if got.Cursor != journal.FormatCursor(1) || got.ID == "" {
		t.Fatalf("first event: cursor %q id %q, want cursor %q and an id", got.Cursor, got.ID, journal.FormatCursor(1))
	}
	want := e
	want.ID, want.Cursor = got.ID, got.Cursor
	mustJSON(t, got, want, "the applied event")
	r.Version++
	stored, err := s.Loan(ctx, "a", "ln_01")
	if err != nil {
		t.Fatal(err)
	}
	mustJSON(t, stored, r, "the applied loan")
	evs, err := s.Events(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("Events = %d events, want 1", len(evs))
	}
	mustJSON(t, evs[0], got, "the stored event")

	// Without a dedupe key every Apply appends.
	r.Status = "returned"
	got2, applied, err := s.Apply(ctx, r, event(r, "loan.returned", 2), "")
	if err != nil || !applied {
		t.Fatalf("second Apply = %v, %v", applied, err)
	}
	mustAfter(t, got2.Cursor, got.Cursor)
	if got2.ID == got.ID {
		t.Fatalf("two events with id %q", got.ID)
	}
	if stored, _ := s.Loan(ctx, "a", "ln_01"); stored.Status != "returned" {
		t.Fatalf("loan status %q after the second Apply", stored.Status)
	}
	if n := len(allEvents(t, s, 10)); n != 2 {
		t.Fatalf("%d events, want 2", n)
	}
}

func testApplyDedupe(t *testing.T, o *opened) {
	ctx, s := t.Context(), o.s
	r := loan("a", "ln_01", "p1", journal.StatusActive)
	first, applied, err := s.Apply(ctx, r, event(r, "loan.created", 1), "notify:1")
	if err != nil || !applied {
		t.Fatalf("Apply = %v, %v", applied, err)
	}
	r.Version++
	changed := r
	changed.Status = "revoked"
	again, applied, err := s.Apply(ctx, changed, event(changed, "loan.revoked", 2), "notify:1")
	if err != nil {
		t.Fatal(err)
	}
	if applied {
		t.Fatal("the same dedupe key was applied twice")
	}
	mustJSON(t, again, first, "the event returned for a seen dedupe key")
	stored, err := s.Loan(ctx, "a", "ln_01")
	if err != nil {
		t.Fatal(err)
	}
	if stored.Status != journal.StatusActive {
		t.Fatalf("a deduplicated Apply changed the loan to %q", stored.Status)
	}
	if evs := allEvents(t, s, 10); len(evs) != 1 {
		t.Fatalf("%d events after a duplicate, want 1", len(evs))
	}

	// Another key applies.
	second, applied, err := s.Apply(ctx, changed, event(changed, "loan.revoked", 3), "notify:2")
	if err != nil || !applied {
		t.Fatalf("Apply with a new key = %v, %v", applied, err)
	}
	mustAfter(t, second.Cursor, first.Cursor)
	if stored, _ := s.Loan(ctx, "a", "ln_01"); stored.Status != "revoked" {
		t.Fatalf("loan status %q after a new key", stored.Status)
	}
	// And the first key still finds the first event.
	again, applied, err = s.Apply(ctx, r, event(r, "loan.created", 4), "notify:1")
	if err != nil || applied {
		t.Fatalf("Apply with the first key again = %v, %v", applied, err)
	}
	mustJSON(t, again, first, "the event returned for the first key")
	if evs := allEvents(t, s, 10); len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
}

// testApplyIsAtomic checks that an Apply that fails (here: its context is
// done) writes neither the loan nor the event, and one that succeeds writes
// both.
func testApplyIsAtomic(t *testing.T, o *opened) {
	s := o.s
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := loan("a", "ln_01", "p1", journal.StatusActive)
	_, applied, err := s.Apply(ctx, r, event(r, "loan.created", 1), "k1")
	_, lerr := s.Loan(t.Context(), "a", "ln_01")
	evs := allEvents(t, s, 10)
	switch {
	case err != nil && applied:
		t.Fatalf("Apply failed (%v) but says it applied", err)
	case err != nil && (lerr == nil || len(evs) != 0):
		t.Fatalf("a failed Apply (%v) left loan: %v, events: %d", err, lerr, len(evs))
	case err == nil && (!applied || lerr != nil || len(evs) != 1):
		t.Fatalf("Apply succeeded (applied %v) but loan: %v, events: %d", applied, lerr, len(evs))
	}
	if err != nil && !errors.Is(lerr, journal.ErrNotFound) {
		t.Fatalf("Loan after a failed Apply: %v", lerr)
	}
	// A failed Apply does not consume its dedupe key.
	if err != nil {
		if _, applied, err := s.Apply(t.Context(), r, event(r, "loan.created", 1), "k1"); err != nil || !applied {
			t.Fatalf("Apply after a failed one = %v, %v", applied, err)
		}
	}
}

func testEventCursors(t *testing.T, o *opened) {
	ctx, s := t.Context(), o.s
	if evs, err := s.Events(ctx, "", 10); err != nil || len(evs) != 0 {
		t.Fatalf("Events of an empty store = %d, %v", len(evs), err)
	}
	var applied []journal.Event
	for i := range 7 {
		r := loan("a", name("ln", i), "p1", journal.StatusActive)
		e, ok, err := s.Apply(ctx, r, event(r, "loan.created", i), "")
		if err != nil || !ok {
			t.Fatalf("Apply %d = %v, %v", i, ok, err)
		}
		if i > 0 {
			mustAfter(t, e.Cursor, applied[i-1].Cursor)
		}
		applied = append(applied, e)
	}
	// Pages of 3: 3, 3, 1.
	var pages [][]journal.Event
	after := ""
	for {
		page, err := s.Events(ctx, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		pages = append(pages, page)
		after = page[len(page)-1].Cursor
	}
	if len(pages) != 3 || len(pages[0]) != 3 || len(pages[1]) != 3 || len(pages[2]) != 1 {
		t.Fatalf("pages of 3 over 7 events: %d pages", len(pages))
	}
	var got []journal.Event
	for _, p := range pages {
		got = append(got, p...)
	}
	mustJSON(t, got, applied, "events paged")
	// after a cursor: the events that follow it.
	page, err := s.Events(ctx, applied[3].Cursor, 100)
	if err != nil {
		t.Fatal(err)
	}
	mustJSON(t, page, applied[4:], "events after the fourth")
	page, err = s.Events(ctx, applied[6].Cursor, 100)
	if err != nil || len(page) != 0 {
		t.Fatalf("events after the last = %d, %v", len(page), err)
	}
	page, err = s.Events(ctx, journal.FormatCursor(1000000), 100)
	if err != nil || len(page) != 0 {
		t.Fatalf("events after a cursor past the end = %d, %v", len(page), err)
	}
	page, err = s.Events(ctx, "", 1)
	if err != nil || len(page) != 1 || page[0].Cursor != applied[0].Cursor {
		t.Fatalf("Events limit 1 = %d, %v", len(page), err)
	}
	if _, err := s.Events(ctx, "not-a-cursor", 10); err == nil {
		t.Fatal("Events accepted an invalid cursor")
	}
	// Cursors sort as text in event order.
	cursors := make([]string, len(applied))
	for i, e := range applied {
		cursors[len(applied)-1-i] = e.Cursor
	}
	sort.Strings(cursors)
	for i, e := range applied {
		if cursors[i] != e.Cursor {
			t.Fatalf("cursors do not sort as text: %q", cursors)
		}
	}
}

func testConcurrentApply(t *testing.T, o *opened) {
	const n = 16
	nodes := o.nodes(2)
	cursors := make([]string, n)
	errs := parallel(n, nodes, func(i int, s journal.Store) error {
		r := loan("a", name("ln", i), "p1", journal.StatusActive)
		e, applied, err := s.Apply(t.Context(), r, event(r, "loan.created", i), "")
		if err == nil && !applied {
			err = errors.New("not applied")
		}
		cursors[i] = e.Cursor
		return err
	})
	mustNoErrors(t, errs)
	seen := map[string]bool{}
	for _, c := range cursors {
		if seen[c] {
			t.Fatalf("cursor %q given twice: %q", c, cursors)
		}
		seen[c] = true
	}
	for _, s := range nodes {
		evs := allEvents(t, s, 5)
		if len(evs) != n {
			t.Fatalf("paging found %d events, want %d", len(evs), n)
		}
		for _, e := range evs {
			if !seen[e.Cursor] {
				t.Fatalf("paging found cursor %q that no Apply returned", e.Cursor)
			}
		}
	}
	for i := range n {
		if _, err := o.s.Loan(t.Context(), "a", name("ln", i)); err != nil {
			t.Fatalf("loan %d: %v", i, err)
		}
	}
}

func testConcurrentApplySameDedupeKey(t *testing.T, o *opened) {
	const n = 16
	var mu sync.Mutex
	won := 0
	ids := map[string]bool{}
	errs := parallel(n, o.nodes(2), func(i int, s journal.Store) error {
		r := loan("a", "ln_01", "p1", journal.StatusActive)
		r.Format = name("f", i)
		e, applied, err := s.Apply(t.Context(), r, event(r, "loan.renewed", i), "renew:ln_01:1")
		mu.Lock()
		defer mu.Unlock()
		if applied {
			won++
		}
		ids[e.ID] = true
		return err
	})
	mustNoErrors(t, errs)
	if won != 1 {
		t.Fatalf("%d of %d Applies of one dedupe key applied, want 1", won, n)
	}
	if len(ids) != 1 {
		t.Fatalf("Applies of one dedupe key returned %d different events", len(ids))
	}
	evs := allEvents(t, o.s, 10)
	if len(evs) != 1 || !ids[evs[0].ID] {
		t.Fatalf("the log has %d events, want the one applied", len(evs))
	}
	stored, err := o.s.Loan(t.Context(), "a", "ln_01")
	if err != nil {
		t.Fatal(err)
	}
	if want := name("f", mustAtoi(t, evs[0].Data["n"])); stored.Format != want {
		t.Fatalf("the loan is %q, but the applied event was the one of %q", stored.Format, want)
	}
}

func mustAtoi(t *testing.T, s string) int {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return n
}

// testEventsReadWhileApplying pages the log while writers append to it: the
// reader, following cursors, must see every event exactly once, even though
// writers commit concurrently.
func testEventsReadWhileApplying(t *testing.T, o *opened) {
	const writers, each = 8, 10
	nodes := o.nodes(2)
	done := make(chan []error, 1)
	go func() {
		done <- parallel(writers, nodes, func(w int, s journal.Store) error {
			for i := range each {
				r := loan("a", fmt.Sprintf("ln_%02d_%02d", w, i), "p1", journal.StatusActive)
				if _, _, err := s.Apply(t.Context(), r, event(r, "loan.created", w*100+i), ""); err != nil {
					return err
				}
			}
			return nil
		})
	}()
	reader := nodes[len(nodes)-1]
	seen := map[string]bool{}
	after := ""
	deadline := time.Now().Add(60 * time.Second)
	var writeErrs []error
	finished := false
	for len(seen) < writers*each {
		if time.Now().After(deadline) {
			t.Fatalf("the reader saw %d of %d events in 60s", len(seen), writers*each)
		}
		page, err := reader.Events(t.Context(), after, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			mustAfter(t, e.Cursor, after)
			after = e.Cursor
			if seen[e.Loan] {
				t.Fatalf("event of %s seen twice", e.Loan)
			}
			seen[e.Loan] = true
		}
		if !finished {
			select {
			case writeErrs = <-done:
				finished = true
				mustNoErrors(t, writeErrs)
			default:
			}
		} else if len(page) == 0 {
			t.Fatalf("the reader, following cursors, saw %d of %d events: some were skipped", len(seen), writers*each)
		}
	}
	if !finished {
		mustNoErrors(t, <-done)
	}
	if page, err := reader.Events(t.Context(), after, 10); err != nil || len(page) != 0 {
		t.Fatalf("events after the last = %d, %v", len(page), err)
	}
}
