package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/postgres"
	"github.com/lendgate/lendgate/internal/testserver"
)

// openPostgresPair opens a store on a new database and a plain connection
// to the same database, to play a writer the store does not know of.
func openPostgresPair(t *testing.T) (*postgres.Store, *pgx.Conn) {
	t.Helper()
	dsn := testserver.SharedPostgres(t)
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return s, conn
}

func journalLoan(id string) journal.Loan {
	return journal.Loan{ID: id, Provider: "a", Patron: "p1", Status: journal.StatusActive, Links: []journal.Link{}}
}

func journalEvent(id string) journal.Event {
	return journal.Event{Type: "loan.created", Provider: "a", Loan: id, Patron: "p1", At: time.Now().UTC(), Data: map[string]string{}}
}

// A reader that finds a number below a committed event still being written
// waits for that writer, and then reads both events in order: it does not
// step over the lower number.
func TestStoreDriverPostgresReaderWaitsForAnEventInFlight(t *testing.T) {
	s, conn := openPostgresPair(t)
	ctx := t.Context()
	// A writer draws number 1 and holds it uncommitted.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	early, _ := json.Marshal(journalEvent("ln_early"))
	var seq int64
	if err := tx.QueryRow(ctx, "INSERT INTO events (event) VALUES ($1) RETURNING seq", json.RawMessage(early)).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	// Another commits number 2.
	late, applied, err := s.Apply(ctx, journalLoan("ln_late"), journalEvent("ln_late"), "")
	if err != nil || !applied {
		t.Fatalf("Apply = %v, %v", applied, err)
	}
	if late.Cursor != journal.FormatCursor(uint64(seq)+1) {
		t.Fatalf("the committed event has cursor %s, want the number after %d", late.Cursor, seq)
	}
	read := make(chan []journal.Event, 1)
	readErr := make(chan error, 1)
	go func() {
		evs, err := s.Events(ctx, "", 10)
		readErr <- err
		read <- evs
	}()
	// The reader is waiting on the writer's lock on number 1.
	if !waitForLockWaiter(t, conn.Config().ConnString()) {
		t.Fatal("the reader never waited for the event in flight")
	}
	select {
	case evs := <-read:
		t.Fatalf("the reader returned %d events while number %d was being written", len(evs), seq)
	default:
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-readErr; err != nil {
		t.Fatal(err)
	}
	evs := <-read
	if len(evs) != 2 || evs[0].Loan != "ln_early" || evs[1].Loan != "ln_late" {
		t.Fatalf("the reader read %+v, want ln_early then ln_late", evs)
	}
}

// waitForLockWaiter reports whether some session of the database waits on
// a lock, looking up to 30 s.
func waitForLockWaiter(t *testing.T, dsn string) bool {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return true
		}
		// Each query is a round trip to the server: the loop is paced by
		// it and bounded by the deadline.
	}
	return false
}

// A number whose transaction failed, or that was drawn and never used,
// does not stop readers: it is settled as a tombstone and stepped over.
func TestStoreDriverPostgresReaderStepsOverAbandonedNumbers(t *testing.T) {
	s, conn := openPostgresPair(t)
	ctx := t.Context()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := json.Marshal(journalEvent("ln_aborted"))
	if _, err := tx.Exec(ctx, "INSERT INTO events (event) VALUES ($1)", json.RawMessage(ev)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT nextval(pg_get_serial_sequence('events', 'seq'))"); err != nil {
		t.Fatal(err)
	}
	e, _, err := s.Apply(ctx, journalLoan("ln_1"), journalEvent("ln_1"), "")
	if err != nil {
		t.Fatal(err)
	}
	if e.Cursor != journal.FormatCursor(3) {
		t.Fatalf("cursor %s, want the third number", e.Cursor)
	}
	evs, err := s.Events(ctx, "", 10)
	if err != nil || len(evs) != 1 || evs[0].ID != e.ID {
		t.Fatalf("Events = %+v, %v; want the one applied", evs, err)
	}
	var tombstones int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM events WHERE event IS NULL").Scan(&tombstones); err != nil {
		t.Fatal(err)
	}
	if tombstones != 2 {
		t.Fatalf("%d tombstones, want the 2 abandoned numbers", tombstones)
	}
	// A writer that drew a number a reader has tombstoned applies again
	// with a new one: simulate by tombstoning the next number ahead.
	if _, err := conn.Exec(ctx, "INSERT INTO events (seq) VALUES (4)"); err != nil {
		t.Fatal(err)
	}
	e2, applied, err := s.Apply(ctx, journalLoan("ln_2"), journalEvent("ln_2"), "")
	if err != nil || !applied || e2.Cursor != journal.FormatCursor(5) {
		t.Fatalf("Apply over a tombstoned number = %s, %v, %v; want cursor 5", e2.Cursor, applied, err)
	}
}

// The pool is sized for concurrent commits unless the DSN says otherwise.
func TestStoreDriverPostgresPoolSize(t *testing.T) {
	s, _ := openPostgresPair(t)
	if got := s.MaxConns(); got != 32 {
		t.Fatalf("pool of %d connections, want 32 by default", got)
	}
	dsn := testserver.SharedPostgres(t)
	s2, err := postgres.Open(t.Context(), dsn+"&pool_max_conns=3")
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := s2.MaxConns(); got != 3 {
		t.Fatalf("pool of %d connections, want the DSN's 3", got)
	}
}

// A purge larger than one transaction's chunk purges everything before t,
// chunk after chunk, and nothing after it.
func TestStoreDriverPostgresPurgesInChunks(t *testing.T) {
	s, conn := openPostgresPair(t)
	ctx := t.Context()
	const old = 12000
	if _, err := conn.Exec(ctx, `INSERT INTO events (event)
		SELECT jsonb_build_object('type', 'loan.created', 'at', '2020-01-01T00:00:00Z', 'loan', 'ln_' || n)
		FROM generate_series(1, $1::int) n`, old); err != nil {
		t.Fatal(err)
	}
	kept, _, err := s.Apply(ctx, journalLoan("ln_new"), journalEvent("ln_new"), "")
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.PurgeEvents(ctx, time.Now().Add(-time.Hour))
	if err != nil || n != old {
		t.Fatalf("PurgeEvents = %d, %v; want %d", n, err, old)
	}
	evs, err := s.Events(ctx, "", 10)
	if err != nil || len(evs) != 1 || evs[0].ID != kept.ID {
		t.Fatalf("Events after the purge = %+v, %v; want the one kept", evs, err)
	}
}
