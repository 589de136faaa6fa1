package host

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// newPrivateImage makes the private copy in memory: a memfd, executed as
// /proc/self/fd/N (the child resolves that path to the inherited fd before
// close-on-exec shuts it). Where memfd_create or /proc is unavailable (old
// kernels, seccomp, no /proc mount) it falls back to the temp directory.
func newPrivateImage(plugin string) (*pluginBinary, *os.File, error) {
	fd, err := unix.MemfdCreate("lendgate-plugin-"+plugin, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return newTempImage(plugin)
	}
	f := os.NewFile(uintptr(fd), "lendgate-plugin-"+plugin)
	path := fmt.Sprintf("/proc/self/fd/%d", fd)
	if _, err := os.Stat(path); err != nil {
		f.Close()
		return newTempImage(plugin)
	}
	return &pluginBinary{execPath: path, file: f}, f, nil
}

// sealImage forbids every later change to the memfd's content.
func sealImage(f *os.File) error {
	_, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_SEAL|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE)
	return err
}
