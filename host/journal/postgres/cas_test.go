package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/journaltest"
)

// An Apply whose dedupe key another transaction inserts meanwhile (not
// committed when the Apply's statement began) waits for it and, once it
// commits, answers that event: its own loan write is undone with the
// statement, so the loan is not written without its event.
func TestStoreDriverPostgresApplyRacingItsKeyWritesNoLoan(t *testing.T) {
	s, conn := openPostgresPair(t)
	ctx := t.Context()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	other, _ := json.Marshal(journalEvent("ln_1"))
	var seq int64
	if err := tx.QueryRow(ctx, "INSERT INTO events (event, dedupe_key) VALUES ($1, 'created|a|ln_1') RETURNING seq",
		json.RawMessage(other)).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	type result struct {
		ev      journal.Event
		applied bool
		err     error
	}
	done := make(chan result, 1)
	go func() {
		ev, applied, err := s.Apply(ctx, journalLoan("ln_1"), journalEvent("ln_1"), "created|a|ln_1")
		done <- result{ev, applied, err}
	}()
	if !waitForLockWaiter(t, conn.Config().ConnString()) {
		t.Fatal("the Apply never waited for the other insert of its key")
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.applied || r.ev.Cursor != journal.FormatCursor(uint64(seq)) {
		t.Fatalf("Apply racing its key = %+v, %v, %v; want the other's event %d, not applied", r.ev, r.applied, r.err, seq)
	}
	if _, err := s.Loan(ctx, "a", "ln_1"); !errors.Is(err, journal.ErrNotFound) {
		t.Fatalf("the Apply that lost its key wrote its loan: %v", err)
	}
}

// A writer of a loan row that commits while a compare-and-set write of it
// waits makes that write conflict: the waiting UPDATE compares again with
// what committed.
func TestStoreDriverPostgresWriteWaitingOnTheRowConflicts(t *testing.T) {
	s, conn := openPostgresPair(t)
	ctx := t.Context()
	if err := s.PutLoan(ctx, journalLoan("ln_1")); err != nil {
		t.Fatal(err)
	}
	read, err := s.Loan(ctx, "a", "ln_1")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	// Another node's write of the loan, at the version read, in flight.
	moved := read
	moved.Status, moved.Version = "returned", read.Version+1
	b, _ := json.Marshal(moved)
	if _, err := tx.Exec(ctx, "UPDATE loans SET status = 'returned', record = $1 WHERE provider = 'a' AND id = 'ln_1'",
		json.RawMessage(b)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 2)
	go func() {
		w := read
		w.Status = "expired"
		_, _, err := s.Apply(ctx, w, journalEvent("ln_1"), "expired|a|ln_1")
		done <- err
	}()
	if !waitForLockWaiter(t, conn.Config().ConnString()) {
		t.Fatal("the write never waited for the row")
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, journal.ErrConflict) {
		t.Fatalf("a write from the version the other writer moved: %v, want ErrConflict", err)
	}
	got, err := s.Loan(ctx, "a", "ln_1")
	if err != nil || got.Status != "returned" || got.Version != 2 {
		t.Fatalf("the loan: %+v, %v; want the other writer's, at version 2", got, err)
	}
	if evs, err := s.Events(ctx, "", 10); err != nil || len(evs) != 0 {
		t.Fatalf("events: %d, %v; want none", len(evs), err)
	}
	// Its key was not used: at the version read again, it applies.
	got.Status = "expired"
	if _, applied, err := s.Apply(ctx, got, journalEvent("ln_1"), "expired|a|ln_1"); err != nil || !applied {
		t.Fatalf("Apply at the version read again = %v, %v", applied, err)
	}
}

// Rows written before versions (no "version" member in their record, as
// every release before it wrote them) read as version 1 and take
// compare-and-set writes; no migration is needed.
func TestStoreDriverPostgresRowsWithoutVersion(t *testing.T) {
	s, conn := openPostgresPair(t)
	ctx := t.Context()
	journaltest.WriteUnversionedFixture(t, s)
	// What the code before versions wrote: the same record, no version.
	tag, err := conn.Exec(ctx, "UPDATE loans SET record = record - 'version'")
	if err != nil || tag.RowsAffected() != 2 {
		t.Fatalf("stripping versions: %v, %v", tag, err)
	}
	journaltest.CheckUnversioned(t, s)
}
