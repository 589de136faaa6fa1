package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lendgate/lendgate/internal/gobuild"
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
	// In the lendgate module, whose go.sum has the plugins' dependencies.
	if err := gobuild.Build(lendgateDir(), out, pkg, ldflags); err != nil {
		return "", fmt.Errorf("%w\n(run the benchmark with `go run -C examples/bench .` from the repository)", err)
	}
	return out, nil
}

// lendgateDir is the lendgate module's directory: the benchmark is a module
// of its own that builds lendgate's plugins and writes its report into
// lendgate's docs. "." when the go command cannot say.
func lendgateDir() string {
	out, err := exec.Command(gobuild.Tool(), "list", "-m", "-f", "{{.Dir}}", "github.com/lendgate/lendgate").Output()
	if d := strings.TrimSpace(string(out)); err == nil && d != "" {
		return d
	}
	return "."
}

func (b *builder) cleanup() { os.RemoveAll(b.dir) }
