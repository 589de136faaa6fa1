package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/journaltest"
	"go.etcd.io/bbolt"
)

// withVersion is r as read at version v: the version a write of it expects.
func withVersion(r journal.Loan, v int64) journal.Loan {
	r.Version = v
	return r
}

// A loan write compares with the loan's latest state wherever it is: the
// log's pass being written, the frozen pass being committed, or bolt once
// the pass is committed and dropped from memory.
func TestCompareFindsTheLoanWhereverItIs(t *testing.T) {
	ctx := context.Background()
	s := openT(t, filepath.Join(t.TempDir(), "j.db"))
	defer s.Close()
	r := activeLoanOf("ln_1", "p1", time.Now())
	if err := s.PutLoan(ctx, r); err != nil { // in the log
		t.Fatal(err)
	}
	if err := s.PutLoan(ctx, r); !errors.Is(err, journal.ErrConflict) {
		t.Fatalf("a creation over a loan in the log: %v", err)
	}
	if err := s.PutLoan(ctx, withVersion(r, 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.flush(); err != nil { // in bolt alone
		t.Fatal(err)
	}
	if !boltHas(t, s, "ln_1") || !s.log.over.empty() {
		t.Fatal("flush left the loan in the log")
	}
	if err := s.PutLoan(ctx, withVersion(r, 1)); !errors.Is(err, journal.ErrConflict) {
		t.Fatalf("a write at a version bolt's record passed: %v", err)
	}
	if _, _, err := s.Apply(ctx, withVersion(r, 2), created("ln_1"), "k"); err != nil {
		t.Fatalf("Apply at bolt's version: %v", err)
	}
	// Frozen for the checkpointer: the frozen pass compares until its
	// commit drops it, then bolt does.
	s.log.mu.Lock()
	if err := s.rotateLocked(); err != nil {
		s.log.mu.Unlock()
		t.Fatal(err)
	}
	s.log.mu.Unlock()
	if err := s.DeleteLoan(ctx, "a", "ln_1", 2); !errors.Is(err, journal.ErrConflict) {
		t.Fatalf("a deletion at a version the frozen pass passed: %v", err)
	}
	if err := s.DeleteLoan(ctx, "a", "ln_1", 3); err != nil {
		t.Fatal(err)
	}
	// Deleted in the log: absent, so a creation writes it anew.
	if err := s.PutLoan(ctx, withVersion(r, 3)); !errors.Is(err, journal.ErrConflict) {
		t.Fatalf("a write of a loan deleted in the log: %v", err)
	}
	if err := s.PutLoan(ctx, r); err != nil {
		t.Fatalf("a creation of a loan deleted in the log: %v", err)
	}
}

// A write whose read of bolt came before a checkpoint committed and dropped
// the loan's newer state reads bolt again under the lock: it never compares
// with a state the checkpoint replaced.
func TestCompareReadsBoltAgainAfterACheckpoint(t *testing.T) {
	ctx := context.Background()
	s := openT(t, filepath.Join(t.TempDir(), "j.db"))
	defer s.Close()
	r := activeLoanOf("ln_1", "p1", time.Now())
	if err := s.PutLoan(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.flush(); err != nil { // bolt: version 1
		t.Fatal(err)
	}
	x := s.expect("a", "ln_1", 1, false) // bolt read now: version 1
	if err := s.PutLoan(ctx, withVersion(r, 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.flush(); err != nil { // bolt: version 2, the log empty
		t.Fatal(err)
	}
	s.log.mu.Lock()
	_, err := x.checkLocked()
	s.log.mu.Unlock()
	if !errors.Is(err, journal.ErrConflict) {
		t.Fatalf("a compare with bolt's state read before a checkpoint: %v, want ErrConflict", err)
	}
}

// Concurrent compare-and-set writers on a log small enough to be
// checkpointed every few writes: the compare is right across the passes'
// rotations and commits, and no update is lost.
func TestCompareUnderCheckpoints(t *testing.T) {
	ctx := context.Background()
	s, err := open(filepath.Join(t.TempDir(), "j.db"), options{logSize: 16 << 10, ckptEvery: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const writers, rounds, loans = 16, 25, 4
	for i := range loans {
		if err := s.PutLoan(ctx, activeLoanOf(fmt.Sprintf("ln_%d", i), "p1", time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	s.log.mu.Lock()
	first := s.log.gen.Load()
	s.log.mu.Unlock()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				id := fmt.Sprintf("ln_%d", (w+i)%loans)
				for try := 0; ; try++ {
					if try == 10000 {
						errs <- fmt.Errorf("writer %d: too many conflicts", w)
						return
					}
					cur, err := s.Loan(ctx, "a", id)
					if err != nil {
						errs <- err
						return
					}
					cur.Days++
					cur.Options = map[string]string{"pad": fmt.Sprint(w, i)}
					if w%2 == 0 {
						err = s.PutLoan(ctx, cur)
					} else {
						_, _, err = s.Apply(ctx, cur, created(id), "")
					}
					if errors.Is(err, journal.ErrConflict) {
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := 0
	for i := range loans {
		l, err := s.Loan(ctx, "a", fmt.Sprintf("ln_%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if l.Version != int64(l.Days)+1 {
			t.Fatalf("loan %s: %d increments at version %d", l.ID, l.Days, l.Version)
		}
		total += l.Days
	}
	if total != writers*rounds {
		t.Fatalf("%d increments kept of %d: an update was lost", total, writers*rounds)
	}
	if s.log.gen.Load() == first {
		t.Fatal("no checkpoint ran during the writes")
	}
}

// Records written before versions (the same JSON without "version") read
// as version 1 and take compare-and-set writes, in bolt's buckets as
// replayed from the log.
func TestRecordsWithoutVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	s := openT(t, path)
	journaltest.WriteUnversionedFixture(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	stripped := 0
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, bucket := range [][]byte{bucketLoans, bucketPending} {
			b := tx.Bucket(bucket)
			var keys, vals [][]byte
			if err := b.ForEach(func(k, v []byte) error {
				var m map[string]any
				if err := json.Unmarshal(v, &m); err != nil {
					return err
				}
				delete(m, "version")
				nv, err := json.Marshal(m)
				keys, vals = append(keys, append([]byte{}, k...)), append(vals, nv)
				return err
			}); err != nil {
				return err
			}
			for i := range keys {
				if err := b.Put(keys[i], vals[i]); err != nil {
					return err
				}
				stripped++
			}
		}
		return nil
	})
	db.Close()
	if err != nil || stripped != 2 {
		t.Fatalf("stripping versions: %d records, %v", stripped, err)
	}
	s = openT(t, path)
	defer s.Close()
	journaltest.CheckUnversioned(t, s)

	// A log record without a version (replayed at open) reads as version 1.
	ix, err := decodeIndexed([]byte(`{"id":"ln_9","provider":"a","patron":"p1","status":"active"}`))
	if err != nil || ix.Version != 1 {
		t.Fatalf("the indexed members of a record without a version: %+v, %v", ix, err)
	}
}
