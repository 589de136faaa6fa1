package bolt_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/bolt"
	"github.com/lendgate/lendgate/host/journal/journaltest"
	"go.etcd.io/bbolt"
)

// copyFixture copies testdata/v1.db, a journal written by the bolt store
// of commit e694c1f (journaltest's schema 1 records), to a file the test
// may change.
func copyFixture(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "v1.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "v1.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// schemaOf reads the schema version a bolt file records (0: none).
func schemaOf(t *testing.T, path string) uint64 {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v uint64
	db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket([]byte("meta")).Get([]byte("schema")); len(b) == 8 {
			v = binary.BigEndian.Uint64(b)
		}
		return nil
	})
	return v
}

// A journal written by the code before the journal package opens and
// reads correctly, takes writes, and keeps them across a reopen.
func TestSchema1FileOpensAndReads(t *testing.T) {
	path := copyFixture(t)
	if v := schemaOf(t, path); v != 0 {
		t.Fatalf("the fixture records schema %d; it was written before schemas were recorded", v)
	}
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	journaltest.CheckSchema1(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if v := schemaOf(t, path); v != journal.SchemaVersion {
		t.Fatalf("schema %d recorded after an open, want %d", v, journal.SchemaVersion)
	}
	s, err = bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l, err := s.Loan(t.Context(), "cb", "01HV0000000000000000000001")
	if err != nil || l.Status != "returned" || l.PatronKey != "pk-1" {
		t.Fatalf("the loan written on the old file, after a reopen: %+v, %v", l, err)
	}
	if evs, err := s.Events(t.Context(), "", 10); err != nil || len(evs) != 5 {
		t.Fatalf("events after a reopen: %d, %v", len(evs), err)
	}
}

// A journal of a newer schema than the code's is refused, naming the file
// and both versions, rather than misread.
func TestNewerSchemaIsRefused(t *testing.T) {
	path := copyFixture(t)
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), binary.BigEndian.AppendUint64(nil, journal.SchemaVersion+1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := bolt.Open(path)
	if err == nil {
		s.Close()
		t.Fatal("a journal of a newer schema opened")
	}
	for _, want := range []string{path, fmt.Sprintf("schema %d", journal.SchemaVersion+1), "newer"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not say %q", err, want)
		}
	}
}
