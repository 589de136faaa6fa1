package bolt

import (
	"os"
	"syscall"
)

// datasync flushes f's data (not its times: the pending log's size never
// changes after it is preallocated).
func datasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
