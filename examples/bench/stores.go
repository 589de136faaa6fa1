package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/bolt"
	"github.com/lendgate/lendgate/host/journal/memory"
	"github.com/lendgate/lendgate/host/journal/postgres"
	"github.com/lendgate/lendgate/internal/testserver"
)

// The journals a benchmarked host runs on: the default bolt file,
// PostgreSQL, and the memory store as the reference (tests only).
const (
	storeBolt     = "bolt"
	storePostgres = "postgres"
	storeMemory   = "memory"
)

// benchJournal is a benchmarked host's store, which the benchmark may replace by
// an empty one between measured slices (when no call is in flight and the
// sweeper is idle): the memory store's loans would otherwise weigh on the
// garbage collector during the other scenarios' slices, which share this
// process, and a bolt file would grow from round to round. Within a slice
// a checkout journals as it would.
type benchJournal struct {
	journal.Store
	open func() (journal.Store, error) // a new, empty store (nil: never replaced)
	drop func(journal.Store)           // closes (and removes) a replaced store
}

// newJournal opens a journal on the named store.
func newJournal(kind string) (*benchJournal, error) {
	switch kind {
	case storeMemory:
		j := &benchJournal{open: func() (journal.Store, error) { return memory.New(), nil }, drop: func(journal.Store) {}}
		return j, j.first()
	case storeBolt:
		dir, err := os.MkdirTemp(benchDir(), "lendgate-bench-bolt-")
		if err != nil {
			return nil, err
		}
		var mu sync.Mutex
		n := 0
		j := &benchJournal{
			open: func() (journal.Store, error) {
				mu.Lock()
				n++
				path := filepath.Join(dir, fmt.Sprintf("journal-%d.db", n))
				mu.Unlock()
				return bolt.Open(path)
			},
			drop: func(s journal.Store) {
				s.Close()
				if b, ok := s.(interface{ Path() string }); ok {
					os.Remove(b.Path())
					os.Remove(b.Path() + "-wal") // the journal's write-ahead log
				}
			},
		}
		return j, j.first()
	case storePostgres:
		dsn, err := postgresDSN()
		if err != nil {
			return nil, err
		}
		s, err := postgres.Open(context.Background(), dsn) // its default pool, as users run it
		if err != nil {
			return nil, err
		}
		return &benchJournal{Store: s}, nil // kept: a server's tables grow
	}
	return nil, fmt.Errorf("unknown store %q", kind)
}

func (j *benchJournal) first() error {
	s, err := j.open()
	j.Store = s
	return err
}

// reset replaces the store by an empty one, if the journal does that.
func (j *benchJournal) reset() {
	if j.open == nil {
		return
	}
	old := j.Store
	s, err := j.open()
	if err != nil {
		fatal(fmt.Errorf("replacing the journal: %w", err))
	}
	j.Store = s
	j.drop(old)
}

func (j *benchJournal) close() {
	if j.drop != nil {
		j.drop(j.Store)
		return
	}
	j.Store.Close()
}

// benchDir is where bolt files and the sync probe go: -dir, else the
// system's temporary directory. It should be on the disk a library would
// keep its journal on.
func benchDir() string {
	if benchDirFlag != "" {
		return benchDirFlag
	}
	return os.TempDir()
}

var benchDirFlag string

// The PostgreSQL server of the run: -postgres, else one started from the
// distribution's packages the way the project's tests start one, then set
// to durable commits (the tests' server runs with fsync off).
var pgServer struct {
	once sync.Once
	base string // a DSN of the server
	err  error
	n    int
	mu   sync.Mutex
}

var postgresFlag string

func postgresDSN() (string, error) {
	if postgresFlag != "" {
		return postgresFlag, nil
	}
	pgServer.once.Do(func() { pgServer.base, pgServer.err = startDurablePostgres() })
	if pgServer.err != nil {
		return "", pgServer.err
	}
	return newDatabase(pgServer.base)
}

// newDatabase creates an empty database on the server and returns its DSN.
func newDatabase(base string) (string, error) {
	pgServer.mu.Lock()
	pgServer.n++
	name := fmt.Sprintf("bench_%d", pgServer.n)
	pgServer.mu.Unlock()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name), nil
}

// startDurablePostgres starts a server with internal/testserver, asking it
// to keep fsync, synchronous_commit and full_page_writes on (the tests'
// server runs without them), so that a commit waits for its WAL flush as
// on a production server; and checks that it does.
func startDurablePostgres() (dsn string, err error) {
	t := &serverTB{name: "bench"}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(serverTBStop); !ok {
				panic(r)
			}
			err = errors.New(t.msg)
		}
	}()
	os.Setenv("LENDGATE_PG_DURABLE", "1")
	dsn = testserver.SharedPostgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var fsync, sc, fpw string
	if err := conn.QueryRow(ctx, "SELECT current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes')").
		Scan(&fsync, &sc, &fpw); err != nil {
		return "", err
	}
	if fsync != "on" || sc != "on" || fpw != "on" {
		return "", fmt.Errorf("postgres: fsync %s, synchronous_commit %s, full_page_writes %s; want on", fsync, sc, fpw)
	}
	return dsn, nil
}

// serverTB is the little of testing.TB that testserver uses, for a
// program: a failure or skip stops startDurablePostgres with its message.
// The server stops when this process exits (testserver's reaper).
type serverTB struct {
	testing.TB
	name string
	msg  string
}

type serverTBStop struct{}

func (t *serverTB) Helper()                   {}
func (t *serverTB) Name() string              { return t.name }
func (t *serverTB) Cleanup(func())            {} // the database lives as long as the run
func (t *serverTB) Logf(string, ...any)       {}
func (t *serverTB) Fatal(args ...any)         { t.stop(fmt.Sprint(args...)) }
func (t *serverTB) Fatalf(f string, a ...any) { t.stop(fmt.Sprintf(f, a...)) }
func (t *serverTB) Skipf(f string, a ...any)  { t.stop(fmt.Sprintf(f, a...)) }
func (t *serverTB) Errorf(f string, a ...any) { t.msg = fmt.Sprintf(f, a...) }
func (t *serverTB) stop(msg string)           { t.msg = msg; panic(serverTBStop{}) }

// pgAlone is what the PostgreSQL server alone does with a checkout's two
// durable points, without the host, the plugin or the journal's records:
// a call inserts a small row and commits, then updates it and commits, as
// a checkout journals its pending and then its active loan. Its throughput
// at 64 clients bounds what any PostgreSQL journal can reach on this
// machine, whose cores the server shares with the host and the plugin in
// the checkout rows.
func pgAlone(ctx context.Context, _ string) (*target, error) {
	dsn, err := postgresDSN()
	if err != nil {
		return nil, err
	}
	// A pool as large as the postgres store's own on this DSN.
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	conns := st.MaxConns()
	st.Close()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = int32(conns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := pool.Exec(ctx, "CREATE TABLE alone (id bigint PRIMARY KEY, status text NOT NULL)"); err != nil {
		pool.Close()
		return nil, err
	}
	var next atomic.Int64
	return &target{
		call: func(ctx context.Context) error {
			id := next.Add(1)
			if _, err := pool.Exec(ctx, "INSERT INTO alone (id, status) VALUES ($1, 'pending')", id); err != nil {
				return err
			}
			_, err := pool.Exec(ctx, "UPDATE alone SET status = 'active' WHERE id = $1", id)
			return err
		},
		pids:  func() []int { return nil },
		close: pool.Close,
	}, nil
}
