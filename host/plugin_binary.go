package host

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

// pluginBinary is the host's private copy of a plugin binary: the bytes read
// once from the configured path, hashed while they were copied, checked
// against the pin, and executed from the copy. The path is never opened
// again after the check, so a binary renamed over it between the hash and
// the start cannot run (api.md §7).
type pluginBinary struct {
	// execPath is what the host executes: /proc/self/fd/N of a sealed
	// memfd on Linux, else a file in a 0700 directory of the host's own.
	execPath string
	sha256   string
	file     *os.File // the memfd, kept open while the copy is in use
	dir      string   // the private directory of the fallback
	once     sync.Once
}

// afterPluginHash, when set (tests only), runs once the binary at path has
// been read and hashed and before anything is executed: where the host of
// old had its window between hash and start.
var afterPluginHash func(path string)

// copyPluginBinary makes the private copy of cfg.Path and checks it against
// cfg.SHA256 when there is one. The error names both hashes on a mismatch.
func copyPluginBinary(plugin string, cfg PluginConfig) (*pluginBinary, error) {
	src, err := os.Open(cfg.Path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	if st, err := src.Stat(); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", cfg.Path)
	}
	h := sha256.New()
	b, err := writeImage(plugin, io.TeeReader(src, h))
	if err != nil {
		return nil, fmt.Errorf("copying %s: %w", cfg.Path, err)
	}
	b.sha256 = hex.EncodeToString(h.Sum(nil))
	if cfg.SHA256 != "" {
		if want := strings.ToLower(cfg.SHA256); want != b.sha256 {
			b.remove()
			return nil, fmt.Errorf("sha256 mismatch: configured %s, binary %s has %s", want, cfg.Path, b.sha256)
		}
	}
	if afterPluginHash != nil {
		afterPluginHash(cfg.Path)
	}
	return b, nil
}

// writeTempImage is the portable private copy: a read-only file in a fresh
// directory that only the host's user can enter (os.MkdirTemp makes it
// 0700), removed with the copy.
func writeTempImage(plugin string, r io.Reader) (*pluginBinary, error) {
	dir, err := os.MkdirTemp("", "lendgate-plugin-")
	if err != nil {
		return nil, err
	}
	b := &pluginBinary{execPath: filepath.Join(dir, "lendgate-plugin-"+plugin), dir: dir}
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
		b.remove()
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

// remove releases the copy. The running process keeps its own reference
// to the executable, so this is safe once it has started.
func (b *pluginBinary) remove() {
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
