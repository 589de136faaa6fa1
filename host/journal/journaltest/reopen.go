package journaltest

import (
	"testing"

	"github.com/lendgate/lendgate/host/journal"
)

// testRecordsSurviveReopen closes a durable store and opens its data again:
// loans, events (with their cursors and dedupe keys) and idempotency
// records are all there, and new events follow the old ones.
func testRecordsSurviveReopen(t *testing.T, o *opened) {
	if o.reopen == nil {
		t.Skip("the driver keeps nothing once closed")
	}
	ctx := t.Context()
	r1 := loan("a", "ln_01", "p1", journal.StatusActive)
	r1.ExpiresAt = timePtr(at(60))
	r2 := loan("b", "ln_02", "p2", "pending")
	if err := o.s.PutLoan(ctx, r2); err != nil {
		t.Fatal(err)
	}
	r2.Version++
	var evs []journal.Event
	for i, key := range []string{"created:ln_01", "", "notify:7"} {
		e, applied, err := o.s.Apply(ctx, r1, event(r1, "loan.event", i), key)
		if err != nil || !applied {
			t.Fatalf("Apply %d = %v, %v", i, applied, err)
		}
		r1.Version++
		evs = append(evs, e)
	}
	done := claim("checkout", "k1", "ln_01", 0)
	if _, _, err := o.s.ClaimIdempotency(ctx, done, at(-60)); err != nil {
		t.Fatal(err)
	}
	done.Outcome, done.Body = journal.OutcomeAnswer, []byte(`{"id":"ln_01"}`)
	if err := o.s.CompleteIdempotency(ctx, done); err != nil {
		t.Fatal(err)
	}
	running := claim("checkout", "k2", "ln_02", 5)
	if _, _, err := o.s.ClaimIdempotency(ctx, running, at(-60)); err != nil {
		t.Fatal(err)
	}

	o.closeAndReopen()
	s := o.s

	for _, want := range []journal.Loan{r1, r2} {
		got, err := s.Loan(ctx, want.Provider, want.ID)
		if err != nil {
			t.Fatalf("loan %s after reopen: %v", want.ID, err)
		}
		mustJSON(t, got, want, "loan after reopen")
	}
	loans, err := s.PatronLoans(ctx, "a", "p1")
	mustIDs(t, loans, err, "a/ln_01")
	loans, err = s.LoansByStatus(ctx, "b", "pending", 10)
	mustIDs(t, loans, err, "b/ln_02")
	loans, err = s.ExpiredLoans(ctx, at(61), 10)
	mustIDs(t, loans, err, "a/ln_01")
	mustJSON(t, allEvents(t, s, 2), evs, "events after reopen")
	for _, want := range []journal.IdempotencyRecord{done, running} {
		got, err := idempotency(t, s, want.Scope, want.Key)
		if err != nil {
			t.Fatalf("idempotency %s after reopen: %v", want.Key, err)
		}
		mustJSON(t, got, want, "idempotency record after reopen")
	}

	// A dedupe key seen before the restart is still seen.
	got, applied, err := s.Apply(ctx, r2, event(r2, "loan.event", 9), "notify:7")
	if err != nil || applied {
		t.Fatalf("Apply of a key seen before the reopen = %v, %v", applied, err)
	}
	mustJSON(t, got, evs[2], "the event of a key seen before the reopen")
	// New events follow the old ones.
	next, applied, err := s.Apply(ctx, r2, event(r2, "loan.event", 10), "")
	if err != nil || !applied {
		t.Fatalf("Apply after reopen = %v, %v", applied, err)
	}
	if got, err := s.Loan(ctx, r2.Provider, r2.ID); err != nil || got.Version != r2.Version+1 {
		t.Fatalf("a loan written after the reopen: version %d, %v; want %d", got.Version, err, r2.Version+1)
	}
	mustAfter(t, next.Cursor, evs[2].Cursor)
	page, err := s.Events(ctx, evs[2].Cursor, 10)
	if err != nil || len(page) != 1 || page[0].ID != next.ID {
		t.Fatalf("events after the last old one = %d, %v", len(page), err)
	}
}
