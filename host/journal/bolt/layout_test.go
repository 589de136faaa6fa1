package bolt_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/bolt"
	"go.etcd.io/bbolt"
)

func journalLoan(id string) journal.Loan {
	return journal.Loan{ID: id, Provider: "a", Patron: "p1", Status: journal.StatusActive, Links: []journal.Link{}}
}

func journalEvent(id string) journal.Event {
	return journal.Event{Type: "loan.created", Provider: "a", Loan: id, Patron: "p1", At: time.Now().UTC(), Data: map[string]string{}}
}

// A bolt file written before the indexes existed (and before the schema
// version: its records are of schema 1) gets them built at open: every
// listing and purge then works on its old records.
func TestStoreDriverBoltBuildsIndexesOfAnOlderFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	exp := old.Add(time.Hour)
	active := journalLoan("ln_1")
	active.ExpiresAt = &exp
	pending := journalLoan("ln_2")
	pending.Status = "pending"
	ev := journalEvent("ln_1")
	ev.At, ev.ID, ev.Cursor = old, "ev_"+journal.FormatCursor(1), journal.FormatCursor(1)
	// Schema 1: the loan nested under "loan", the outcome an HTTP status.
	v1 := func(r journal.Loan) any {
		return map[string]any{"loan": map[string]any{"id": r.ID, "provider": r.Provider, "patron": r.Patron,
			"status": r.Status, "expires_at": r.ExpiresAt, "links": []any{}}, "patron_key": r.PatronKey}
	}
	idem := map[string]any{"scope": "checkout/a", "key": "k", "status": 201, "created_at": old, "updated_at": old}
	err = db.Update(func(tx *bbolt.Tx) error {
		b := map[string]*bbolt.Bucket{}
		for _, name := range []string{"loans", "patron_loans", "events", "event_dedupe", "idempotency"} {
			var err error
			if b[name], err = tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		for _, r := range []journal.Loan{active, pending} {
			v, _ := json.Marshal(v1(r))
			b["loans"].Put([]byte("a\x00"+r.ID), v)
			b["patron_loans"].Put([]byte("a\x00p1\x00"+r.ID), nil)
		}
		seq, _ := b["events"].NextSequence()
		v, _ := json.Marshal(ev)
		key := []byte{0, 0, 0, 0, 0, 0, 0, byte(seq)}
		b["events"].Put(key, v)
		b["event_dedupe"].Put([]byte("created|a|ln_1"), key)
		v, _ = json.Marshal(idem)
		return b["idempotency"].Put([]byte("checkout/a\x00k"), v)
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	if got, err := s.LoansByStatus(ctx, "", "pending", 10); err != nil || len(got) != 1 || got[0].ID != "ln_2" {
		t.Fatalf("LoansByStatus(pending) = %v, %v", got, err)
	}
	if got, err := s.ExpiredLoans(ctx, old.Add(2*time.Hour), 10); err != nil || len(got) != 1 || got[0].ID != "ln_1" {
		t.Fatalf("ExpiredLoans = %v, %v", got, err)
	}
	if n, err := s.PurgeIdempotency(ctx, old.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("PurgeIdempotency = %d, %v; want 1", n, err)
	}
	if n, err := s.PurgeEvents(ctx, old.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("PurgeEvents = %d, %v; want 1", n, err)
	}
	// The purged event's dedupe key went with it.
	active.Version = 1 // the record of the older file reads as version 1
	if _, applied, err := s.Apply(ctx, active, journalEvent("ln_1"), "created|a|ln_1"); err != nil || !applied {
		t.Fatalf("Apply with the purged event's key = %v, %v; want applied", applied, err)
	}
	if _, err := s.Idempotency(ctx, "checkout/a", "k"); !errors.Is(err, journal.ErrNotFound) {
		t.Fatalf("purged idempotency record: %v", err)
	}
}

// The README's compaction (bbolt compact, offline) gives a smaller file
// that the store opens with every record and index in place.
func TestStoreDriverBoltCompactedFileOpens(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "lendgate.db")
	s, err := bolt.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	old := time.Now().UTC().Add(-100 * 24 * time.Hour)
	for i := range 3000 {
		r := journalLoan(fmt.Sprintf("ln_%05d", i))
		e := journalEvent(r.ID)
		if i < 2900 {
			e.At = old
		}
		if _, _, err := s.Apply(ctx, r, e, "created|a|"+r.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.PurgeEvents(ctx, old.Add(time.Hour)); err != nil || n != 2900 {
		t.Fatalf("PurgeEvents = %d, %v", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	from, err := bbolt.Open(src, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "lendgate.compact.db")
	to, err := bbolt.Open(dst, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bbolt.Compact(to, from, 1<<20); err != nil {
		t.Fatal(err)
	}
	from.Close()
	to.Close()
	before, _ := os.Stat(src)
	after, _ := os.Stat(dst)
	if after.Size() >= before.Size() {
		t.Fatalf("compacted file %d bytes, not smaller than %d", after.Size(), before.Size())
	}
	s, err = bolt.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if loans, err := s.PatronLoans(ctx, "a", "p1"); err != nil || len(loans) != 3000 {
		t.Fatalf("PatronLoans after compaction = %d, %v", len(loans), err)
	}
	evs, err := s.Events(ctx, "", 1000)
	if err != nil || len(evs) != 100 || evs[0].Cursor != journal.FormatCursor(2901) {
		t.Fatalf("Events after compaction = %d, %v", len(evs), err)
	}
	if _, applied, err := s.Apply(ctx, journalLoan("ln_02999"), journalEvent("ln_02999"), "created|a|ln_02999"); err != nil || applied {
		t.Fatalf("a kept dedupe key after compaction: applied %v, %v", applied, err)
	}
}

// A file of layout 2 kept its pending loans in loans_by_status: opening it
// moves them to loans_pending, where listing and the next writes find them.
func TestStoreDriverBoltMovesPendingLoansOfLayout2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "layout2.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	pending := journalLoan("ln_2")
	pending.Status = "pending"
	ctx := t.Context()
	for _, r := range []journal.Loan{journalLoan("ln_1"), pending} {
		if err := s.PutLoan(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	// Back to layout 2: the pending loan's record in loans, its entry in
	// loans_by_status.
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		v := append([]byte{}, tx.Bucket([]byte("loans_pending")).Get([]byte("a\x00ln_2"))...)
		if len(v) == 0 {
			return errors.New("no pending record in loans_pending")
		}
		if err := tx.DeleteBucket([]byte("loans_pending")); err != nil {
			return err
		}
		if err := tx.Bucket([]byte("loans")).Put([]byte("a\x00ln_2"), v); err != nil {
			return err
		}
		if err := tx.Bucket([]byte("loans_by_status")).Put([]byte("pending\x00a\x00ln_2"), nil); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Put([]byte("layout"), binary.BigEndian.AppendUint64(nil, 2))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	s, err = bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"", "a"} {
		if got, err := s.LoansByStatus(ctx, p, "pending", 10); err != nil || len(got) != 1 || got[0].ID != "ln_2" {
			t.Fatalf("LoansByStatus(%q, pending) = %v, %v", p, got, err)
		}
	}
	if got, err := s.LoansByStatus(ctx, "", "active", 10); err != nil || len(got) != 1 || got[0].ID != "ln_1" {
		t.Fatalf("LoansByStatus(active) = %v, %v", got, err)
	}
	if got, err := s.PatronLoans(ctx, "a", "p1"); err != nil || len(got) != 2 {
		t.Fatalf("PatronLoans = %v, %v; want both", got, err)
	}
	if got, err := s.Loan(ctx, "a", "ln_2"); err != nil || got.Status != "pending" {
		t.Fatalf("Loan(ln_2) = %+v, %v", got, err)
	}
	placed := journalLoan("ln_2")
	placed.Version = 1
	if _, _, err := s.Apply(ctx, placed, journalEvent("ln_2"), "created|a|ln_2"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LoansByStatus(ctx, "", "pending", 10); err != nil || len(got) != 0 {
		t.Fatalf("LoansByStatus(pending) after the loan turned active = %v, %v", got, err)
	}
	if got, err := s.LoansByStatus(ctx, "a", "active", 10); err != nil || len(got) != 2 {
		t.Fatalf("LoansByStatus(active) = %v, %v; want both", got, err)
	}
	err = s.Close()
	if err != nil {
		t.Fatal(err)
	}
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket([]byte("loans_by_status")).Cursor()
		if k, _ := c.Seek([]byte("pending\x00")); k != nil && strings.HasPrefix(string(k), "pending\x00") {
			t.Errorf("loans_by_status still holds %q", k)
		}
		if tx.Bucket([]byte("loans")).Get([]byte("a\x00ln_2")) == nil {
			t.Error("the loan, active now, is not in loans")
		}
		if k, _ := tx.Bucket([]byte("loans_pending")).Cursor().First(); k != nil {
			t.Errorf("loans_pending still holds %q", k)
		}
		return nil
	})
}
