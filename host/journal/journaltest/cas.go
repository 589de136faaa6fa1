package journaltest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lendgate/lendgate/host/journal"
)

// The compare-and-set of loan writes (journal.Store's doc): a write
// expects the version it read and conflicts, writing nothing, when the
// record moved.

// mustConflict fails t unless err is journal.ErrConflict.
func mustConflict(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, journal.ErrConflict) {
		t.Fatalf("%s: %v, want ErrConflict", what, err)
	}
}

// mustLoan reads a loan and fails t unless it is at version v in status.
func mustLoan(t *testing.T, s journal.Store, provider, id string, v int64, status string) journal.Loan {
	t.Helper()
	got, err := s.Loan(t.Context(), provider, id)
	if err != nil {
		t.Fatalf("loan %s/%s: %v", provider, id, err)
	}
	if got.Version != v || got.Status != status {
		t.Fatalf("loan %s/%s at version %d in %s, want version %d in %s", provider, id, got.Version, got.Status, v, status)
	}
	return got
}

// testVersionsCountWrites: a creation stores version 1 and every write the
// next; what a read returns is what the next write expects.
func testVersionsCountWrites(t *testing.T, o *opened) {
	ctx, s := t.Context(), o.s
	r := loan("a", "ln_01", "p1", "pending")
	if err := s.PutLoan(ctx, r); err != nil {
		t.Fatal(err)
	}
	got := mustLoan(t, s, "a", "ln_01", 1, "pending")
	got.Status = journal.StatusActive
	if _, applied, err := s.Apply(ctx, got, event(got, "loan.created", 1), "created:ln_01"); err != nil || !applied {
		t.Fatalf("Apply at the version read = %v, %v", applied, err)
	}
	got = mustLoan(t, s, "a", "ln_01", 2, journal.StatusActive)
	got.Status = "returned"
	if err := s.PutLoan(ctx, got); err != nil {
		t.Fatal(err)
	}
	got = mustLoan(t, s, "a", "ln_01", 3, "returned")
	byPatron, err := s.PatronLoans(ctx, "a", "p1")
	mustIDs(t, byPatron, err, "a/ln_01")
	byStatus, err := s.LoansByStatus(ctx, "a", "returned", 10)
	mustIDs(t, byStatus, err, "a/ln_01")
	if byPatron[0].Version != 3 || byStatus[0].Version != 3 {
		t.Fatalf("listings read versions %d and %d, want 3", byPatron[0].Version, byStatus[0].Version)
	}
	if err := s.DeleteLoan(ctx, "a", "ln_01", got.Version); err != nil {
		t.Fatal(err)
	}
	// Deleted: absent again, so a creation (version 0) writes it anew.
	if err := s.PutLoan(ctx, r); err != nil {
		t.Fatalf("creating a deleted loan again: %v", err)
	}
	mustLoan(t, s, "a", "ln_01", 1, "pending")
}

// testTwoWritersFromOneRead: two writers read the same version; the first
// write wins, the second conflicts and changes nothing, whichever of
// PutLoan, Apply and DeleteLoan each is, and on whichever node it runs.
func testTwoWritersFromOneRead(t *testing.T, o *opened) {
	ctx := t.Context()
	nodes := o.nodes(2)
	a, b := nodes[0], nodes[len(nodes)-1]
	type write func(s journal.Store, read journal.Loan, who string) error
	put := func(s journal.Store, read journal.Loan, who string) error {
		read.Format = who
		return s.PutLoan(ctx, read)
	}
	apply := func(s journal.Store, read journal.Loan, who string) error {
		read.Format = who
		_, _, err := s.Apply(ctx, read, event(read, "loan.renewed", 1), "renew:"+read.ID+":"+who)
		return err
	}
	del := func(s journal.Store, read journal.Loan, _ string) error {
		return s.DeleteLoan(ctx, read.Provider, read.ID, read.Version)
	}
	writes := map[string]write{"put": put, "apply": apply, "delete": del}
	i := 0
	for _, first := range []string{"put", "apply", "delete"} {
		for _, second := range []string{"put", "apply", "delete"} {
			i++
			id := name("ln", i)
			r := loan("a", id, "p1", journal.StatusActive)
			if err := a.PutLoan(ctx, r); err != nil {
				t.Fatal(err)
			}
			readA, err := a.Loan(ctx, "a", id)
			if err != nil {
				t.Fatal(err)
			}
			readB, err := b.Loan(ctx, "a", id)
			if err != nil {
				t.Fatal(err)
			}
			before := len(allEvents(t, a, 1000))
			if err := writes[first](a, readA, "first"); err != nil {
				t.Fatalf("%s then %s: the first write: %v", first, second, err)
			}
			err = writes[second](b, readB, "second")
			what := fmt.Sprintf("%s then %s from the same read: the second write", first, second)
			if first == "delete" && second == "delete" {
				// Deleting what is gone is not an error.
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
			} else {
				mustConflict(t, err, what)
			}
			after := allEvents(t, b, 1000)
			if want := before + map[bool]int{true: 1}[first == "apply"]; len(after) != want {
				t.Fatalf("%s then %s: %d events, want %d (the conflict appended one?)", first, second, len(after), want)
			}
			got, err := b.Loan(ctx, "a", id)
			if first == "delete" {
				if !errors.Is(err, journal.ErrNotFound) {
					t.Fatalf("%s then %s: the loan the first write deleted: %+v, %v", first, second, got, err)
				}
				continue
			}
			if err != nil || got.Format != "first" || got.Version != 2 {
				t.Fatalf("%s then %s: the loan is %+v, %v; want the first write's, at version 2", first, second, got, err)
			}
		}
	}
}

// testManyWritersFromOneRead: writers that all read the same version and
// write at once: exactly one wins, the others conflict, one event is
// appended.
func testManyWritersFromOneRead(t *testing.T, o *opened) {
	ctx := t.Context()
	const n = 16
	r := loan("a", "ln_01", "p1", journal.StatusActive)
	if err := o.s.PutLoan(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Version = 1
	var won, conflicts atomic.Int32
	winner := -1
	errs := parallel(n, o.nodes(2), func(i int, s journal.Store) error {
		w := r
		w.Format = name("w", i)
		var err error
		if i%2 == 0 {
			_, _, err = s.Apply(ctx, w, event(w, "loan.renewed", i), "renew:"+w.Format)
		} else {
			err = s.PutLoan(ctx, w)
		}
		switch {
		case err == nil:
			won.Add(1)
			winner = i // one writer at most gets here (else the test fails below)
		case errors.Is(err, journal.ErrConflict):
			conflicts.Add(1)
			return nil
		}
		return err
	})
	mustNoErrors(t, errs)
	if won.Load() != 1 || conflicts.Load() != n-1 {
		t.Fatalf("%d writers from one read: %d won, %d conflicted; want 1 and %d", n, won.Load(), conflicts.Load(), n-1)
	}
	got, err := o.s.Loan(ctx, "a", "ln_01")
	if err != nil || got.Version != 2 || got.Format != name("w", winner) {
		t.Fatalf("the loan after the race: %+v, %v; want writer %d's, at version 2", got, err, winner)
	}
	want := 0
	if winner%2 == 0 {
		want = 1 // the winner's Apply
	}
	if evs := allEvents(t, o.s, 100); len(evs) != want {
		t.Fatalf("%d events after the race, want %d: only the winner's Apply appends", len(evs), want)
	}
}

// testCreateOverExisting: a write expecting no record (version 0)
// conflicts with one that exists, and one expecting a record conflicts
// with its absence: neither creates nor replaces, nor appends.
func testCreateOverExisting(t *testing.T, o *opened) {
	ctx, s := t.Context(), o.s
	r := loan("a", "ln_01", "p1", "pending")
	if err := s.PutLoan(ctx, r); err != nil {
		t.Fatal(err)
	}
	again := r
	again.Status = journal.StatusActive
	mustConflict(t, s.PutLoan(ctx, again), "PutLoan creating an existing loan")
	_, _, err := s.Apply(ctx, again, event(again, "loan.created", 1), "created:ln_01")
	mustConflict(t, err, "Apply creating an existing loan")
	mustLoan(t, s, "a", "ln_01", 1, "pending")

	missing := loan("a", "ln_02", "p1", journal.StatusActive)
	missing.Version = 1
	mustConflict(t, s.PutLoan(ctx, missing), "PutLoan at version 1 of a missing loan")
	_, _, err = s.Apply(ctx, missing, event(missing, "loan.renewed", 2), "renew:ln_02")
	mustConflict(t, err, "Apply at version 1 of a missing loan")
	if _, err := s.Loan(ctx, "a", "ln_02"); !errors.Is(err, journal.ErrNotFound) {
		t.Fatalf("a conflicting write created the loan: %v", err)
	}
	if evs := allEvents(t, s, 10); len(evs) != 0 {
		t.Fatalf("conflicting Applies appended %d events", len(evs))
	}
	mustConflict(t, s.DeleteLoan(ctx, "a", "ln_01", 2), "DeleteLoan at another version")
	mustLoan(t, s, "a", "ln_01", 1, "pending")
}

// testConflictKeepsDedupeKey: an Apply whose compare fails appends no
// event and leaves its dedupe key unused, so the writer that reads again
// applies with the same key; and a key applied before answers its event
// whatever the version (the dedupe comes first).
func testConflictKeepsDedupeKey(t *testing.T, o *opened) {
	ctx, s := t.Context(), o.s
	r := loan("a", "ln_01", "p1", journal.StatusActive)
	if err := s.PutLoan(ctx, r); err != nil {
		t.Fatal(err)
	}
	read := mustLoan(t, s, "a", "ln_01", 1, journal.StatusActive)
	other := read
	other.Format = "other"
	if err := s.PutLoan(ctx, other); err != nil { // the record moves to 2
		t.Fatal(err)
	}
	stale := read
	stale.Status = "expired"
	_, applied, err := s.Apply(ctx, stale, event(stale, "loan.expired", 1), "expired:ln_01")
	mustConflict(t, err, "Apply from a stale read")
	if applied {
		t.Fatal("a conflicting Apply says it applied")
	}
	if evs := allEvents(t, s, 10); len(evs) != 0 {
		t.Fatalf("a conflicting Apply appended %d events", len(evs))
	}
	again := mustLoan(t, s, "a", "ln_01", 2, journal.StatusActive)
	again.Status = "expired"
	first, applied, err := s.Apply(ctx, again, event(again, "loan.expired", 2), "expired:ln_01")
	if err != nil || !applied {
		t.Fatalf("Apply with the key of a conflicting one, at the version read again = %v, %v", applied, err)
	}
	mustLoan(t, s, "a", "ln_01", 3, "expired")
	// The key is used now: it answers its event, at any version, and
	// writes nothing.
	for _, v := range []int64{0, 1, 3, 9} {
		w := again
		w.Version, w.Status = v, "revoked"
		ev, applied, err := s.Apply(ctx, w, event(w, "loan.revoked", 3), "expired:ln_01")
		if err != nil || applied || ev.ID != first.ID {
			t.Fatalf("Apply of a used key at version %d = %+v, %v, %v; want its event, not applied", v, ev, applied, err)
		}
	}
	mustLoan(t, s, "a", "ln_01", 3, "expired")
	if evs := allEvents(t, s, 10); len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
}

// testConcurrentWritersLoseNoUpdate: 64 writers (over two nodes where the
// driver shares its data) each add 1 to a loan's counter a few times, by
// reading it, writing it back at the version read, and reading again on a
// conflict. No update is lost: the counter ends at the number of writes,
// the version one past it, and every Apply's event is there once.
func testConcurrentWritersLoseNoUpdate(t *testing.T, o *opened) {
	const writers, rounds, maxTries = 64, 4, 5000
	ctx := t.Context()
	r := loan("a", "ln_01", "p1", journal.StatusActive)
	if err := o.s.PutLoan(ctx, r); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	applied := map[string]bool{}
	var conflicts atomic.Int64
	errs := parallel(writers, o.nodes(2), func(w int, s journal.Store) error {
		for round := range rounds {
			for try := 0; ; try++ {
				if try == maxTries {
					return fmt.Errorf("writer %d, round %d: %d conflicts in a row", w, round, maxTries)
				}
				cur, err := s.Loan(ctx, "a", "ln_01")
				if err != nil {
					return err
				}
				cur.Days++
				if w%2 == 0 {
					err = s.PutLoan(ctx, cur)
				} else {
					var e journal.Event
					key := fmt.Sprintf("add:%02d:%d", w, round)
					e, _, err = s.Apply(ctx, cur, event(cur, "loan.notified", w*100+round), key)
					if err == nil {
						mu.Lock()
						applied[e.ID] = true
						mu.Unlock()
					}
				}
				if errors.Is(err, journal.ErrConflict) {
					conflicts.Add(1)
					continue
				}
				if err != nil {
					return err
				}
				break
			}
		}
		return nil
	})
	mustNoErrors(t, errs)
	got, err := o.s.Loan(ctx, "a", "ln_01")
	if err != nil {
		t.Fatal(err)
	}
	if got.Days != writers*rounds || got.Version != writers*rounds+1 {
		t.Fatalf("after %d writes: counter %d at version %d, want %d at %d (%d conflicts): an update was lost",
			writers*rounds, got.Days, got.Version, writers*rounds, writers*rounds+1, conflicts.Load())
	}
	evs := allEvents(t, o.s, 1000)
	if len(evs) != writers*rounds/2 || len(applied) != len(evs) {
		t.Fatalf("%d events, %d Applies acknowledged; want %d", len(evs), len(applied), writers*rounds/2)
	}
	for _, e := range evs {
		if !applied[e.ID] {
			t.Fatalf("event %s was not acknowledged", e.ID)
		}
	}
	t.Logf("%d writes, %d conflicts", writers*rounds, conflicts.Load())
}
