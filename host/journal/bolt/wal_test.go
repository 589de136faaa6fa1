package bolt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"go.etcd.io/bbolt"
)

// crash closes s as a killed process leaves it: no checkpoint of the
// log, nothing flushed beyond what was synced.
func crash(t *testing.T, s *Store) {
	t.Helper()
	s.log.mu.Lock()
	s.log.closed = true
	s.log.mu.Unlock()
	s.stopCheckpointer() // a commit under way ends (as if the crash came after it)
	s.c.close()
	s.log.f.Close()
	s.db.Close()
}

func pendingLoanOf(id, patron string) journal.Loan {
	return journal.Loan{ID: id, Provider: "a", Patron: patron, Status: statusPending, Links: []journal.Link{}}
}

func activeLoanOf(id, patron string, expires time.Time) journal.Loan {
	r := pendingLoanOf(id, patron)
	r.Status = journal.StatusActive
	r.ExpiresAt = &expires
	return r
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

// boltEvents counts the events the bolt file itself has.
func boltEvents(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	_ = s.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketEvents).Stats().KeyN
		return nil
	})
	return n
}

// openT opens a store whose log is committed only when a half fills (or
// at a flush), so that tests see where each write is.
func openT(t *testing.T, path string) *Store {
	t.Helper()
	s, err := open(path, sized(walSize, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sized is Open's options with a log of size bytes whose pass being
// written is committed at least every every.
func sized(size int64, every time.Duration) options {
	o := defaultOptions()
	o.logSize, o.ckptEvery = size, every
	return o
}

func created(id string) journal.Event {
	return journal.Event{Type: "loan.created", Provider: "a", Loan: id, At: time.Now().UTC()}
}

// A checkout's two writes go to the log, not to bolt, and every read finds
// them there; a checkpoint (here, Close) puts them into bolt.
func TestLogHoldsACheckoutsWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	s := openT(t, path)
	if err := s.PutLoan(ctx, pendingLoanOf("ln_2", "p1")); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(-time.Hour).UTC()
	if _, _, err := s.Apply(ctx, activeLoanOf("ln_1", "p1", exp), created("ln_1"), "created|a|ln_1"); err != nil {
		t.Fatal(err)
	}
	if boltHas(t, s, "ln_1") || boltHas(t, s, "ln_2") || boltEvents(t, s) != 0 {
		t.Fatal("a write was committed to bolt, not logged")
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
	if ls, err := s.ExpiredLoans(ctx, time.Now(), 10); err != nil || len(ls) != 1 || ls[0].ID != "ln_1" {
		t.Fatalf("ExpiredLoans = %+v, %v", ls, err)
	}
	if evs, err := s.Events(ctx, "", 10); err != nil || len(evs) != 1 || evs[0].Loan != "ln_1" {
		t.Fatalf("Events = %+v, %v", evs, err)
	}
	if ev, applied, err := s.Apply(ctx, activeLoanOf("ln_1", "p1", exp), created("ln_1"), "created|a|ln_1"); err != nil || applied || ev.Loan != "ln_1" {
		t.Fatalf("Apply of a logged dedupe key = %+v, %v, %v", ev, applied, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, path)
	defer s.Close()
	if !boltHas(t, s, "ln_1") || !boltHas(t, s, "ln_2") || boltEvents(t, s) != 1 || !s.log.over.empty() {
		t.Fatal("Close did not checkpoint the log into bolt")
	}
}

// The log's state of a loan bolt has replaces bolt's in every read: no
// list shows it twice or in its older state, and a deletion hides it.
func TestLogStateReplacesBolts(t *testing.T) {
	ctx := context.Background()
	s := openT(t, filepath.Join(t.TempDir(), "j.db"))
	defer s.Close()
	exp := time.Now().Add(-time.Hour).UTC()
	for _, id := range []string{"ln_1", "ln_2", "ln_3"} {
		if err := s.PutLoan(ctx, activeLoanOf(id, "p1", exp)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.flush(); err != nil {
		t.Fatal(err)
	}
	if !boltHas(t, s, "ln_1") {
		t.Fatal("flush left the loans in the log")
	}
	returned := activeLoanOf("ln_1", "p1", exp)
	returned.Status, returned.ExpiresAt, returned.Version = "returned", nil, 1
	if err := s.PutLoan(ctx, returned); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLoan(ctx, "a", "ln_2", 1); err != nil {
		t.Fatal(err)
	}
	if ls, err := s.PatronLoans(ctx, "a", "p1"); err != nil || len(ls) != 2 || ls[0].Status != "returned" || ls[1].ID != "ln_3" {
		t.Fatalf("PatronLoans = %+v, %v; want ln_1 returned, ln_3", ls, err)
	}
	if ls, err := s.LoansByStatus(ctx, "", journal.StatusActive, 1); err != nil || len(ls) != 1 || ls[0].ID != "ln_3" {
		t.Fatalf("LoansByStatus(active, 1) = %+v, %v; want ln_3", ls, err)
	}
	if ls, err := s.ExpiredLoans(ctx, time.Now(), 10); err != nil || len(ls) != 1 || ls[0].ID != "ln_3" {
		t.Fatalf("ExpiredLoans = %+v, %v; want ln_3", ls, err)
	}
	if _, err := s.Loan(ctx, "a", "ln_2"); err != journal.ErrNotFound {
		t.Fatalf("Loan of the deleted loan: %v", err)
	}
	if err := s.flush(); err != nil {
		t.Fatal(err)
	}
	if boltHas(t, s, "ln_2") {
		t.Fatal("the checkpoint kept the deleted loan")
	}
	if ls, err := s.LoansByStatus(ctx, "", "returned", 10); err != nil || len(ls) != 1 || ls[0].ID != "ln_1" {
		t.Fatalf("LoansByStatus(returned) after the checkpoint = %+v, %v", ls, err)
	}
}

// Events page across bolt's and the log's in number order.
func TestLogEventsFollowBolts(t *testing.T) {
	ctx := context.Background()
	s := openT(t, filepath.Join(t.TempDir(), "j.db"))
	defer s.Close()
	apply := func(id string) journal.Event {
		t.Helper()
		ev, _, err := s.Apply(ctx, activeLoanOf(id, "p1", time.Now()), created(id), "")
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	var want []string
	for _, id := range []string{"ln_1", "ln_2", "ln_3"} {
		want = append(want, apply(id).Cursor)
	}
	if err := s.flush(); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ln_4", "ln_5"} {
		want = append(want, apply(id).Cursor)
	}
	var got []string
	for after := ""; ; {
		evs, err := s.Events(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			got = append(got, e.Cursor)
		}
		after = evs[len(evs)-1].Cursor
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("paged cursors %v, want %v", got, want)
	}
}

// After a crash, what the log synced is in the journal (indexed), a
// deleted loan does not come back, events keep their numbers and the next
// one follows them.
func TestLogReplayedAfterACrash(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	s := openT(t, path)
	for _, id := range []string{"ln_1", "ln_2", "ln_3"} {
		if err := s.PutLoan(ctx, pendingLoanOf(id, "p1")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteLoan(ctx, "a", "ln_2", 1); err != nil { // refused by its distributor
		t.Fatal(err)
	}
	ev, _, err := s.Apply(ctx, withVersion(activeLoanOf("ln_3", "p1", time.Now()), 1), created("ln_3"), "created|a|ln_3")
	if err != nil {
		t.Fatal(err)
	}
	crash(t, s)

	s = openT(t, path)
	defer s.Close()
	if !boltHas(t, s, "ln_1") || !s.log.over.empty() {
		t.Fatal("the log was not checkpointed into bolt at open")
	}
	if ls, err := s.LoansByStatus(ctx, "", statusPending, 10); err != nil || len(ls) != 1 || ls[0].ID != "ln_1" {
		t.Fatalf("LoansByStatus(pending) after the crash = %+v, %v; want ln_1 alone", ls, err)
	}
	if _, err := s.Loan(ctx, "a", "ln_2"); err != journal.ErrNotFound {
		t.Fatalf("the deleted loan: %v", err)
	}
	if ls, err := s.PatronLoans(ctx, "a", "p1"); err != nil || len(ls) != 2 || ls[1].Status != journal.StatusActive {
		t.Fatalf("PatronLoans = %+v, %v", ls, err)
	}
	if again, applied, err := s.Apply(ctx, activeLoanOf("ln_3", "p1", time.Now()), created("ln_3"), "created|a|ln_3"); err != nil || applied || again.Cursor != ev.Cursor {
		t.Fatalf("the replayed dedupe key: %+v, %v, %v; want %s", again, applied, err, ev.Cursor)
	}
	next, _, err := s.Apply(ctx, withVersion(activeLoanOf("ln_1", "p1", time.Now()), 1), created("ln_1"), "")
	if err != nil {
		t.Fatal(err)
	}
	if next.Cursor <= ev.Cursor {
		t.Fatalf("the next event's cursor %s does not follow the replayed %s", next.Cursor, ev.Cursor)
	}
	// A second crash replays nothing again: the log started over.
	crash(t, s)
	s = openT(t, path)
	defer s.Close()
	if evs, err := s.Events(ctx, "", 10); err != nil || len(evs) != 2 {
		t.Fatalf("Events = %+v, %v", evs, err)
	}
}

// A full log is checkpointed into bolt and starts over, and the loans it
// held stay listed; a record larger than the log goes to bolt.
func TestLogCheckpointsWhenFull(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	s := openT(t, path)
	r := pendingLoanOf("ln_big", "p1")
	r.Options = map[string]string{"note": strings.Repeat("x", walSize/12)}
	for range 5 { // five fit in a half; the sixth does not
		if err := s.PutLoan(ctx, r); err != nil {
			t.Fatal(err)
		}
		r.Version++
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
	err := s.waitFrozenLocked() // the checkpoint runs in the background
	s.log.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if !moved || !boltHas(t, s, "ln_big") {
		t.Fatal("no checkpoint put the loan into bolt")
	}
	// Larger than the whole log: bolt takes it at once, its event too.
	huge := activeLoanOf("ln_huge", "p1", time.Now())
	huge.Options = map[string]string{"note": strings.Repeat("x", walSize/2)}
	if _, _, err := s.Apply(ctx, huge, created("ln_huge"), "created|a|ln_huge"); err != nil {
		t.Fatal(err)
	}
	if !boltHas(t, s, "ln_huge") || boltEvents(t, s) != 1 {
		t.Fatal("a loan larger than the log is not in bolt")
	}
	if ls, err := s.PatronLoans(ctx, "a", "p1"); err != nil || len(ls) != 2 {
		t.Fatalf("PatronLoans = %d, %v", len(ls), err)
	}
	crash(t, s)
	s = openT(t, path)
	defer s.Close()
	if got, err := s.Loan(ctx, "a", "ln_big"); err != nil || got.Status != statusPending {
		t.Fatalf("Loan = %v", err)
	}
}

// A log beside a file that never had one (a new file where a deleted one
// was) is not read as its own.
func TestLogOfAnotherFileIgnored(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "j.db")
	s := openT(t, path)
	if err := s.PutLoan(ctx, pendingLoanOf("ln_1", "p1")); err != nil {
		t.Fatal(err)
	}
	crash(t, s)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	s = openT(t, path)
	defer s.Close()
	if _, err := s.Loan(ctx, "a", "ln_1"); err != journal.ErrNotFound {
		t.Fatalf("a loan of the deleted file's log: %v", err)
	}
}

// Concurrent checkouts on a log small enough to be checkpointed every few
// of them, read meanwhile: a reader paging events never skips one or sees
// one twice, a patron's list never holds a loan twice nor misses one whose
// write was acknowledged, and at the end every event is there once.
func TestLogCheckpointsUnderConcurrentReadsAndWrites(t *testing.T) {
	ctx := context.Background()
	s, err := open(filepath.Join(t.TempDir(), "j.db"), sized(16<<10, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.log.mu.Lock()
	first := s.log.epoch
	s.log.mu.Unlock()
	const writers, each = 8, 40
	var acked sync.Map // loan id → true once its Apply returned
	var wg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, writers+2)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("ln_%02d_%03d", w, i)
				if err := s.PutLoan(ctx, pendingLoanOf(id, "p1")); err != nil {
					errs <- err
					return
				}
				if _, _, err := s.Apply(ctx, withVersion(activeLoanOf(id, "p1", time.Now()), 1), created(id), "created|"+id); err != nil {
					errs <- err
					return
				}
				acked.Store(id, true)
			}
		}()
	}
	var readers sync.WaitGroup
	readers.Add(2)
	go func() { // events, paged from the start again and again
		defer readers.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			var last uint64
			for after := ""; ; {
				evs, err := s.Events(ctx, after, 7)
				if err != nil {
					errs <- err
					return
				}
				if len(evs) == 0 {
					break
				}
				for _, e := range evs {
					n, _ := journal.ParseCursor(e.Cursor)
					if n != last+1 {
						errs <- fmt.Errorf("after event %d came %d", last, n)
						return
					}
					last = n
				}
				after = evs[len(evs)-1].Cursor
			}
		}
	}()
	go func() { // the patron's loans
		defer readers.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			var before []string // acknowledged before the read began
			acked.Range(func(k, _ any) bool { before = append(before, k.(string)); return true })
			ls, err := s.PatronLoans(ctx, "a", "p1")
			if err != nil {
				errs <- err
				return
			}
			seen := map[string]bool{}
			for _, r := range ls {
				if seen[r.ID] {
					errs <- fmt.Errorf("loan %s listed twice", r.ID)
					return
				}
				seen[r.ID] = true
			}
			for _, id := range before {
				if !seen[id] {
					errs <- fmt.Errorf("acknowledged loan %s not listed", id)
					return
				}
			}
		}
	}()
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s.log.mu.Lock()
	epoch := s.log.epoch
	s.log.mu.Unlock()
	evs, err := s.Events(ctx, "", 10*writers*each)
	if err != nil || len(evs) != writers*each {
		t.Fatalf("%d events, %v; want %d", len(evs), err, writers*each)
	}
	if ls, err := s.LoansByStatus(ctx, "a", journal.StatusActive, 0); err != nil || len(ls) != writers*each {
		t.Fatalf("%d active loans, %v; want %d", len(ls), err, writers*each)
	}
	if epoch-first < 10 {
		t.Fatalf("%d checkpoints during the run; the test needs many", epoch-first)
	}
}

// A crash while many writers append, and while passes are committed in
// the background, loses no write that was acknowledged: after the reopen
// every acknowledged loan is there, active, with the event number its
// Apply answered, and the events run without a gap up to the last
// acknowledged one. The reopen has a log of another size (the default):
// the passes are replayed in the halves they were written in.
func TestLogCrashUnderConcurrentWritersLosesNoAcknowledgedWrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	s, err := open(path, sized(16<<10, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	const writers = 16
	var mu sync.Mutex
	acked := map[string]string{} // loan id → its event's cursor
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("ln_%02d_%05d", w, i)
				if err := s.PutLoan(ctx, pendingLoanOf(id, "p1")); err != nil {
					return // the crash
				}
				ev, _, err := s.Apply(ctx, withVersion(activeLoanOf(id, "p1", time.Now()), 1), created(id), "created|"+id)
				if err != nil {
					return
				}
				mu.Lock()
				acked[id] = ev.Cursor
				mu.Unlock()
			}
		}()
	}
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 600 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	crash(t, s)
	wg.Wait()

	s = openT(t, path)
	defer s.Close()
	var last string
	for id, cursor := range acked {
		r, err := s.Loan(ctx, "a", id)
		if err != nil || r.Status != journal.StatusActive {
			t.Fatalf("acknowledged loan %s after the crash: %+v, %v", id, r, err)
		}
		if ev, applied, err := s.Apply(ctx, r, created(id), "created|"+id); err != nil || applied || ev.Cursor != cursor {
			t.Fatalf("acknowledged event of %s: %s (applied %v, %v), want %s", id, ev.Cursor, applied, err, cursor)
		}
		last = max(last, cursor)
	}
	evs, err := s.Events(ctx, "", 100000)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range evs {
		if n, _ := journal.ParseCursor(e.Cursor); n != uint64(i+1) {
			t.Fatalf("event %d has number %d: a gap", i+1, n)
		}
	}
	if len(evs) == 0 || evs[len(evs)-1].Cursor < last {
		t.Fatalf("%d events, the last acknowledged is %s", len(evs), last)
	}
}

// A record's size is what it takes in the log (a record must never run
// past its half), and it reads back as written.
func TestLogRecordSizeAndRoundTrip(t *testing.T) {
	long := strings.Repeat("k", 300) // lengths of two-byte uvarints
	for _, r := range []walRecord{
		{op: opPut, key: "a\x00ln_1", loan: []byte(`{"id":"ln_1"}`)},
		{op: opDelete, key: "a\x00" + long},
		{op: opApply, key: "a\x00ln_1", loan: []byte(`{"id":"ln_1"}`), seq: 1 << 40, dedupe: long, event: []byte(`{"id":"ev"}`)},
		{op: opApply, key: "k", loan: []byte(strings.Repeat("x", 200)), seq: 1, event: []byte(`{}`)},
	} {
		b := r.appendTo([]byte("prefix"))[len("prefix"):]
		if len(b) != r.size() {
			t.Fatalf("op %c: size %d, encoded %d bytes", r.op, r.size(), len(b))
		}
		sealRecord(b, 7)
		hd, ok := readHeader(b)
		if !ok || hd.pass != 7 || hd.size() != len(b) {
			t.Fatalf("op %c: header %+v (%v) of a record of %d bytes", r.op, hd, ok, len(b))
		}
		got, whole, err := wholeRecord(b, hd)
		if !whole {
			t.Fatalf("op %c: the sealed record does not read back whole", r.op)
		}
		if err != nil {
			t.Fatal(err)
		}
		if got.op != r.op || got.key != r.key || string(got.loan) != string(r.loan) || got.seq != r.seq ||
			got.dedupe != r.dedupe || string(got.event) != string(r.event) {
			t.Fatalf("read back %+v, wrote %+v", got, r)
		}
	}
}

// A sync that fails fails its writers and every one waiting on it, none
// left waiting, and every write after it: the kernel may have dropped the
// pages, so no later sync vouches for them.
func TestLogFailedSyncFailsEveryWaiterAndLaterWrites(t *testing.T) {
	ctx := context.Background()
	s := openT(t, filepath.Join(t.TempDir(), "j.db"))
	defer s.Close()
	const writers = 16
	errs := make(chan error, writers)
	var started sync.WaitGroup
	for w := range writers {
		started.Add(1)
		go func() {
			for i := 0; ; i++ {
				err := s.PutLoan(ctx, pendingLoanOf(fmt.Sprintf("ln_%02d_%05d", w, i), "p1"))
				if i == 0 {
					started.Done()
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	started.Wait()
	s.log.f.Close() // every write and sync from now on fails
	deadline := time.After(10 * time.Second)
	for range writers {
		select {
		case err := <-errs:
			if !strings.Contains(err.Error(), "writing "+s.log.f.Name()+":") {
				t.Errorf("a writer's error does not name the log: %v", err)
			}
		case <-deadline:
			t.Fatal("writers still waiting 10s after their sync failed")
		}
	}
	if err := s.PutLoan(ctx, pendingLoanOf("ln_after", "p1")); err == nil || !strings.Contains(err.Error(), "writing "+s.log.f.Name()+":") {
		t.Fatalf("a write after a failed sync: %v, want the log's failure", err)
	}
}
