package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
)

// builder compiles the plugins the benchmark runs into a temporary
// directory, as internal/testbin does for tests.
type builder struct {
	dir string
	n   int
}

func newBuilder() (*builder, error) {
	d, err := os.MkdirTemp("", "lendgate-bench-")
	if err != nil {
		return nil, err
	}
	return &builder{dir: d}, nil
}

// build compiles the main package pkg with optional -ldflags.
func (b *builder) build(pkg, ldflags string) (string, error) {
	b.n++
	out := filepath.Join(b.dir, filepath.Base(pkg)+"-"+strconv.Itoa(b.n))
	args := []string{"build", "-o", out}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	args = append(args, pkg)
	cmd := exec.Command(goTool(), args...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s (run the benchmark from inside the lendgate module): %v\n%s", pkg, err, msg)
	}
	return out, nil
}

func (b *builder) cleanup() { os.RemoveAll(b.dir) }

func goTool() string {
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
