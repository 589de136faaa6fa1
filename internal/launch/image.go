package launch

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// Image is the private copy of a plugin binary: the bytes read once from
// the configured path, hashed while they were copied, checked against the
// pin, and executed from the copy. The path is never opened again after the
// check, so a binary renamed over it between the hash and the start cannot
// run (api.md §7). Start runs an Image; crash restarts run the same one.
type Image struct {
	// execPath is what the host executes: /proc/self/fd/N of a sealed
	// memfd on Linux, else a file in a 0700 directory of the host's own.
	execPath string
	sha256   string
	file     *os.File // the memfd, kept open while the copy is in use
	dir      string   // the private directory of the fallback
	once     sync.Once
}

// CopyOptions are the test hooks of Copy.
type CopyOptions struct {
	// AfterHash, when set, runs once the binary at path has been read and
	// hashed and before anything is executed: where a host that executes
	// the path would have its window between hash and start.
	AfterHash func(path string)
	// NoMemfd makes the portable copy in a temp directory even on Linux.
	NoMemfd bool
}

// Copy makes the private copy of the binary at path for the plugin named
// name and checks it against pin (a hex SHA-256, any case) when pin is not
// empty. The error names both hashes on a mismatch.
func Copy(name, path, pin string, o CopyOptions) (*Image, error) {
	src, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	if st, err := src.Stat(); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	h := sha256.New()
	write := writeImage
	if o.NoMemfd {
		write = writeTempImage
	}
	b, err := write(name, io.TeeReader(src, h))
	if err != nil {
		return nil, fmt.Errorf("copying %s: %w", path, err)
	}
	b.sha256 = hex.EncodeToString(h.Sum(nil))
	if pin != "" {
		if want := strings.ToLower(pin); want != b.sha256 {
			b.Remove()
			return nil, fmt.Errorf("sha256 mismatch: configured %s, binary %s has %s", want, path, b.sha256)
		}
	}
	if o.AfterHash != nil {
		o.AfterHash(path)
	}
	return b, nil
}

// SHA256 is the hex SHA-256 of the copied bytes.
func (b *Image) SHA256() string { return b.sha256 }

// writeTempImage is the portable private copy: a read-only file in a fresh
// directory that only the host's user can enter (os.MkdirTemp makes it
// 0700), removed with the copy.
func writeTempImage(plugin string, r io.Reader) (*Image, error) {
	dir, err := os.MkdirTemp("", "lendgate-plugin-")
	if err != nil {
		return nil, err
	}
	b := &Image{execPath: filepath.Join(dir, "lendgate-plugin-"+plugin), dir: dir}
	// No fork may happen while the copy is open for writing: a child forked
	// then holds the descriptor until its own exec, and the copy's exec
	// would fail with "text file busy" (golang/go#22315). Forks take
	// syscall.ForkLock for writing.
	syscall.ForkLock.RLock()
	err = writeFile(b.execPath, r)
	syscall.ForkLock.RUnlock()
	if err == nil {
		err = os.Chmod(b.execPath, 0o500)
	}
	if err != nil {
		b.Remove()
		return nil, err
	}
	return b, nil
}

func writeFile(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o700)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Remove releases the copy. The running process keeps its own reference
// to the executable, so this is safe once it has started. A nil Image is
// fine.
func (b *Image) Remove() {
	if b == nil {
		return
	}
	b.once.Do(func() {
		// Errors are left: there is nothing to do about them, and the
		// copy is the host's own.
		if b.file != nil {
			_ = b.file.Close()
		}
		if b.dir != "" {
			_ = os.RemoveAll(b.dir)
		}
	})
}

// Path is where the copy is executed from: /proc/self/fd/N of the memfd, or
// the file in the private directory.
func (b *Image) Path() string { return b.execPath }
