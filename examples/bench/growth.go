package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/bolt"
	"github.com/lendgate/lendgate/host/journal/postgres"
)

// The journal-growth scenario: a journal holding n loans, n
// events and n/10 Idempotency-Keys, and what the reads that must stay fast
// cost on it: a patron's loans, a page of 100 events after a cursor, and
// the sweeper's pass (expired loans, pending loans, purges).

// growthSamples is how many times each read is timed.
const growthSamples = 300

// maxGrowth bounds -journal-growth.
const maxGrowth = 2_000_000

// growthRow is one store's figures.
type growthRow struct {
	store         string
	loans         int
	fill          time.Duration // how long filling took
	size          int64         // the file's (database's) size, bytes
	patronP50     time.Duration
	patronP99     time.Duration
	eventsP50     time.Duration
	eventsP99     time.Duration
	sweepP50      time.Duration // one sweeper pass, every query of it
	sweepExpired  int           // loans the sweeper's expiry query found (≤ 500)
	patronsLoans  int           // loans of a patron
	eventsPerPage int
}

// The shape of the filled journal: every loan has one event; a patron has
// growthPerPatron loans; 1 in 10 loans is active (1 in 100 of those past
// its expiry), 1 in 2000 pending, the rest returned.
const growthPerPatron = 5

func growthLoan(i int, now time.Time) (journal.Loan, journal.Event) {
	id := fmt.Sprintf("ln_%026d", i)
	patron := fmt.Sprintf("patron-%07d", i/growthPerPatron)
	created := now.Add(-60 * 24 * time.Hour).Add(time.Duration(i) * time.Second / 2)
	status := host.StatusReturned
	var exp *time.Time
	switch {
	case i%2000 == 7:
		status = host.StatusPending
	case i%10 == 3:
		status = host.StatusActive
		e := now.Add(21 * 24 * time.Hour)
		if i%1000 == 3 {
			e = now.Add(-time.Hour)
		}
		exp = &e
	}
	r := journal.Loan{ID: id, Provider: fakeInstance, Item: benchItem, Patron: patron, Status: status, Format: benchFormat,
		CreatedAt: created, ExpiresAt: exp,
		Links:       []journal.Link{{Format: benchFormat, Rel: "content", Href: "https://content.example/" + id}},
		ProviderRef: map[string]string{"order": id},
		PatronKey:   floorPatron, PatronName: benchPatronName,
	}
	e := journal.Event{Type: "loan.created", Provider: fakeInstance, Loan: id, Patron: patron, Item: benchItem, At: created,
		Data: map[string]string{}}
	return r, e
}

func growthIdem(i int, now time.Time) journal.IdempotencyRecord {
	t := now.Add(-time.Duration(i) * time.Second / 4) // the last ~7 hours: none purged yet
	return journal.IdempotencyRecord{Scope: "checkout/" + fakeInstance, Key: fmt.Sprintf("key-%08d", i), Fingerprint: "fp",
		Ref: fmt.Sprintf("ln_%026d", i), Outcome: journal.OutcomeAnswer, Body: []byte(`{"id":"x"}`), CreatedAt: t, UpdatedAt: t}
}

// journalGrowth fills and measures bolt and postgres with n loans.
func journalGrowth(ctx context.Context, n int) ([]growthRow, error) {
	var out []growthRow
	now := time.Now().UTC()
	progress("journal growth: bolt, filling %d loans and events", n)
	dir, err := os.MkdirTemp(benchDir(), "lendgate-bench-growth-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "journal.db")
	b, err := bolt.Open(path)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := fillThroughStore(ctx, b, n, now); err != nil {
		b.Close()
		return nil, err
	}
	fill := time.Since(t0)
	row, err := measureGrowth(ctx, storeBolt, b, n, now)
	b.Close()
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil {
		row.size = fi.Size()
	}
	row.fill = fill
	out = append(out, row)

	progress("journal growth: postgres, filling %d loans and events", n)
	dsn, err := postgresDSN()
	if err != nil {
		return out, err
	}
	pg, err := postgres.Open(ctx, dsn)
	if err != nil {
		return out, err
	}
	defer pg.Close()
	t0 = time.Now()
	if err := fillPostgres(ctx, dsn, n, now); err != nil {
		return out, err
	}
	fill = time.Since(t0)
	row, err = measureGrowth(ctx, storePostgres, pg, n, now)
	if err != nil {
		return out, err
	}
	row.fill = fill
	conn, err := pgx.Connect(ctx, dsn)
	if err == nil {
		conn.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&row.size)
		conn.Close(ctx)
	}
	return append(out, row), nil
}

// fillThroughStore writes the journal with the host's own calls (Apply,
// CompleteIdempotency), 512 writers at once: a host far busier than any
// library's, so that group commits are large and the fill quick.
func fillThroughStore(ctx context.Context, s journal.Store, n int, now time.Time) error {
	const writers = 512
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n+n/10 {
					return
				}
				var err error
				if i < n {
					r, e := growthLoan(i, now)
					_, _, err = s.Apply(ctx, r, e, "created|"+r.Provider+"|"+r.ID)
				} else {
					err = s.CompleteIdempotency(ctx, growthIdem(i-n, now))
				}
				if err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// fillPostgres copies the same journal into the host's tables (COPY: the
// statements one by one would take the server minutes on this machine),
// then brings the sequence and the planner's statistics up to date.
func fillPostgres(ctx context.Context, dsn string, n int, now time.Time) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	i := 0
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"loans"}, []string{"provider", "id", "patron", "status", "expires_at", "record"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i >= n {
				return nil, nil
			}
			r, _ := growthLoan(i, now)
			i++
			b, err := json.Marshal(r)
			return []any{r.Provider, r.ID, r.Patron, r.Status, r.ExpiresAt, b}, err
		}))
	if err != nil {
		return fmt.Errorf("copying loans: %w", err)
	}
	i = 0
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"seq", "event", "dedupe_key"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i >= n {
				return nil, nil
			}
			r, e := growthLoan(i, now)
			i++
			b, err := json.Marshal(e)
			return []any{int64(i), b, "created|" + r.Provider + "|" + r.ID}, err
		}))
	if err != nil {
		return fmt.Errorf("copying events: %w", err)
	}
	i = 0
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"idempotency"}, []string{"scope", "key", "record", "status", "created_at", "updated_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i >= n/10 {
				return nil, nil
			}
			r := growthIdem(i, now)
			i++
			b, err := json.Marshal(r)
			return []any{r.Scope, r.Key, b, 1 /* done */, r.CreatedAt, r.UpdatedAt}, err
		}))
	if err != nil {
		return fmt.Errorf("copying idempotency keys: %w", err)
	}
	for _, q := range []string{"SELECT setval(pg_get_serial_sequence('events', 'seq'), (SELECT max(seq) FROM events))",
		"ANALYZE loans", "ANALYZE events", "ANALYZE idempotency"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// measureGrowth times the reads on a filled journal.
func measureGrowth(ctx context.Context, name string, s journal.Store, n int, now time.Time) (growthRow, error) {
	row := growthRow{store: name, loans: n}
	rng := rand.New(rand.NewPCG(12, 34))
	progress("journal growth: %s, measuring", name)
	// The queries' arguments are drawn before the clock starts.
	patrons := make([]string, growthSamples)
	for i := range patrons {
		patrons[i] = fmt.Sprintf("patron-%07d", rng.IntN(n/growthPerPatron))
	}
	var err error
	row.patronP50, row.patronP99, row.patronsLoans, err = timeQuery(func(i int) (int, error) {
		loans, err := s.PatronLoans(ctx, fakeInstance, patrons[i])
		return len(loans), err
	})
	if err != nil {
		return row, fmt.Errorf("patron loans: %w", err)
	}
	cursors := make([]string, growthSamples)
	for i := range cursors {
		cursors[i] = journal.FormatCursor(uint64(rng.IntN(n - 100)))
	}
	row.eventsP50, row.eventsP99, row.eventsPerPage, err = timeQuery(func(i int) (int, error) {
		page, err := s.Events(ctx, cursors[i], 100)
		return len(page), err
	})
	if err != nil {
		return row, fmt.Errorf("events: %w", err)
	}
	var lat []time.Duration
	for range 20 {
		t0 := time.Now()
		exp, err := s.ExpiredLoans(ctx, now, 500)
		if err != nil {
			return row, fmt.Errorf("expired loans: %w", err)
		}
		row.sweepExpired = len(exp)
		if _, err := s.LoansByStatus(ctx, "", host.StatusPending, 500); err != nil {
			return row, fmt.Errorf("pending loans: %w", err)
		}
		if _, err := s.PurgeIdempotency(ctx, now.Add(-host.DefaultIdempotencyTTL)); err != nil {
			return row, fmt.Errorf("purging keys: %w", err)
		}
		if p, ok := s.(journal.EventPurger); ok {
			if _, err := p.PurgeEvents(ctx, now.Add(-host.DefaultEventRetention)); err != nil {
				return row, fmt.Errorf("purging events: %w", err)
			}
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	row.sweepP50 = percentile(lat, 0.5)
	return row, nil
}

// timeQuery runs q growthSamples times (with i from 0) and returns the 50th
// and 99th percentiles of its latency and the size of its last answer.
func timeQuery(q func(i int) (int, error)) (p50, p99 time.Duration, size int, err error) {
	lat := make([]time.Duration, 0, growthSamples)
	for i := range growthSamples {
		t0 := time.Now()
		size, err = q(i)
		lat = append(lat, time.Since(t0))
		if err != nil {
			return 0, 0, 0, err
		}
	}
	slices.Sort(lat)
	return percentile(lat, 0.5), percentile(lat, 0.99), size, nil
}
