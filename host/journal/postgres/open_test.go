package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/journaltest"
	"github.com/lendgate/lendgate/host/journal/postgres"
	"github.com/lendgate/lendgate/internal/testserver"
)

func TestSuite(t *testing.T) {
	journaltest.Run(t, journaltest.Driver{Shared: true, Open: func(t *testing.T) (journal.Store, func() journal.Store) {
		dsn := testserver.SharedPostgres(t)
		open := func() journal.Store {
			s, err := postgres.Open(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		return open(), open
	}})
}

// Nodes starting at once against an empty database migrate it once.
func TestStoreDriverPostgresConcurrentMigrations(t *testing.T) {
	dsn := testserver.SharedPostgres(t)
	const n = 4
	errs := make(chan error, n)
	for range n {
		go func() {
			s, err := postgres.Open(t.Context(), dsn)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("a node starting at once with others: %v", err)
		}
	}
}

func TestStoreDriverPostgresErrorsHideThePassword(t *testing.T) {
	const pw = "Sup3rSecretPw"
	good := testserver.SharedPostgres(t)
	// The shared server's DSN with a database that does not exist.
	base, _, _ := strings.Cut(good, "?")
	missingDB := strings.Replace(base[:strings.LastIndex(base, "/")+1], "postgres@", "postgres:"+pw+"@", 1) + "no_such_db"
	tests := []struct {
		name, dsn, want string
	}{
		{"no server", fmt.Sprintf("postgres://lendgate:%s@127.0.0.1:1/journal?sslmode=disable&connect_timeout=2", pw), "127.0.0.1:1/journal"},
		{"no database", missingDB + "?sslmode=disable", "no_such_db"},
		{"key=value", fmt.Sprintf("host=127.0.0.1 port=1 dbname=journal user=lendgate password=%s sslmode=disable connect_timeout=2", pw), "127.0.0.1:1/journal"},
		{"malformed url", fmt.Sprintf("postgres://lendgate:%s@127.0.0.1:port/journal", pw), "dsn does not parse"},
		{"malformed key=value", fmt.Sprintf("host=127.0.0.1 password='%s dbname=journal", pw), "dsn does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			s, err := postgres.Open(ctx, tt.dsn)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), pw) {
				t.Fatalf("the error shows the password: %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
		})
	}
}
