package testserver

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgServer is one running PostgreSQL server: a data directory under dir,
// listening on 127.0.0.1:port and on a Unix socket in dir.
type pgServer struct {
	dir    string
	port   int
	pgCtl  string
	as     *account
	reaper *reaper

	mu  sync.Mutex // serialises CREATE/DROP DATABASE
	dbs int
}

// sharedPG is the server SharedPostgres hands out databases on.
var sharedPG struct {
	mu      sync.Mutex
	started bool
	s       *pgServer
	err     error
}

// Postgres starts a PostgreSQL server for t alone and returns the DSN of an
// empty database in it. The server stops, and its files are removed, when t
// ends. Starting one costs about a second (initdb); SharedPostgres is
// cheaper when tests only need a database of their own.
func Postgres(t testing.TB) (dsn string) {
	t.Helper()
	s, err := startPostgres()
	if err != nil {
		fail(t, err)
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("stopping postgres: %v", err)
		}
	})
	return s.createDatabase(t)
}

// SharedPostgres returns the DSN of a new, empty database, dropped when t
// ends, on a server that the test binary starts on first use and stops when
// it exits (or at Cleanup). Tests sharing the server cannot see each
// other's data.
func SharedPostgres(t testing.TB) (dsn string) {
	t.Helper()
	sharedPG.mu.Lock()
	if !sharedPG.started {
		sharedPG.started = true
		sharedPG.s, sharedPG.err = startPostgres()
	}
	s, err := sharedPG.s, sharedPG.err
	sharedPG.mu.Unlock()
	if err != nil {
		fail(t, err)
	}
	return s.createDatabase(t)
}

// findPostgres returns the paths of initdb and pg_ctl: from PATH, else from
// the newest /usr/lib/postgresql/*/bin (Debian keeps them off PATH).
func findPostgres() (initdb, pgCtl string, err error) {
	i, err1 := exec.LookPath("initdb")
	p, err2 := exec.LookPath("pg_ctl")
	if err1 == nil && err2 == nil {
		return i, p, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(a, b int) bool { return pgVersion(dirs[a]) > pgVersion(dirs[b]) })
	for _, d := range dirs {
		i, p := filepath.Join(d, "initdb"), filepath.Join(d, "pg_ctl")
		if isExecutable(i) && isExecutable(p) {
			return i, p, nil
		}
	}
	return "", "", &missingError{what: "PostgreSQL server (initdb, pg_ctl)", pkg: "postgresql",
		where: "PATH and /usr/lib/postgresql/*/bin"}
}

func pgVersion(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// startPostgres runs initdb in a new temporary directory and starts the
// server on a free port. PostgreSQL refuses to run as root, so as root both
// run as an unprivileged account that owns the directory.
func startPostgres() (_ *pgServer, err error) {
	initdb, pgCtl, err := findPostgres()
	if err != nil {
		return nil, err
	}
	as, err := unprivileged()
	if err != nil {
		return nil, err
	}
	// Not t.TempDir: its parents may not be traversable by the server's
	// account, it may be too long for a Unix socket path, and a shared
	// server outlives the test that started it.
	dir, err := os.MkdirTemp("", "lendgate-pg-")
	if err != nil {
		return nil, fmt.Errorf("testserver: postgres temp dir: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("testserver: postgres temp dir: %w", err)
	}
	if err := as.chown(dir); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("testserver: handing %s to %s: %w", dir, as.name, err)
	}
	data := filepath.Join(dir, "data")
	s := &pgServer{dir: dir, pgCtl: pgCtl, as: as}
	// The reaper comes first, so that even a failed start is cleaned up.
	s.reaper, err = startReaper(dir, as, fmt.Sprintf("%s -D %s -m immediate -w -t 30 stop >/dev/null 2>&1; rm -rf %s",
		shellQuote(pgCtl), shellQuote(data), shellQuote(dir)))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer func() {
		if err != nil {
			s.reaper.fire()
		}
	}()
	if out, err := s.run(initdb, "-D", data, "-U", "postgres", "--auth=trust", "--no-sync",
		"--encoding=UTF8", "--no-locale", "--no-instructions"); err != nil {
		return nil, fmt.Errorf("testserver: %s: %w\n%s", initdb, err, tail(out, 2000))
	}
	logFile := filepath.Join(dir, "postgres.log")
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		// Tests need no durability; LENDGATE_PG_DURABLE=1 (examples/bench) keeps it.
		fast := "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
		if os.Getenv("LENDGATE_PG_DURABLE") == "1" {
			fast = ""
		}
		opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s "+
			fast+"-c max_connections=200", port, shellQuote(dir))
		out, err := s.run(pgCtl, "-D", data, "-l", logFile, "-w", "-t", "60", "-o", opts, "start")
		if err == nil {
			s.port = port
			return s, nil
		}
		log, _ := os.ReadFile(logFile)
		if attempt < 3 && strings.Contains(string(log), "already in use") {
			continue // someone took the port in between
		}
		return nil, fmt.Errorf("testserver: %s start: %w\n%s\n%s", pgCtl, err, tail(out, 1000), tail(string(log), 2000))
	}
}

// run runs a PostgreSQL program as the server's account, bounded in time.
func (s *pgServer) run(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = s.dir
	cmd.Env = cleanEnv()
	cmd.WaitDelay = 5 * time.Second
	s.as.apply(cmd)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// stop stops the server at once and removes its files.
func (s *pgServer) stop() error { return s.reaper.fire() }

func (s *pgServer) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// admin runs one statement in the postgres database.
func (s *pgServer) admin(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.dsn("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// createDatabase creates an empty database named after t, dropped when t
// ends, and returns its DSN.
func (s *pgServer) createDatabase(t testing.TB) string {
	t.Helper()
	s.mu.Lock()
	s.dbs++
	name := fmt.Sprintf("%s_%d", dbName(t.Name()), s.dbs)
	err := s.admin("CREATE DATABASE " + pgx.Identifier{name}.Sanitize())
	s.mu.Unlock()
	if err != nil {
		t.Fatalf("testserver: creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		// FORCE: a store the test forgot to close must not keep it.
		if err := s.admin("DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)"); err != nil {
			t.Logf("testserver: dropping database %s: %v", name, err)
		}
	})
	return s.dsn(name)
}

// dbName turns a test name into a short database name.
func dbName(test string) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(test) {
		if b.Len() >= 40 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
