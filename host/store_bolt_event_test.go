package host

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// An event journaled with a dedupe key keeps the key in its own record (no
// second index to write): readers see the Event without it, and purging
// the event frees the key, in files of both kinds (keys recorded in the
// event, and keys of older files in event_dedupe_keys).
func TestBoltEventRecordCarriesItsDedupeKey(t *testing.T) {
	ctx := context.Background()
	s, err := OpenBoltStore(filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := LoanRecord{Loan: Loan{ID: "ln_1", Provider: "a", Patron: "p", Status: StatusActive}}
	e := Event{Type: "loan.created", Provider: "a", Loan: "ln_1", Patron: "p", Item: "i", At: old, Data: map[string]string{"k": "v"}}
	first, applied, err := s.Apply(ctx, rec, e, `created|a|"ln_1"`)
	if err != nil || !applied {
		t.Fatalf("Apply: %v, applied %v", err, applied)
	}
	if first.Cursor == "" || first.ID != "ev_"+first.Cursor {
		t.Fatalf("applied event numbered %q / %q", first.ID, first.Cursor)
	}
	var raw []byte
	_ = s.db.View(func(tx *bolt.Tx) error {
		_, v := tx.Bucket(bucketEvents).Cursor().Last()
		raw = append([]byte{}, v...)
		if tx.Bucket(bucketDedupeBySeq).Stats().KeyN != 0 {
			t.Error("event_dedupe_keys written; the key belongs in the event record")
		}
		return nil
	})
	if !bytes.Contains(raw, []byte(`"dedupe_key":"created|a|\"ln_1\""`)) {
		t.Fatalf("stored event lacks its dedupe key: %s", raw)
	}
	page, err := s.Events(ctx, "", 10)
	if err != nil || len(page) != 1 {
		t.Fatalf("Events: %d, %v", len(page), err)
	}
	got := page[0]
	if got.ID != first.ID || got.Cursor != first.Cursor || got.Type != e.Type || !got.At.Equal(old) || got.Data["k"] != "v" {
		t.Fatalf("Events read %+v, want %+v", got, first)
	}

	// An event of an older file: its key in event_dedupe_keys.
	legacy := Event{Type: "loan.returned", Provider: "a", Loan: "ln_1", At: old, Data: map[string]string{}}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		events := tx.Bucket(bucketEvents)
		n, err := events.NextSequence()
		if err != nil {
			return err
		}
		b, err := encodeBoltEvent(legacy, "")
		if err != nil {
			return err
		}
		if err := events.Put(seqKey(n), b.numbered("ev_x", formatCursor(n))); err != nil {
			return err
		}
		if err := tx.Bucket(bucketDedupe).Put([]byte("returned|a|ln_1"), seqKey(n)); err != nil {
			return err
		}
		return tx.Bucket(bucketDedupeBySeq).Put(seqKey(n), []byte("returned|a|ln_1"))
	}); err != nil {
		t.Fatal(err)
	}

	if n, err := s.PurgeEvents(ctx, old.Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("PurgeEvents: %d, %v; want 2", n, err)
	}
	_ = s.db.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket(bucketDedupe).Stats().KeyN; n != 0 {
			t.Errorf("%d dedupe keys left after their events were purged", n)
		}
		if n := tx.Bucket(bucketDedupeBySeq).Stats().KeyN; n != 0 {
			t.Errorf("%d event_dedupe_keys entries left", n)
		}
		return nil
	})
	if _, applied, err := s.Apply(ctx, rec, e, `created|a|"ln_1"`); err != nil || !applied {
		t.Fatalf("Apply of a purged event's key: %v, applied %v; want applied", err, applied)
	}
}
