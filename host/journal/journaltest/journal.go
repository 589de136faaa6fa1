package journaltest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
)

// testIndexesFollowChanges moves one loan through patrons, statuses and
// expiries: every listing finds it where it is now and nowhere it was.
func testIndexesFollowChanges(t *testing.T, o *opened) {
	ctx, s := t.Context(), o.s
	r := loan("a", "ln_01", "p1", journal.StatusActive)
	r.ExpiresAt = timePtr(at(10))
	if err := s.PutLoan(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Version++
	check := func(when string, patrons map[string][]string, statuses map[string][]string, expiredAt map[int][]string) {
		t.Helper()
		for p, want := range patrons {
			got, err := s.PatronLoans(ctx, "a", p)
			if err != nil {
				t.Fatal(err)
			}
			if g := ids(got); !equalStrings(g, nonNil(want)) {
				t.Fatalf("%s: PatronLoans(%s) = %q, want %q", when, p, g, want)
			}
		}
		for st, want := range statuses {
			for _, provider := range []string{"a", ""} {
				got, err := s.LoansByStatus(ctx, provider, st, 10)
				if err != nil {
					t.Fatal(err)
				}
				if g := ids(got); !equalStrings(g, nonNil(want)) {
					t.Fatalf("%s: LoansByStatus(%q, %s) = %q, want %q", when, provider, st, g, want)
				}
			}
		}
		for sec, want := range expiredAt {
			got, err := s.ExpiredLoans(ctx, at(sec), 10)
			if err != nil {
				t.Fatal(err)
			}
			if g := ids(got); !equalStrings(g, nonNil(want)) {
				t.Fatalf("%s: ExpiredLoans(at %d) = %q, want %q", when, sec, g, want)
			}
		}
	}
	check("active",
		map[string][]string{"p1": {"a/ln_01"}, "p2": nil},
		map[string][]string{journal.StatusActive: {"a/ln_01"}, "returned": nil},
		map[int][]string{11: {"a/ln_01"}, 10: nil})

	// Renewed: a later expiry.
	r.ExpiresAt = timePtr(at(5000))
	if _, _, err := s.Apply(ctx, r, event(r, "loan.renewed", 1), ""); err != nil {
		t.Fatal(err)
	}
	r.Version++
	check("renewed",
		map[string][]string{"p1": {"a/ln_01"}},
		map[string][]string{journal.StatusActive: {"a/ln_01"}},
		map[int][]string{11: nil, 5001: {"a/ln_01"}})

	// Another patron id (a correction), and returned.
	r.Patron = "p2"
	r.Status = "returned"
	if _, _, err := s.Apply(ctx, r, event(r, "loan.returned", 2), ""); err != nil {
		t.Fatal(err)
	}
	r.Version++
	check("returned",
		map[string][]string{"p1": nil, "p2": {"a/ln_01"}},
		map[string][]string{journal.StatusActive: nil, "returned": {"a/ln_01"}},
		map[int][]string{5001: nil})

	if err := s.DeleteLoan(ctx, "a", "ln_01", r.Version); err != nil {
		t.Fatal(err)
	}
	check("deleted",
		map[string][]string{"p1": nil, "p2": nil},
		map[string][]string{journal.StatusActive: nil, "returned": nil},
		map[int][]string{5001: nil})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// testEventsNeverSkippedUnderManyWriters: many writers append at once (on
// two nodes where the driver shares its data) while a reader pages with
// after, a few events at a time. Writers commit out of their numbers'
// order; a reader that stepped over a number still being written would
// never see that event. The reader must end with every event exactly
// once, in cursor order.
func testEventsNeverSkippedUnderManyWriters(t *testing.T, o *opened) {
	const writers, each = 32, 15
	nodes := o.nodes(2)
	var mu sync.Mutex
	appended := map[string]bool{}
	done := make(chan []error, 1)
	go func() {
		done <- parallel(writers, nodes, func(w int, s journal.Store) error {
			for i := range each {
				r := loan("a", fmt.Sprintf("ln_%02d_%02d", w, i), "p1", journal.StatusActive)
				e, applied, err := s.Apply(t.Context(), r, event(r, "loan.created", w*100+i), "")
				if err != nil {
					return err
				}
				if !applied {
					return errors.New("not applied")
				}
				mu.Lock()
				appended[e.ID] = true
				mu.Unlock()
			}
			return nil
		})
	}()
	reader := nodes[len(nodes)-1]
	var got []journal.Event
	after := ""
	finished := false
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("the reader saw %d of %d events in 2 minutes", len(got), writers*each)
		}
		page, err := reader.Events(t.Context(), after, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			mustAfter(t, e.Cursor, after)
			after = e.Cursor
		}
		got = append(got, page...)
		if finished && len(page) == 0 {
			break // every writer had returned before this empty page
		}
		if !finished {
			select {
			case errs := <-done:
				mustNoErrors(t, errs)
				finished = true
			default:
			}
		}
	}
	seen := map[string]bool{}
	for _, e := range got {
		if seen[e.ID] {
			t.Fatalf("event %s read twice", e.ID)
		}
		seen[e.ID] = true
		if !appended[e.ID] {
			t.Fatalf("event %s read but never appended", e.ID)
		}
	}
	if len(seen) != len(appended) {
		missing := 0
		for id := range appended {
			if !seen[id] {
				missing++
			}
		}
		t.Fatalf("the reader, following cursors, read %d of %d events: %d skipped", len(seen), len(appended), missing)
	}
}

// testEventRetention purges the events appended before a time: older ones
// go (with their dedupe keys), newer ones stay with their cursors, a
// reader holding a purged cursor goes on from the first kept event, and
// numbering goes on after the last.
func testEventRetention(t *testing.T, o *opened) {
	p, ok := o.s.(journal.EventPurger)
	if !ok {
		t.Skip("the driver does not purge events")
	}
	ctx, s := t.Context(), o.s
	var evs []journal.Event
	for i := range 6 {
		r := loan("a", name("ln", i), "p1", journal.StatusActive)
		e, applied, err := s.Apply(ctx, r, event(r, "loan.created", i*10), "created:"+name("ln", i))
		if err != nil || !applied {
			t.Fatalf("Apply %d = %v, %v", i, applied, err)
		}
		evs = append(evs, e)
	}
	// Events at 0, 10, 20, 30, 40, 50: purge those before 30.
	n, err := p.PurgeEvents(ctx, at(30))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("PurgeEvents removed %d events, want 3", n)
	}
	mustJSON(t, allEvents(t, s, 2), evs[3:], "events after the purge")
	page, err := s.Events(ctx, evs[0].Cursor, 10)
	if err != nil {
		t.Fatal(err)
	}
	mustJSON(t, page, evs[3:], "events after a purged cursor")
	if n, err := p.PurgeEvents(ctx, at(30)); err != nil || n != 0 {
		t.Fatalf("second PurgeEvents = %d, %v", n, err)
	}
	// A kept event's dedupe key still dedupes; a purged one's is gone
	// with it.
	r := loan("a", name("ln", 4), "p1", journal.StatusActive)
	again, applied, err := s.Apply(ctx, r, event(r, "loan.created", 99), "created:"+name("ln", 4))
	if err != nil || applied {
		t.Fatalf("Apply of a kept key = %v, %v", applied, err)
	}
	mustJSON(t, again, evs[4], "the event of a kept key")
	r = loan("a", name("ln", 0), "p1", journal.StatusActive)
	r.Version = 1
	next, applied, err := s.Apply(ctx, r, event(r, "loan.created", 100), "created:"+name("ln", 0))
	if err != nil || !applied {
		t.Fatalf("Apply of a purged key = %v, %v", applied, err)
	}
	r.Version++
	mustAfter(t, next.Cursor, evs[5].Cursor)
	// Purging everything leaves an empty log that numbering goes on from.
	if n, err := p.PurgeEvents(ctx, at(1000)); err != nil || n != 4 {
		t.Fatalf("purging every event = %d, %v; want 4", n, err)
	}
	if page := allEvents(t, s, 10); len(page) != 0 {
		t.Fatalf("%d events after purging all", len(page))
	}
	last, _, err := s.Apply(ctx, r, event(r, "loan.renewed", 2000), "")
	if err != nil {
		t.Fatal(err)
	}
	mustAfter(t, last.Cursor, next.Cursor)
	page, err = s.Events(ctx, evs[1].Cursor, 10)
	if err != nil || len(page) != 1 || page[0].ID != last.ID {
		t.Fatalf("events after an old cursor once all were purged: %d, %v", len(page), err)
	}
}

// testIdempotencyPurgeMany purges more records than a driver deletes in
// one transaction.
func testIdempotencyPurgeMany(t *testing.T, o *opened) {
	const writers, each = 16, 160 // 2560 records
	errs := parallel(writers, o.nodes(2), func(w int, s journal.Store) error {
		for i := range each {
			r := claim("checkout", fmt.Sprintf("k-%02d-%03d", w, i), "ln", i%5)
			if _, _, err := s.ClaimIdempotency(t.Context(), r, at(-1000)); err != nil {
				return err
			}
			if i%10 == 9 {
				// In progress, its owner still beating: kept.
				if _, err := s.RefreshIdempotency(t.Context(), r.Scope, r.Key, at(200)); err != nil {
					return err
				}
				continue
			}
			r.Outcome, r.Body = journal.OutcomeAnswer, []byte(`{}`)
			if err := s.CompleteIdempotency(t.Context(), r); err != nil {
				return err
			}
		}
		return nil
	})
	mustNoErrors(t, errs)
	n, err := o.s.PurgeIdempotency(t.Context(), at(100))
	if err != nil {
		t.Fatal(err)
	}
	if want := writers * each * 9 / 10; n != want {
		t.Fatalf("PurgeIdempotency removed %d, want %d", n, want)
	}
	for w := range writers {
		for i := range each {
			_, err := idempotency(t, o.s, "checkout", fmt.Sprintf("k-%02d-%03d", w, i))
			if kept := i%10 == 9; kept != (err == nil) {
				t.Fatalf("record %d/%d after the purge: %v (in progress: %v)", w, i, err, kept)
			}
		}
	}
}
