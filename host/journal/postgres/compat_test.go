package postgres_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/journaltest"
	"github.com/lendgate/lendgate/host/journal/postgres"
	"github.com/lendgate/lendgate/internal/testserver"
)

// releasedMigrations are the SHA-256s of the migrations commit e694c1f
// released. Databases have applied them, so they are frozen: the compat test
// applies the live files as e694c1f did, and TestReleasedMigrationsUnchanged
// fails loudly if one of them is edited.
var releasedMigrations = map[string]string{
	"0001_init.sql":                "756d80824c0536ffd7dde042d1e5bdf83c9dae3aa9c2a146cb4d9713b2ed2ad8",
	"0002_events_without_lock.sql": "d6306ce88b79a8af9a5b71fdde1e1da06d03a3e21326b9501539a5aa2df13cd6",
	"0003_idempotency_claims.sql":  "02562144245c4c3b8324a1e45b91d6b40aeb6bc5fcc14b886f322f14a4d02831",
	"0004_webhooks.sql":            "14b85efce8e13ac5ef4653b60d6fafc414650f47b6091eb01ac1fa2dadbba5c1",
}

// releasedMigrationFiles lists the live files of the released migrations,
// in order.
func releasedMigrationFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("migrations", "000[1-4]_*.sql"))
	if err != nil || len(files) != len(releasedMigrations) {
		t.Fatalf("the migrations of e694c1f: %v, %v", files, err)
	}
	return files
}

// An applied migration is never edited: a database that ran the old text
// would not get the new one. A change belongs in a new migration.
func TestReleasedMigrationsUnchanged(t *testing.T) {
	for _, f := range releasedMigrationFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got, want := hex.EncodeToString(sum[:]), releasedMigrations[filepath.Base(f)]; got != want {
			t.Errorf("%s was released in e694c1f with SHA-256 %s and is now %s: add a new migration instead of editing it", f, want, got)
		}
	}
}

// schema1Database is a database as the code of commit e694c1f left it:
// its migrations 0001-0004 (unchanged since, see releasedMigrations),
// recorded in schema_migrations as its migrator did, and journaltest's
// schema 1 records inserted with the SQL it ran.
func schema1Database(t *testing.T) (dsn string, conn *pgx.Conn) {
	t.Helper()
	dsn = testserver.SharedPostgres(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`)
	for i, f := range releasedMigrationFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		exec(string(b))
		exec("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", i+1, filepath.Base(f))
	}
	for _, l := range journaltest.Schema1Loans() {
		exec(`INSERT INTO loans (provider, id, patron, status, expires_at, record)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (provider, id) DO UPDATE SET patron = EXCLUDED.patron, status = EXCLUDED.status,
			expires_at = EXCLUDED.expires_at, record = EXCLUDED.record`,
			l.Provider, l.ID, l.Patron, l.Status, l.ExpiresAt, json.RawMessage(l.JSON))
	}
	for _, e := range journaltest.Schema1Events() {
		// Stored without its id and cursor, as Apply stored it.
		var ev map[string]any
		if err := json.Unmarshal([]byte(e.JSON), &ev); err != nil {
			t.Fatal(err)
		}
		ev["id"], ev["cursor"] = "", ""
		b, _ := json.Marshal(ev)
		exec(`INSERT INTO events (event, dedupe_key) VALUES ($1::jsonb, NULLIF($2::text, ''))`, json.RawMessage(b), e.DedupeKey)
	}
	for _, r := range journaltest.Schema1Idempotencies() {
		exec(`INSERT INTO idempotency (scope, key, record, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, r.Scope, r.Key, json.RawMessage(r.JSON), r.Status, r.CreatedAt, r.UpdatedAt)
	}
	exec(`INSERT INTO webhook_endpoints (endpoint, state, holder, lease_until) VALUES ($1, $2, $3, $4)`,
		journaltest.Schema1WebhookEndpoint, json.RawMessage(journaltest.Schema1WebhookState),
		journaltest.Schema1WebhookHolder, journaltest.Schema1WebhookUntil())
	return dsn, conn
}

// A database migrated and written by the code before the journal package
// is migrated at open and reads correctly, and takes writes.
func TestSchema1DatabaseOpensAndReads(t *testing.T) {
	dsn, conn := schema1Database(t)
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var latest int
	if err := conn.QueryRow(t.Context(), "SELECT max(version) FROM schema_migrations").Scan(&latest); err != nil || latest < 5 {
		t.Fatalf("migrations after the open: up to %d, %v", latest, err)
	}
	journaltest.CheckSchema1(t, s)
}

// A database migrated by a newer program is refused rather than misread.
func TestNewerMigrationIsRefused(t *testing.T) {
	dsn := testserver.SharedPostgres(t)
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), "INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')"); err != nil {
		t.Fatal(err)
	}
	s, err = postgres.Open(t.Context(), dsn)
	if err == nil {
		s.Close()
		t.Fatal("a database of a newer migration opened")
	}
	for _, want := range []string{"9999", "newer", fmt.Sprintf("schema %d", journal.SchemaVersion)} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not say %q", err, want)
		}
	}
}
