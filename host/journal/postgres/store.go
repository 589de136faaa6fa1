package postgres

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/lendgate/lendgate/host/journal"
)

// Store is the journal.Store for several host nodes: PostgreSQL through pgx,
// schema migrations embedded and applied at open. Records are kept as JSON
// (jsonb) beside the columns the queries filter on; those timestamp columns
// hold microseconds, so expiry, staleness and purge compare times to the
// microsecond.
type Store struct {
	pool *pgxpool.Pool
}

//go:embed migrations/*.sql
var postgresMigrations embed.FS

// pgLockMigrations is the advisory lock key (per database) of the
// migrator: one at a time. Nothing else takes a lock of its own: events
// commit in parallel (events.go).
const pgLockMigrations int64 = 0x6c656e6467617465 // "lendgate"

// pgDefaultMaxConns is the pool size when the DSN does not set
// pool_max_conns: enough connections for concurrent checkouts to commit
// together (PostgreSQL flushes the WAL once for all the commits waiting;
// with 64 checkouts at once, 32 connections served about a fifth more a
// second than 16, and more gained nothing: docs/operations.md), few enough
// for three nodes on one server's max_connections (100 by default).
const pgDefaultMaxConns = 32

// Open connects to dsn and applies the schema migrations. Its
// errors name the server and database, never the password.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx quotes the DSN, redacting its password only on a best-effort
		// basis when the DSN is malformed: say nothing of its text.
		return nil, errors.New("opening postgres store: the dsn does not parse (its text is not shown: it may hold a password); " +
			"want postgres://user:password@host:port/database or host=… dbname=… key=value pairs")
	}
	where := redactedDSN(cfg.ConnConfig)
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = pgDefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening postgres store %s: %w", where, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("opening postgres store %s: %w", where, err)
	}
	if err := migratePostgres(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrating postgres store %s: %w", where, err)
	}
	return &Store{pool: pool}, nil
}

// redactedDSN renders where c connects, without its password.
func redactedDSN(c *pgx.ConnConfig) string {
	u := url.URL{Scheme: "postgres", Path: "/" + c.Database}
	if c.User != "" {
		u.User = url.User(c.User)
	}
	if strings.HasPrefix(c.Host, "/") { // a Unix socket directory
		u.RawQuery = url.Values{"host": {c.Host}, "port": {strconv.Itoa(int(c.Port))}}.Encode()
	} else {
		u.Host = net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port)))
	}
	return u.String()
}

type pgMigration struct {
	version int
	name    string
	sql     string
}

// postgresMigrationList reads the embedded migrations, NNNN_name.sql, in
// version order.
func postgresMigrationList() ([]pgMigration, error) {
	files, err := fs.Glob(postgresMigrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []pgMigration
	seen := map[int]string{}
	for _, f := range files {
		name := path.Base(f)
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number", name)
		}
		if prev, ok := seen[v]; ok {
			return nil, fmt.Errorf("migrations %s and %s have the same number", prev, name)
		}
		seen[v] = name
		b, err := fs.ReadFile(postgresMigrations, f)
		if err != nil {
			return nil, err
		}
		out = append(out, pgMigration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// migratePostgres applies the migrations not yet recorded in
// schema_migrations, all in one transaction under an advisory lock, so that
// nodes starting at once apply each exactly once.
func migratePostgres(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := postgresMigrationList()
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", pgLockMigrations); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, "SELECT version FROM schema_migrations")
		done, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return err
		}
		applied := map[int]bool{}
		for _, v := range done {
			applied[int(v)] = true
			if latest := ms[len(ms)-1]; int(v) > latest.version {
				return fmt.Errorf("the journal is at migration %d, newer than this program's %s (schema %d): run a newer lendgate",
					v, latest.name, journal.SchemaVersion)
			}
		}
		for _, m := range ms {
			if applied[m.version] {
				continue
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("applying %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
				return err
			}
		}
		return nil
	})
}

// pgVersion is a loan row's version, read from its record: a record
// written before versions has none and is at version 1
// (journal.StoredVersion). No column of its own: a row written by an
// earlier release keeps a consistent version, and no migration is needed.
const pgVersion = `COALESCE((record->>'version')::bigint, 1)`

// pgPutLoanSQL writes a loan if its row is at version $7 (0: no row); it
// returns no row when the compare fails. An UPDATE waits for a concurrent
// writer of the row and compares again with what it committed; an INSERT
// waits for a concurrent insert of the key and then does nothing.
const pgPutLoanSQL = `WITH upd AS (
	UPDATE loans SET patron = $3, status = $4, expires_at = $5, record = $6
	WHERE provider = $1 AND id = $2 AND $7::bigint <> 0 AND ` + pgVersion + ` = $7::bigint
	RETURNING 1
), crt AS (
	INSERT INTO loans (provider, id, patron, status, expires_at, record)
	SELECT $1, $2, $3, $4, $5, $6 WHERE $7::bigint = 0
	ON CONFLICT (provider, id) DO NOTHING
	RETURNING 1
)
SELECT 1 FROM upd UNION ALL SELECT 1 FROM crt`

func (s *Store) PutLoan(ctx context.Context, r journal.Loan) error {
	want := r.Version
	r.Version++
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	var one int
	err = s.pool.QueryRow(ctx, pgPutLoanSQL, r.Provider, r.ID, r.Patron, r.Status, r.ExpiresAt, json.RawMessage(b), want).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres store: putting loan %s/%s: not at version %d: %w", r.Provider, r.ID, want, journal.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgres store: putting loan %s/%s: %w", r.Provider, r.ID, err)
	}
	return nil
}

func (s *Store) DeleteLoan(ctx context.Context, provider, id string, version int64) error {
	fail := func(err error) error { return fmt.Errorf("postgres store: deleting loan %s/%s: %w", provider, id, err) }
	tag, err := s.pool.Exec(ctx, "DELETE FROM loans WHERE provider = $1 AND id = $2 AND "+pgVersion+" = $3", provider, id, version)
	if err != nil {
		return fail(err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	// Missing (deleted already: not an error), or at another version.
	var exists bool
	if err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM loans WHERE provider = $1 AND id = $2)", provider, id).Scan(&exists); err != nil {
		return fail(err)
	}
	if exists {
		return fail(fmt.Errorf("not at version %d: %w", version, journal.ErrConflict))
	}
	return nil
}

func (s *Store) Loan(ctx context.Context, provider, id string) (journal.Loan, error) {
	var r journal.Loan
	var b []byte
	err := s.pool.QueryRow(ctx, "SELECT record FROM loans WHERE provider = $1 AND id = $2", provider, id).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, journal.ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("postgres store: reading loan %s/%s: %w", provider, id, err)
	}
	return r, json.Unmarshal(b, &r)
}

// loans runs a query of loan records. Loans come oldest first: in id order
// (loan ids are ULIDs), then provider, as the other drivers order them.
func (s *Store) loans(ctx context.Context, what, sql string, args ...any) ([]journal.Loan, error) {
	rows, _ := s.pool.Query(ctx, sql, args...)
	recs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("postgres store: listing %s: %w", what, err)
	}
	out := make([]journal.Loan, len(recs))
	for i, b := range recs {
		if err := json.Unmarshal(b, &out[i]); err != nil {
			return nil, fmt.Errorf("postgres store: listing %s: %w", what, err)
		}
	}
	return out, nil
}

// pgLimit is a LIMIT argument: NULL (no limit) for limit <= 0.
func pgLimit(limit int) any {
	if limit <= 0 {
		return nil
	}
	return limit
}

func (s *Store) PatronLoans(ctx context.Context, provider, patron string) ([]journal.Loan, error) {
	return s.loans(ctx, "patron loans",
		"SELECT record FROM loans WHERE provider = $1 AND patron = $2 ORDER BY id", provider, patron)
}

func (s *Store) LoansByStatus(ctx context.Context, provider, status string, limit int) ([]journal.Loan, error) {
	if provider == "" {
		return s.loans(ctx, "loans by status",
			"SELECT record FROM loans WHERE status = $1 ORDER BY id, provider LIMIT $2", status, pgLimit(limit))
	}
	return s.loans(ctx, "loans by status",
		"SELECT record FROM loans WHERE provider = $1 AND status = $2 ORDER BY id LIMIT $3", provider, status, pgLimit(limit))
}

func (s *Store) ExpiredLoans(ctx context.Context, t time.Time, limit int) ([]journal.Loan, error) {
	return s.loans(ctx, "expired loans",
		"SELECT record FROM loans WHERE status = $1 AND expires_at < $2 ORDER BY id, provider LIMIT $3",
		journal.StatusActive, t, pgLimit(limit))
}

func (s *Store) ClaimIdempotency(ctx context.Context, r journal.IdempotencyRecord, staleBefore time.Time) (journal.IdempotencyRecord, bool, error) {
	rec, err := json.Marshal(r)
	if err != nil {
		return journal.IdempotencyRecord{}, false, err
	}
	updated, err := json.Marshal(r.UpdatedAt)
	if err != nil {
		return journal.IdempotencyRecord{}, false, err
	}
	fail := func(err error) (journal.IdempotencyRecord, bool, error) {
		return journal.IdempotencyRecord{}, false, fmt.Errorf("postgres store: claiming idempotency key %s/%s: %w", r.Scope, r.Key, err)
	}
	// Each statement is atomic on its own: one INSERT wins a new key, and
	// one UPDATE wins a stale one (the others re-check its WHERE after the
	// winner commits). A key released between the two is claimed again.
	for range 10 {
		tag, err := s.pool.Exec(ctx, `INSERT INTO idempotency (scope, key, record, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (scope, key) DO NOTHING`,
			r.Scope, r.Key, json.RawMessage(rec), pgOutcome(r), r.CreatedAt, r.UpdatedAt)
		if err != nil {
			return fail(err)
		}
		if tag.RowsAffected() == 1 {
			return r, true, nil
		}
		var b []byte
		err = s.pool.QueryRow(ctx, `UPDATE idempotency SET updated_at = $3, record = jsonb_set(record, '{updated_at}', $4)
			WHERE scope = $1 AND key = $2 AND status = 0 AND updated_at < $5 RETURNING record`,
			r.Scope, r.Key, r.UpdatedAt, json.RawMessage(updated), staleBefore).Scan(&b)
		if err == nil {
			var out journal.IdempotencyRecord
			if err := json.Unmarshal(b, &out); err != nil {
				return fail(err)
			}
			return out, true, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fail(err)
		}
		cur, err := s.Idempotency(ctx, r.Scope, r.Key)
		if errors.Is(err, journal.ErrNotFound) {
			continue
		}
		if err != nil {
			return fail(err)
		}
		return cur, false, nil
	}
	return fail(errors.New("the key was released and claimed again ten times over"))
}

// pgOutcome is the status column of r: 0 while in progress, 1 once done.
// (Rows of schema 1 hold the HTTP status of the first answer, never 0 once
// done: the column's queries only tell 0 from the rest.)
func pgOutcome(r journal.IdempotencyRecord) int {
	if r.Done() {
		return 1
	}
	return 0
}

func (s *Store) CompleteIdempotency(ctx context.Context, r journal.IdempotencyRecord) error {
	rec, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO idempotency (scope, key, record, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (scope, key) DO UPDATE SET record = EXCLUDED.record, status = EXCLUDED.status,
			created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at`,
		r.Scope, r.Key, json.RawMessage(rec), pgOutcome(r), r.CreatedAt, r.UpdatedAt)
	if err != nil {
		return fmt.Errorf("postgres store: completing idempotency key %s/%s: %w", r.Scope, r.Key, err)
	}
	return nil
}

func (s *Store) RefreshIdempotency(ctx context.Context, scope, key string, at time.Time) (bool, error) {
	updated, err := json.Marshal(at)
	if err != nil {
		return false, err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE idempotency SET updated_at = $3, record = jsonb_set(record, '{updated_at}', $4)
		WHERE scope = $1 AND key = $2 AND status = 0`, scope, key, at, json.RawMessage(updated))
	if err != nil {
		return false, fmt.Errorf("postgres store: refreshing idempotency key %s/%s: %w", scope, key, err)
	}
	return tag.RowsAffected() == 1, nil
}

func (s *Store) ReleaseIdempotency(ctx context.Context, scope, key string) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM idempotency WHERE scope = $1 AND key = $2 AND status = 0", scope, key)
	if err != nil {
		return fmt.Errorf("postgres store: releasing idempotency key %s/%s: %w", scope, key, err)
	}
	return nil
}

// Idempotency returns the record of a key, or journal.ErrNotFound. It is
// not part of journal.Store (the host never reads a key without claiming
// it): tests and tools inspect records with it.
func (s *Store) Idempotency(ctx context.Context, scope, key string) (journal.IdempotencyRecord, error) {
	var r journal.IdempotencyRecord
	var b []byte
	err := s.pool.QueryRow(ctx, "SELECT record FROM idempotency WHERE scope = $1 AND key = $2", scope, key).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, journal.ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("postgres store: reading idempotency key %s/%s: %w", scope, key, err)
	}
	return r, json.Unmarshal(b, &r)
}

func (s *Store) PurgeIdempotency(ctx context.Context, t time.Time) (int, error) {
	// Both halves are indexed: completed records by created_at, claims by
	// updated_at (0003_idempotency_claims.sql).
	tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency WHERE (status <> 0 AND created_at < $1)
		OR (status = 0 AND updated_at < $1 AND created_at < $1)`, t)
	if err != nil {
		return 0, fmt.Errorf("postgres store: purging idempotency records: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

var _ journal.Store = (*Store)(nil)

// MaxConns is the size of the store's connection pool: pool_max_conns of
// the DSN, else 32.
func (s *Store) MaxConns() int { return int(s.pool.Config().MaxConns) }
