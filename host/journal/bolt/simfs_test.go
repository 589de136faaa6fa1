package bolt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// simFS is a logFS in memory that records, once started, every write and
// every sync of its files (and bolt's commits, through note), in the
// order they happened: the crash simulation builds from them the states
// a crash could leave.
type simFS struct {
	mu        sync.Mutex
	files     map[string][]byte
	recording bool
	ops       []simOp
}

type simOpKind int

const (
	simWrite  simOpKind = iota
	simSync             // a Datasync returned: every write before it is on disk
	simCommit           // bolt committed a pass; snap is the file as committed
)

type simOp struct {
	kind simOpKind
	off  int64
	b    []byte
	pass uint64 // simCommit
	snap []byte // simCommit
}

func newSimFS() *simFS { return &simFS{files: map[string][]byte{}} }

func (s *simFS) OpenLog(path string, create bool) (logFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.files[path]; !ok {
		if !create {
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
		}
		s.files[path] = nil
	}
	return &simFile{fs: s, name: path}, nil
}

func (s *simFS) Rename(from, to string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[to] = s.files[from]
	delete(s.files, from)
	return nil
}

func (s *simFS) SyncDir(string) error { return nil }

// start begins recording; mark is how many operations were recorded so far.
func (s *simFS) start() { s.mu.Lock(); s.recording = true; s.mu.Unlock() }
func (s *simFS) stop()  { s.mu.Lock(); s.recording = false; s.mu.Unlock() }
func (s *simFS) mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ops)
}

// note records a commit of bolt's.
func (s *simFS) note(pass uint64, snap []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recording {
		s.ops = append(s.ops, simOp{kind: simCommit, pass: pass, snap: snap})
	}
}

func (s *simFS) file(path string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.files[path])
}

type simFile struct {
	fs     *simFS
	name   string
	closed bool
}

var errSimClosed = errors.New("sim file closed")

func (f *simFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	b := f.fs.files[f.name]
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *simFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return 0, errSimClosed
	}
	b := f.fs.files[f.name]
	if end := off + int64(len(p)); end > int64(len(b)) {
		b = append(b, make([]byte, end-int64(len(b)))...)
	}
	copy(b[off:], p)
	f.fs.files[f.name] = b
	if f.fs.recording {
		f.fs.ops = append(f.fs.ops, simOp{kind: simWrite, off: off, b: slices.Clone(p)})
	}
	return len(p), nil
}

func (f *simFile) Datasync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return errSimClosed
	}
	if f.fs.recording {
		f.fs.ops = append(f.fs.ops, simOp{kind: simSync})
	}
	return nil
}

func (f *simFile) Size() (int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return int64(len(f.fs.files[f.name])), nil
}

func (f *simFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	f.closed = true
	return nil
}

func (f *simFile) Name() string { return f.name }

// dirFS is the operating system's logFS, recording every call.
type dirFS struct {
	osFS
	mu    sync.Mutex
	calls []string
}

func (d *dirFS) add(format string, args ...any) {
	d.mu.Lock()
	d.calls = append(d.calls, fmt.Sprintf(format, args...))
	d.mu.Unlock()
}

func (d *dirFS) OpenLog(path string, create bool) (logFile, error) {
	f, err := d.osFS.OpenLog(path, create)
	if err == nil && create {
		d.add("create %s", filepath.Base(path))
	}
	return f, err
}

func (d *dirFS) Rename(from, to string) error {
	d.add("rename %s %s", filepath.Base(from), filepath.Base(to))
	return d.osFS.Rename(from, to)
}

func (d *dirFS) SyncDir(dir string) error {
	var present []string // what the sync makes durable
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		present = append(present, e.Name())
	}
	d.add("syncdir [%s]", strings.Join(present, " "))
	return d.osFS.SyncDir(dir)
}

// The directory is synced once the files of a new journal exist (bolt's
// and its log), before the open commits; and after a recovery moved the
// damaged log aside and created a new one.
func TestDirectorySyncedAfterCreateAndRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "j.db")
	d := &dirFS{}
	o := sized(walSize, time.Hour)
	o.fs = d
	s, err := open(path, o)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"create j.db-wal", "syncdir [j.db j.db-wal]"}
	if !slices.Equal(d.calls, want) {
		t.Fatalf("calls %q, want %q", d.calls, want)
	}
	if err := s.PutLoan(context.Background(), pendingLoanOf("ln_1", "p1")); err != nil {
		t.Fatal(err)
	}
	at := s.log.base(s.log.epoch) + 30
	crash(t, s)
	flipBit(t, walPath(path), at)
	d.calls = nil
	var rec Recovery
	o.recovery = &rec
	s, err = open(path, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	moved := filepath.Base(rec.MovedTo)
	want = []string{"rename j.db-wal " + moved, "create j.db-wal", "syncdir [j.db j.db-wal " + moved + "]"}
	if !slices.Equal(d.calls, want) {
		t.Fatalf("calls %q, want %q", d.calls, want)
	}
}
