// Package gobuild compiles this module's programs with the go command that
// runs the caller: the one step the tests' binaries (internal/testbin) and
// the benchmark's (examples/bench) share.
package gobuild

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// Build compiles the main package pkg (an import path) with optional
// -ldflags into out, running the go command in dir ("" for the current
// directory). The error carries go build's output.
func Build(dir, out, pkg, ldflags string) error {
	args := []string{"build", "-o", out}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	args = append(args, pkg)
	cmd := exec.Command(Tool(), args...)
	cmd.Dir = dir
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
	}
	return nil
}

// Tool returns the path of the go command: the one of the running
// program's GOROOT, else the one on PATH.
func Tool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
