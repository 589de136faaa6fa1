package bolt

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"go.etcd.io/bbolt"
)

// Apply encodes its event before the transaction and splices the number in
// there: the stored record is the journal.Event Apply answers, id and cursor
// included, and Events reads it back the same.
func TestBoltEventEncodedBeforeItsNumber(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	rec := journal.Loan{ID: "ln_1", Provider: "a", Patron: "p", Status: journal.StatusActive}
	var applied []journal.Event
	for i, key := range []string{"created|a|ln_1", ""} {
		e := journal.Event{ID: "ignored", Cursor: "ignored", Type: "loan.created", Provider: "a", Loan: "ln_1", Patron: `p"\`,
			Item: "i", At: at.Add(time.Duration(i)), Data: map[string]string{"k": "v"}}
		got, ok, err := s.Apply(ctx, rec, e, key)
		if err != nil || !ok {
			t.Fatalf("Apply: %v, applied %v", err, ok)
		}
		rec.Version++
		if got.Cursor == "" || got.Cursor == "ignored" || got.ID != "ev_"+got.Cursor {
			t.Fatalf("applied event numbered %q / %q", got.ID, got.Cursor)
		}
		applied = append(applied, got)
	}
	page, err := s.Events(ctx, "", 10) // from the log
	if err != nil {
		t.Fatal(err)
	}
	if err := s.flush(); err != nil { // into bolt, to read its records
		t.Fatal(err)
	}
	var stored []journal.Event
	_ = s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketEvents).ForEach(func(_, v []byte) error {
			var e journal.Event
			if err := json.Unmarshal(v, &e); err != nil {
				t.Errorf("stored event is not JSON: %v: %s", err, v)
			}
			stored = append(stored, e)
			return nil
		})
	})
	flushed, err := s.Events(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]journal.Event{"stored": stored, "Events from the log": page, "Events from bolt": flushed} {
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(applied)
		if string(a) != string(b) {
			t.Errorf("%s events:\n%s\nwant what Apply answered:\n%s", name, a, b)
		}
	}
}
