package journaltest

import (
	"errors"
	"testing"

	"github.com/lendgate/lendgate/host/journal"
)

// WriteUnversionedFixture writes the loans CheckUnversioned reads: a
// driver's upgrade test then removes their versions from its records, as
// the code before versions wrote them.
func WriteUnversionedFixture(t *testing.T, s journal.Store) {
	t.Helper()
	for _, id := range []string{"ln_1", "ln_2"} {
		if err := s.PutLoan(t.Context(), loan("a", id, "p1", journal.StatusActive)); err != nil {
			t.Fatal(err)
		}
	}
}

// CheckUnversioned reads and writes the loans of WriteUnversionedFixture,
// stored without a version: they read as version 1, a creation over them
// conflicts, a write at version 1 applies once and stores version 2, a
// deletion compares too.
func CheckUnversioned(t *testing.T, s journal.Store) {
	t.Helper()
	ctx := t.Context()
	got, err := s.Loan(ctx, "a", "ln_1")
	if err != nil || got.Version != 1 {
		t.Fatalf("a loan without a version: %+v, %v; want version 1", got, err)
	}
	create := got
	create.Version = 0
	if err := s.PutLoan(ctx, create); !errors.Is(err, journal.ErrConflict) {
		t.Fatalf("creating over a loan without a version: %v, want ErrConflict", err)
	}
	got.Status = "returned"
	if _, applied, err := s.Apply(ctx, got, event(got, "loan.returned", 1), "returned|a|ln_1"); err != nil || !applied {
		t.Fatalf("Apply at version 1 of a loan without a version = %v, %v", applied, err)
	}
	if err := s.PutLoan(ctx, got); !errors.Is(err, journal.ErrConflict) {
		t.Fatalf("a second write from version 1: %v, want ErrConflict", err)
	}
	if l, err := s.Loan(ctx, "a", "ln_1"); err != nil || l.Version != 2 || l.Status != "returned" {
		t.Fatalf("after the write: %+v, %v", l, err)
	}
	if err := s.DeleteLoan(ctx, "a", "ln_2", 2); !errors.Is(err, journal.ErrConflict) {
		t.Fatalf("deleting a loan without a version at version 2: %v, want ErrConflict", err)
	}
	if err := s.DeleteLoan(ctx, "a", "ln_2", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Loan(ctx, "a", "ln_2"); !errors.Is(err, journal.ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
}
