package host_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/storetest"
	"github.com/lendgate/lendgate/internal/testserver"
)

func TestStoreDriverMemory(t *testing.T) {
	storetest.Run(t, storetest.Driver{Open: func(t *testing.T) (host.Store, func() host.Store) {
		return host.NewMemoryStore(), nil
	}})
}

func TestStoreDriverBolt(t *testing.T) {
	storetest.Run(t, storetest.Driver{Open: func(t *testing.T) (host.Store, func() host.Store) {
		path := filepath.Join(t.TempDir(), "lendgate.db")
		open := func() host.Store {
			s, err := host.OpenBoltStore(path)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		return open(), open
	}})
}

func TestStoreDriverPostgres(t *testing.T) {
	storetest.Run(t, storetest.Driver{Shared: true, Open: func(t *testing.T) (host.Store, func() host.Store) {
		dsn := testserver.SharedPostgres(t)
		open := func() host.Store {
			s, err := host.OpenPostgresStore(t.Context(), dsn)
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
			s, err := host.OpenPostgresStore(t.Context(), dsn)
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
			s, err := host.OpenPostgresStore(ctx, tt.dsn)
			if err == nil {
				s.Close()
				t.Fatal("OpenPostgresStore succeeded")
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

func TestStoreDriverBoltCorruptFileIsNamed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("this is not a bolt file\n", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := host.OpenBoltStore(path)
	if err == nil {
		s.Close()
		t.Fatal("OpenBoltStore accepted a corrupt file")
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name %s", err, path)
	}
}

func TestStoreDriverBoltUnwritableDirectoryIsNamed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	if f, err := os.Create(filepath.Join(dir, "probe")); err == nil {
		// root writes to a read-only directory: use one the kernel refuses
		// even to root.
		f.Close()
		dir = "/sys"
		if _, err := os.Stat(dir); err != nil {
			t.Skip("running as root without /sys: no unwritable directory to try")
		}
	}
	path := filepath.Join(dir, "lendgate-journal.db")
	s, err := host.OpenBoltStore(path)
	if err == nil {
		s.Close()
		os.Remove(path)
		t.Fatalf("OpenBoltStore opened %s in an unwritable directory", path)
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name %s", err, path)
	}
}
