package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
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
	// In the lendgate module, whose go.sum has the plugins' dependencies.
	cmd.Dir = lendgateDir()
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s (run the benchmark with `go run -C examples/bench .` from the repository): %v\n%s", pkg, err, msg)
	}
	return out, nil
}

// lendgateDir is the lendgate module's directory: the benchmark is a module
// of its own that builds lendgate's plugins and writes its report into
// lendgate's docs. "." when the go command cannot say.
func lendgateDir() string {
	out, err := exec.Command(goTool(), "list", "-m", "-f", "{{.Dir}}", "github.com/lendgate/lendgate").Output()
	if d := strings.TrimSpace(string(out)); err == nil && d != "" {
		return d
	}
	return "."
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
