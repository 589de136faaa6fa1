package bolt

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lendgate/lendgate/host/journal"
	"go.etcd.io/bbolt"
)

// crash closes s as a killed process leaves it: no checkpoint of the
// pending log, nothing flushed beyond what was synced.
func crash(t *testing.T, s *Store) {
	t.Helper()
	s.c.close()
	s.log.f.Close()
	s.db.Close()
}

func pendingLoanOf(id, patron string) journal.Loan {
	return journal.Loan{ID: id, Provider: "a", Patron: patron, Status: statusPending, Links: []journal.Link{}}
}

// boltHas says whether the bolt file itself (not the log) has the loan.
func boltHas(t *testing.T, s *Store, id string) bool {
	t.Helper()
	var ok bool
	_ = s.db.View(func(tx *bbolt.Tx) error {
		ok = loanJSON(tx, "a", id) != nil
		return nil
	})
	return ok
}

// A pending loan goes to the log, not to bolt, and every read finds it
// there; its next write puts it in bolt and the log forgets it.
func TestPendingLogHoldsACheckoutsFirstWrite(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.PutLoan(ctx, pendingLoanOf("ln_2", "p1")); err != nil {
		t.Fatal(err)
	}
	if boltHas(t, s, "ln_2") {
		t.Fatal("a pending loan was committed to bolt, not logged")
	}
	active := pendingLoanOf("ln_1", "p1")
	active.Status = journal.StatusActive
	if err := s.PutLoan(ctx, active); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Loan(ctx, "a", "ln_2"); err != nil || r.Status != statusPending {
		t.Fatalf("Loan = %+v, %v", r, err)
	}
	if ls, err := s.PatronLoans(ctx, "a", "p1"); err != nil || len(ls) != 2 || ls[0].ID != "ln_1" || ls[1].ID != "ln_2" {
		t.Fatalf("PatronLoans = %+v, %v; want ln_1 then ln_2", ls, err)
	}
	for _, p := range []string{"", "a"} {
		if ls, err := s.LoansByStatus(ctx, p, statusPending, 10); err != nil || len(ls) != 1 || ls[0].ID != "ln_2" {
			t.Fatalf("LoansByStatus(%q, pending) = %+v, %v", p, ls, err)
		}
	}
	if ls, err := s.LoansByStatus(ctx, "b", statusPending, 10); err != nil || len(ls) != 0 {
		t.Fatalf("LoansByStatus(b, pending) = %+v, %v", ls, err)
	}
	r := pendingLoanOf("ln_2", "p1")
	r.Status = journal.StatusActive
	if _, _, err := s.Apply(ctx, r, journal.Event{Type: "loan.created", Provider: "a", Loan: "ln_2"}, "created|a|ln_2"); err != nil {
		t.Fatal(err)
	}
	if !boltHas(t, s, "ln_2") {
		t.Fatal("the applied loan is not in bolt")
	}
	if _, ok := s.log.get(string(loanKey("a", "ln_2"))); ok {
		t.Fatal("the log still holds the applied loan")
	}
	if ls, err := s.PatronLoans(ctx, "a", "p1"); err != nil || len(ls) != 2 || ls[1].Status != journal.StatusActive {
		t.Fatalf("PatronLoans = %+v, %v", ls, err)
	}
}

// After a crash, the pending loans the log synced are in the journal
// (pending, indexed), and a deleted one does not come back.
func TestPendingLogReplayedAfterACrash(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ln_1", "ln_2", "ln_3"} {
		if err := s.PutLoan(ctx, pendingLoanOf(id, "p1")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteLoan(ctx, "a", "ln_2"); err != nil { // refused by its distributor
		t.Fatal(err)
	}
	r := pendingLoanOf("ln_3", "p1")
	r.Status = journal.StatusActive
	if err := s.PutLoan(ctx, r); err != nil {
		t.Fatal(err)
	}
	// Logged pending, then written to bolt, then deleted there: its put
	// record in the log must not bring it back.
	if err := s.PutLoan(ctx, pendingLoanOf("ln_4", "p1")); err != nil {
		t.Fatal(err)
	}
	r.ID = "ln_4"
	if err := s.PutLoan(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLoan(ctx, "a", "ln_4"); err != nil {
		t.Fatal(err)
	}
	crash(t, s)

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !boltHas(t, s, "ln_1") || len(s.log.snapshot()) != 0 {
		t.Fatal("the logged loan was not checkpointed into bolt at open")
	}
	if ls, err := s.LoansByStatus(ctx, "", statusPending, 10); err != nil || len(ls) != 1 || ls[0].ID != "ln_1" {
		t.Fatalf("LoansByStatus(pending) after the crash = %+v, %v; want ln_1 alone", ls, err)
	}
	for _, id := range []string{"ln_2", "ln_4"} {
		if _, err := s.Loan(ctx, "a", id); err != journal.ErrNotFound {
			t.Fatalf("the deleted loan %s: %v", id, err)
		}
	}
	if ls, err := s.PatronLoans(ctx, "a", "p1"); err != nil || len(ls) != 2 || ls[1].Status != journal.StatusActive {
		t.Fatalf("PatronLoans = %+v, %v", ls, err)
	}
	// A second crash replays nothing again: the log started over.
	crash(t, s)
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ls, err := s.LoansByStatus(ctx, "", statusPending, 10); err != nil || len(ls) != 1 {
		t.Fatalf("LoansByStatus(pending) = %+v, %v", ls, err)
	}
}

// A torn append (the last record half written) ends the replay there.
func TestPendingLogTornRecordIgnored(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ln_1", "ln_2"} {
		if err := s.PutLoan(ctx, pendingLoanOf(id, "p1")); err != nil {
			t.Fatal(err)
		}
	}
	s.log.mu.Lock()
	end := s.log.off
	s.log.mu.Unlock()
	crash(t, s)
	f, err := os.OpenFile(pendingLogPath(path), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff, 0xff}, end-3); err != nil {
		t.Fatal(err)
	}
	f.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ls, err := s.LoansByStatus(ctx, "", statusPending, 10); err != nil || len(ls) != 1 || ls[0].ID != "ln_1" {
		t.Fatalf("LoansByStatus(pending) = %+v, %v; want ln_1 alone", ls, err)
	}
}

// A full log is checkpointed into bolt and starts over, and the loans it
// held stay listed; a record larger than the log goes to bolt.
func TestPendingLogCheckpointsWhenFull(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r := pendingLoanOf("ln_big", "p1")
	r.Options = map[string]string{"note": strings.Repeat("x", pendingLogSize/6)}
	for range 5 { // five fit; the sixth does not
		if err := s.PutLoan(ctx, r); err != nil {
			t.Fatal(err)
		}
		if boltHas(t, s, "ln_big") {
			t.Fatal("a checkpoint before the log was full")
		}
	}
	s.log.mu.Lock()
	epoch := s.log.epoch
	s.log.mu.Unlock()
	if err := s.PutLoan(ctx, r); err != nil {
		t.Fatal(err)
	}
	s.log.mu.Lock()
	moved := s.log.epoch != epoch
	s.log.mu.Unlock()
	if !moved || !boltHas(t, s, "ln_big") {
		t.Fatal("no checkpoint put the loan into bolt")
	}
	// Larger than the whole log: bolt takes it at once.
	huge := pendingLoanOf("ln_huge", "p1")
	huge.Options = map[string]string{"note": strings.Repeat("x", pendingLogSize)}
	if err := s.PutLoan(ctx, huge); err != nil {
		t.Fatal(err)
	}
	if !boltHas(t, s, "ln_huge") {
		t.Fatal("a loan larger than the log is not in bolt")
	}
	if ls, err := s.LoansByStatus(ctx, "a", statusPending, 10); err != nil || len(ls) != 2 {
		t.Fatalf("LoansByStatus = %d, %v", len(ls), err)
	}
	crash(t, s)
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Loan(ctx, "a", "ln_big"); err != nil || got.Status != statusPending {
		t.Fatalf("Loan = %v", err)
	}
}

// A log beside a file that never had one (a file of layout 2, or a new
// file where a deleted one was) is not read as its own.
func TestPendingLogOfAnotherFileIgnored(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "j.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutLoan(ctx, pendingLoanOf("ln_1", "p1")); err != nil {
		t.Fatal(err)
	}
	crash(t, s)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Loan(ctx, "a", "ln_1"); err != journal.ErrNotFound {
		t.Fatalf("a loan of the deleted file's log: %v", err)
	}
}
