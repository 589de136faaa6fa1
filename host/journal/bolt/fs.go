package bolt

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// logFS is what the store keeps its write-ahead log in and how it makes
// a directory's entries durable: the operating system's (osFS), or, in
// tests, one that records every write and sync to build the states a
// crash could leave.
type logFS interface {
	// OpenLog opens the log at path for reading and writing; when create
	// is false a missing file is an error satisfying errors.Is(err,
	// fs.ErrNotExist).
	OpenLog(path string, create bool) (logFile, error)
	// Rename moves a file; the caller syncs the directory.
	Rename(from, to string) error
	// SyncDir syncs a directory, so that the files created or renamed in
	// it survive a crash.
	SyncDir(dir string) error
}

// logFile is the log's file: written at offsets only (its size never
// changes once preallocated), and synced by Datasync.
type logFile interface {
	io.ReaderAt
	io.WriterAt
	// Datasync flushes the file's data to the disk.
	Datasync() error
	Size() (int64, error)
	Close() error
	Name() string
}

// osFS is the operating system's file system.
type osFS struct{}

func (osFS) OpenLog(path string, create bool) (logFile, error) {
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE
	}
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Rename(from, to string) error { return os.Rename(from, to) }

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}

// osFile is an *os.File as a logFile.
type osFile struct{ *os.File }

func (f osFile) Datasync() error { return datasync(f.File) }

func (f osFile) Size() (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// exists says whether path names a file (an error other than its absence
// is returned).
func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// syncParent syncs the directory holding path.
func syncParent(fsys logFS, path string) error {
	return fsys.SyncDir(filepath.Dir(path))
}
