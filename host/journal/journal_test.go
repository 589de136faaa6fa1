package journal_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	_ "github.com/lendgate/lendgate/host/journal/memory" // a driver to open
)

func TestOpenRegisteredDriver(t *testing.T) {
	s, err := journal.Open(t.Context(), "memory", "")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// A driver of the module that the program does not link is an error
// naming the import to add; an unknown one lists the drivers.
func TestOpenUnlinkedOrUnknownDriver(t *testing.T) {
	_, err := journal.Open(t.Context(), "postgres", "postgres://db/lendgate")
	if err == nil || !strings.Contains(err.Error(), `import _ "github.com/lendgate/lendgate/host/journal/postgres"`) {
		t.Fatalf("Open of an unlinked driver: %v", err)
	}
	_, err = journal.Open(t.Context(), "mongo", "")
	if err == nil || !strings.Contains(err.Error(), `unknown store driver "mongo" (bolt, memory, postgres)`) {
		t.Fatalf("Open of an unknown driver: %v", err)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a second driver named memory was registered")
		}
	}()
	journal.Register("memory", journal.DriverFunc(nil))
}

func TestCursors(t *testing.T) {
	for _, n := range []uint64{0, 1, 42, 1e15, 1e16, ^uint64(0)} {
		c := journal.FormatCursor(n)
		if len(c) < 16 {
			t.Fatalf("cursor %q of %d is shorter than 16", c, n)
		}
		if got, err := journal.ParseCursor(c); err != nil || got != n {
			t.Fatalf("ParseCursor(%q) = %d, %v", c, got, err)
		}
	}
	if journal.FormatCursor(9) >= journal.FormatCursor(10) {
		t.Fatal("cursors do not sort as their numbers")
	}
	if n, err := journal.ParseCursor(""); err != nil || n != 0 {
		t.Fatalf(`ParseCursor("") = %d, %v`, n, err)
	}
	if _, err := journal.ParseCursor("x"); err == nil {
		t.Fatal("ParseCursor accepted x")
	}
}

// Schema 2 writes a loan flat under the API's member names, and reads
// both shapes to the same record.
func TestLoanShapes(t *testing.T) {
	v1 := `{"loan":{"id":"ln_1","provider":"a","item":"i","patron":"p","status":"active","format":"epub",` +
		`"created_at":"2026-01-02T10:00:00Z","links":[{"format":"epub","rel":"r","href":"h"}],"provider_ref":{"k":"v"}},` +
		`"patron_key":"pk","patron_name":"Ada","options":{"o":"1"},"days":21}`
	var old journal.Loan
	if err := json.Unmarshal([]byte(v1), &old); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	// Written before versions: read as version 1.
	want := `{"id":"ln_1","provider":"a","item":"i","patron":"p","status":"active","format":"epub",` +
		`"created_at":"2026-01-02T10:00:00Z","links":[{"format":"epub","rel":"r","href":"h"}],"provider_ref":{"k":"v"},` +
		`"patron_key":"pk","patron_name":"Ada","options":{"o":"1"},"days":21,"version":1}`
	if string(b) != want {
		t.Fatalf("schema 2 of a schema 1 loan:\n got %s\nwant %s", b, want)
	}
	var again journal.Loan
	if err := json.Unmarshal(b, &again); err != nil {
		t.Fatal(err)
	}
	if b2, _ := json.Marshal(again); string(b2) != want {
		t.Fatalf("schema 2 round trip: %s", b2)
	}
}

// A record's version reads as written, and as 1 when it has none (a record
// of an earlier release, which wrote each record once as far as a
// compare-and-set write can tell); the attempt time is written only when
// set, and Attempted falls back to the creation.
func TestLoanVersionAndAttempt(t *testing.T) {
	for rec, want := range map[string]int64{`{"id":"ln_1"}`: 1, `{"id":"ln_1","version":0}`: 1, `{"id":"ln_1","version":7}`: 7} {
		var l journal.Loan
		if err := json.Unmarshal([]byte(rec), &l); err != nil || l.Version != want {
			t.Fatalf("%s read at version %d, %v; want %d", rec, l.Version, err, want)
		}
	}
	created := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	l := journal.Loan{ID: "ln_1", CreatedAt: created}
	if b, _ := json.Marshal(l); strings.Contains(string(b), "attempt_at") || strings.Contains(string(b), "version") {
		t.Fatalf("a new record without attempt or version: %s", b)
	}
	if !l.Attempted().Equal(created) {
		t.Fatalf("Attempted of a record without AttemptAt: %v", l.Attempted())
	}
	l.AttemptAt = created.Add(time.Hour)
	b, _ := json.Marshal(l)
	var again journal.Loan
	if err := json.Unmarshal(b, &again); err != nil || !again.Attempted().Equal(l.AttemptAt) {
		t.Fatalf("the attempt of %s: %v, %v", b, again.Attempted(), err)
	}
}

// Schema 1's HTTP status reads as an outcome; schema 2 writes no status.
func TestIdempotencyShapes(t *testing.T) {
	for status, want := range map[string]journal.Outcome{"0": journal.OutcomeNone, "200": journal.OutcomeAnswer,
		"201": journal.OutcomeAnswer, "409": journal.OutcomeRefusal, "503": journal.OutcomeRefusal} {
		var r journal.IdempotencyRecord
		if err := json.Unmarshal([]byte(`{"scope":"s","key":"k","status":`+status+`}`), &r); err != nil {
			t.Fatal(err)
		}
		if r.Outcome != want || r.Done() != (want != journal.OutcomeNone) {
			t.Fatalf("status %s read as %q", status, r.Outcome)
		}
	}
	b, _ := json.Marshal(journal.IdempotencyRecord{Scope: "s", Key: "k", Outcome: journal.OutcomeRefusal})
	if strings.Contains(string(b), "status") || !strings.Contains(string(b), `"outcome":"refusal"`) {
		t.Fatalf("schema 2 record %s", b)
	}
}
