// Package testbin builds the repository's programs (plugins, servers) for
// tests that need real processes, once per test binary and build flags.
package testbin

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/lendgate/lendgate/internal/gobuild"
)

// The repository's programs that tests run as real processes.
const (
	CB       = "github.com/lendgate/lendgate/plugins/cb"
	Demarque = "github.com/lendgate/lendgate/plugins/demarque"
	EHub     = "github.com/lendgate/lendgate/plugins/ehub"
	Server   = "github.com/lendgate/lendgate/examples/server"
)

var (
	mu    sync.Mutex
	dir   string
	built = map[string]string{}
)

// The example third-party plugin, a module of its own beside this one
// (examples/thirdparty): its plugin and its simulator's command, built in
// that module with BuildIn(tb, ThirdPartyDir(tb), …).
const (
	Acme    = "example.com/acme-lending"
	AcmeSim = "example.com/acme-lending/cmd/acmesim"
)

// ThirdPartyDir is the directory of the example third-party module.
func ThirdPartyDir(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("testbin: cannot tell where the repository is")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "examples", "thirdparty")
}

// Build compiles the main package pkg (an import path, e.g.
// "github.com/lendgate/lendgate/plugins/demarque") with optional -ldflags and
// returns the binary's path. Binaries live until the test process exits.
func Build(tb testing.TB, pkg string, ldflags string) string {
	tb.Helper()
	return build(tb, "", pkg, ldflags)
}

// BuildIn is Build for a main package of the module in dir.
func BuildIn(tb testing.TB, dir, pkg string) string {
	tb.Helper()
	return build(tb, dir, pkg, "")
}

func build(tb testing.TB, moduleDir, pkg string, ldflags string) string {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	key := moduleDir + "\x00" + pkg + "\x00" + ldflags
	if p, ok := built[key]; ok {
		return p
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "lendgate-testbin-")
		if err != nil {
			tb.Fatalf("temp dir: %v", err)
		}
		dir = d
	}
	sum := sha256.Sum256([]byte(key))
	out := filepath.Join(dir, filepath.Base(pkg)+"-"+hex.EncodeToString(sum[:4]))
	if err := gobuild.Build(moduleDir, out, pkg, ldflags); err != nil {
		tb.Fatal(err)
	}
	built[key] = out
	return out
}

// Copy copies the binary at src to a new file in a test's temp dir, for tests
// that alter or remove a binary.
func Copy(tb testing.TB, src string) string {
	tb.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	dst := filepath.Join(tb.TempDir(), filepath.Base(src))
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dst
}

// SHA256 returns the hex SHA-256 of the file at path.
func SHA256(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// GoTool returns the path of the go command that runs the tests.
func GoTool() string { return gobuild.Tool() }

// Cleanup removes the binaries; call it from TestMain after m.Run.
func Cleanup() {
	mu.Lock()
	defer mu.Unlock()
	if dir != "" && strings.Contains(dir, "lendgate-testbin-") {
		os.RemoveAll(dir)
	}
	dir = ""
	built = map[string]string{}
}

// Main is the TestMain of a package whose tests build with testbin: it runs
// m, removes the binaries, runs also (testserver.Cleanup, …) and exits with
// m's code.
func Main(m *testing.M, also ...func()) {
	code := m.Run()
	Cleanup()
	for _, f := range also {
		f()
	}
	os.Exit(code)
}
