package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"go.etcd.io/bbolt"
)

// lastTxID is the id of the bolt file's last committed write transaction.
func lastTxID(t *testing.T, s *Store) int {
	t.Helper()
	var id int
	if err := s.db.View(func(tx *bbolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		t.Fatal(err)
	}
	return id
}

// holdWriter takes bbolt's writer lock until the returned function is
// called, so that the committer's next commit waits for it.
func holdWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	tx, err := s.db.Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
	}
}

// openTestBolt opens a bolt store whose committer reports each group's
// size on the returned channel.
func openTestBolt(t *testing.T) (*Store, chan int) {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	groups := make(chan int, 64)
	s.c.grouped = func(n int) { groups <- n } // before any write: no race
	return s, groups
}

// queueWrites runs write(0) .. write(n-1) so that the first is alone in a
// group, its commit waiting on the writer lock the test holds, and the
// others wait in the committer's queue. The writes' outcomes come on the
// returned channel.
func queueWrites(t *testing.T, s *Store, groups chan int, n int, write func(i int) error) chan error {
	t.Helper()
	errs := make(chan error, n)
	go func() { errs <- write(0) }()
	if g := <-groups; g != 1 {
		t.Fatalf("the first write came in a group of %d", g)
	}
	for i := 1; i < n; i++ {
		go func() { errs <- write(i) }()
	}
	for len(s.c.queue) < n-1 {
		runtime.Gosched() // until the n-1 goroutines have queued
	}
	return errs
}

// Writes queued while a commit runs share the next transaction: nine
// writes arriving during one commit cost one more transaction, not nine.
func TestBoltGroupCommitSharesOneTransaction(t *testing.T) {
	s, groups := openTestBolt(t)
	ctx := context.Background()
	before := lastTxID(t, s)
	release := holdWriter(t, s)
	const n = 10
	errs := queueWrites(t, s, groups, n, func(i int) error { return completeKey(ctx, s, i) })
	release()
	if g := <-groups; g != n-1 {
		t.Fatalf("the queued writes came in a group of %d, want %d", g, n-1)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// The first write's transaction (waiting on the lock when the others
	// queued), then one for the nine.
	if got := lastTxID(t, s) - before; got != 2 {
		t.Fatalf("%d writes took %d transactions, want 2", n, got)
	}
	if got := keysStored(ctx, s, n); got != n {
		t.Fatalf("%d keys stored, want %d", got, n)
	}
}

// completeKey stores the completed Idempotency-Key k<i>: a write that goes
// to bolt through the committer (loans and events go to the log first).
func completeKey(ctx context.Context, s *Store, i int) error {
	return s.CompleteIdempotency(ctx, journal.IdempotencyRecord{Scope: "s", Key: fmt.Sprintf("k%02d", i),
		CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC(), Outcome: journal.OutcomeAnswer})
}

// keysStored counts the keys k00 .. k<n-1> the store has.
func keysStored(ctx context.Context, s *Store, n int) int {
	found := 0
	for i := range n {
		if _, err := s.Idempotency(ctx, "s", fmt.Sprintf("k%02d", i)); err == nil {
			found++
		}
	}
	return found
}

// A write that fails in a shared transaction gets its own error; the
// others of its group are committed all the same.
func TestBoltGroupCommitIsolatesAFailedWrite(t *testing.T) {
	s, groups := openTestBolt(t)
	ctx := context.Background()
	release := holdWriter(t, s)
	boom := errors.New("boom")
	const n = 6
	results := make([]chan error, n)
	for i := range results {
		results[i] = make(chan error, 1)
	}
	errs := queueWrites(t, s, groups, n, func(i int) error {
		var err error
		if i == 3 {
			err = s.update(func(tx *bbolt.Tx) error {
				if err := putLoan(tx, journal.Loan{ID: "ln_bad", Provider: "a", Patron: "p", Status: journal.StatusActive}); err != nil {
					return err
				}
				return boom // after a write: it must be rolled back
			})
		} else {
			err = completeKey(ctx, s, i)
		}
		results[i] <- err
		return err
	})
	release()
	if g := <-groups; g != n-1 {
		t.Fatalf("the queued writes came in a group of %d, want %d", g, n-1)
	}
	for range n {
		<-errs
	}
	for i, r := range results {
		err := <-r
		if i == 3 && !errors.Is(err, boom) {
			t.Fatalf("the failing write got %v, want its own error", err)
		}
		if i != 3 && err != nil {
			t.Fatalf("write %d failed with its group: %v", i, err)
		}
	}
	if _, err := s.Loan(ctx, "a", "ln_bad"); !errors.Is(err, journal.ErrNotFound) {
		t.Fatalf("the failed write's loan: %v, want not found", err)
	}
	if got := keysStored(ctx, s, n); got != n-1 {
		t.Fatalf("%d keys stored, want %d", got, n-1)
	}
}

// After Close, a write answers an error rather than hanging.
func TestBoltWriteAfterCloseFails(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.PutLoan(context.Background(), journal.Loan{ID: "ln_1", Provider: "a"}); !errors.Is(err, errBoltClosed) {
		t.Fatalf("PutLoan after Close: %v", err)
	}
}

// putLoan writes r and moves its index entries in tx (the store itself
// writes loans through its log, pre-encoded: putLoanJSON).
func putLoan(tx *bbolt.Tx, r journal.Loan) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return putLoanJSON(tx, r, b)
}
