package launch

import (
	"golang.org/x/sys/unix"
)

// exitNotifier returns a channel closed when process pid exits, and a func
// that releases it. On Linux a pidfd tells at once, without reaping the
// process (go-plugin reaps it), so calls stop going to a dead plugin within
// microseconds instead of a polling interval.
func exitNotifier(pid int) (<-chan struct{}, func()) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, func() {}
	}
	done := make(chan struct{})
	// A self-pipe lets release wake the poll.
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		unix.Close(fd)
		return nil, func() {}
	}
	go func() {
		defer unix.Close(fd)
		defer unix.Close(pipe[0])
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(pipe[0]), Events: unix.POLLIN}}
		for {
			_, err := unix.Poll(fds, -1)
			if err == unix.EINTR {
				continue
			}
			if err == nil && fds[0].Revents != 0 {
				close(done)
			}
			return
		}
	}()
	return done, func() {
		unix.Write(pipe[1], []byte{0})
		unix.Close(pipe[1])
	}
}
