package testserver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestPostgresAcceptsQueriesAndIsRemoved(t *testing.T) {
	start := time.Now()
	var dir string
	t.Run("server", func(t *testing.T) {
		dsn := Postgres(t)
		t.Logf("postgres ready in %v", time.Since(start))
		conn, err := pgx.Connect(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var n int
		if err := conn.QueryRow(t.Context(), "SELECT 1+1").Scan(&n); err != nil || n != 2 {
			t.Fatalf("SELECT 1+1 = %d, %v", n, err)
		}
		var data string
		if err := conn.QueryRow(t.Context(), "SHOW data_directory").Scan(&data); err != nil {
			t.Fatal(err)
		}
		dir = filepath.Dir(data)
	})
	if dir == "" {
		return // skipped
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after the test: %v", dir, err)
	}
}

func TestSharedPostgresGivesEachTestItsOwnDatabase(t *testing.T) {
	a, b := SharedPostgres(t), SharedPostgres(t)
	if a == b {
		t.Fatalf("two calls returned the same database %s", a)
	}
	ca, err := pgx.Connect(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(context.Background())
	if _, err := ca.Exec(t.Context(), "CREATE TABLE x (v int)"); err != nil {
		t.Fatal(err)
	}
	cb, err := pgx.Connect(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close(context.Background())
	if _, err := cb.Exec(t.Context(), "CREATE TABLE x (v int)"); err != nil {
		t.Fatalf("the second database already has table x: %v", err)
	}
}

func TestRedisAnswersPing(t *testing.T) {
	start := time.Now()
	addr := Redis(t)
	t.Logf("redis ready in %v", time.Since(start))
	if !ping(addr) {
		t.Fatalf("redis at %s does not answer PING", addr)
	}
}

func TestRedisIsKilledAtCleanup(t *testing.T) {
	var addr string
	t.Run("server", func(t *testing.T) { addr = Redis(t) })
	if addr == "" {
		return // skipped
	}
	if ping(addr) {
		t.Fatalf("redis at %s still answers after its test ended", addr)
	}
}

func TestDBNameIsAnIdentifier(t *testing.T) {
	got := dbName("TestStore/Apply: dedupe-key twice/with a very long name indeed")
	if len(got) > 40 {
		t.Errorf("dbName too long: %q", got)
	}
	for _, r := range got {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			t.Fatalf("dbName %q has %q", got, r)
		}
	}
}

func TestMissingBinaryNamesThePackage(t *testing.T) {
	err := &missingError{what: "redis-server", pkg: "redis-server", where: "PATH"}
	if got := err.Error(); got == "" || !strings.Contains(got, "apt-get install -y redis-server") {
		t.Errorf("message %q does not say what to install", got)
	}
}
