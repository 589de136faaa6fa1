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
	b, dst, err := newPrivateImage(plugin)
	if err != nil {
		return nil, fmt.Errorf("making a private copy of the binary: %w", err)
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(dst, h), src)
	if err == nil {
		err = b.finish(dst)
	}
	if err != nil {
		b.remove()
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

// newTempImage is the portable private copy: a file in a fresh directory
// that only the host's user can enter (os.MkdirTemp makes it 0700).
func newTempImage(plugin string) (*pluginBinary, *os.File, error) {
	dir, err := os.MkdirTemp("", "lendgate-plugin-")
	if err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, "lendgate-plugin-"+plugin)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o700)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return &pluginBinary{execPath: path, dir: dir}, f, nil
}

// finish ends the copy written to dst: the fallback's file is closed (a
// file still open for writing cannot be executed) and made read-only; the
// memfd is sealed against any change and kept open.
func (b *pluginBinary) finish(dst *os.File) error {
	if b.file == nil {
		if err := dst.Close(); err != nil {
			return err
		}
		return os.Chmod(b.execPath, 0o500)
	}
	return sealImage(b.file)
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
