package bolt_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/bolt"
	"github.com/lendgate/lendgate/host/journal/journaltest"
)

func TestSuite(t *testing.T) {
	journaltest.Run(t, journaltest.Driver{Open: func(t *testing.T) (journal.Store, func() journal.Store) {
		path := filepath.Join(t.TempDir(), "lendgate.db")
		open := func() journal.Store {
			s, err := bolt.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		return open(), open
	}})
}

func TestStoreDriverBoltCorruptFileIsNamed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("this is not a bolt file\n", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := bolt.Open(path)
	if err == nil {
		s.Close()
		t.Fatal("Open accepted a corrupt file")
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
	s, err := bolt.Open(path)
	if err == nil {
		s.Close()
		os.Remove(path)
		t.Fatalf("Open opened %s in an unwritable directory", path)
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name %s", err, path)
	}
}
