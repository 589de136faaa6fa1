package bolt

import (
	"os"
	"syscall"
)

// datasync flushes f's data (not its times: the log's size never changes
// after it is preallocated). It goes through f's raw connection, which
// holds the descriptor for the call, so that a Close meanwhile makes it
// fail rather than sync another file that got the same number.
func datasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.Fdatasync(int(fd)) }); err != nil {
		return err
	}
	return serr
}
