// Package testserver starts real PostgreSQL and Redis servers, from the
// distribution's packages, for tests: a fresh database or a private Redis
// per test, on a loopback port, removed when the test (or, for a shared
// server, the test binary) ends.
//
// A missing server binary skips the test, naming the Debian package to
// install; under CI (CI=true) it fails the test instead, so a CI machine
// without the packages cannot pass by skipping.
package testserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// missingError is a server binary that is not installed.
type missingError struct {
	what  string // the binaries looked for
	pkg   string // the Debian package that has them
	where string
}

func (e *missingError) Error() string {
	return fmt.Sprintf("testserver: %s not found (looked in %s): install the package %s (apt-get install -y %s)",
		e.what, e.where, e.pkg, e.pkg)
}

// fail ends t for err: a skip for a missing binary outside CI, a failure
// otherwise.
func fail(t testing.TB, err error) {
	t.Helper()
	var m *missingError
	if errors.As(err, &m) && os.Getenv("CI") != "true" {
		t.Skipf("%v", err)
	}
	if errors.As(err, &m) {
		t.Fatalf("%v (CI=true: a missing server fails the run)", err)
	}
	t.Fatalf("%v", err)
}

// freePort returns a loopback TCP port that was free a moment ago. A server
// that then fails to bind it is started again on another port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("testserver: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// reaper is a shell that runs a cleanup script when this process lets go of
// its standard input: at fire, or when the test binary exits however it
// exits (a panic, a timeout, kill -9), so that no server outlives its tests.
// It runs in its own process group, so a ^C to the test does not kill it
// before it has cleaned up.
type reaper struct {
	mu  sync.Mutex
	w   *os.File
	cmd *exec.Cmd
	err error
}

// startReaper starts script, to run at fire (or exit) unless disarmed, as
// account as (nil: this process's user) in dir.
func startReaper(dir string, as *account, script string) (*reaper, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("testserver: reaper pipe: %w", err)
	}
	cmd := exec.Command("/bin/sh", "-c", `read x; if [ "$x" != disarm ]; then `+script+`; fi`)
	cmd.Dir = dir
	cmd.Stdin = r
	detach(cmd)
	as.apply(cmd)
	err = cmd.Start()
	r.Close()
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("testserver: starting reaper: %w", err)
	}
	return &reaper{w: w, cmd: cmd}, nil
}

// fire runs the cleanup script now and waits for it (bounded).
func (r *reaper) fire() error { return r.end("") }

// disarm ends the reaper without running its script.
func (r *reaper) disarm() error { return r.end("disarm\n") }

func (r *reaper) end(msg string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w == nil {
		return r.err
	}
	if msg != "" {
		io.WriteString(r.w, msg)
	}
	r.w.Close()
	r.w = nil
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			r.err = fmt.Errorf("testserver: cleanup script: %w", err)
		}
	case <-time.After(60 * time.Second):
		r.err = errors.New("testserver: cleanup script still running after 60s")
	}
	return r.err
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// cleanEnv is this process's environment less the libpq variables that
// would point a client or server elsewhere.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// tail returns the last n bytes of s, for error messages.
func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// Cleanup stops the shared servers now (a TestMain may call it after m.Run);
// without it they stop when the test binary exits.
func Cleanup() {
	sharedPG.mu.Lock()
	s := sharedPG.s
	sharedPG.s, sharedPG.err, sharedPG.started = nil, nil, false
	sharedPG.mu.Unlock()
	if s != nil {
		s.stop()
	}
}
