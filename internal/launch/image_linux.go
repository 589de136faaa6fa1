package launch

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// writeImage makes the private copy in memory: a memfd, sealed against any
// change once written, executed as /proc/self/fd/N (the child resolves
// that path to the inherited descriptor before close-on-exec shuts it).
// Where memfd_create or /proc is unavailable (old kernels, seccomp, no /proc
// mount) it falls back to a temp directory.
func writeImage(plugin string, r io.Reader) (*Image, error) {
	fd, err := unix.MemfdCreate("lendgate-plugin-"+plugin, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return writeTempImage(plugin, r)
	}
	f := os.NewFile(uintptr(fd), "lendgate-plugin-"+plugin)
	b := &Image{execPath: fmt.Sprintf("/proc/self/fd/%d", fd), file: f}
	if _, err := os.Stat(b.execPath); err != nil {
		b.Remove()
		return writeTempImage(plugin, r)
	}
	if _, err := io.Copy(f, r); err != nil {
		b.Remove()
		return nil, err
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_SEAL|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE); err != nil {
		b.Remove()
		return nil, fmt.Errorf("sealing the copy: %w", err)
	}
	return b, nil
}
