package thirdpartytest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/internal/testbin"
)

// The files of a new plugin's module: a main that imports sdk, and a test
// that imports the conformance kit.
const (
	newPluginMain = `package main

import (
	"log"

	"github.com/lendgate/lendgate/sdk"
)

type provider struct{ sdk.Unimplemented }

func main() {
	if err := sdk.Serve(provider{}); err != nil {
		log.Fatal(err)
	}
}
`
	newPluginTest = `package main

import (
	"testing"

	"github.com/lendgate/lendgate/sdk/sdktest"
)

func TestConformance(t *testing.T) {
	t.Skip("built, not run: the test checks what the module needs")
	sdktest.Run(t, sdktest.Config{Provider: provider{}})
}
`
)

// TestNewPluginTidiesOffline: `go mod tidy` of a new plugin module that
// imports sdk and sdk/sdktest needs no module, and no checksum, beyond
// what this repository's go.mod and go.sum pin: with the repository's
// modules cached, a plugin author works offline (GOPROXY=off, and no
// checksum database to ask). tidy loads the tests of every package the
// plugin builds, so this is what internal/plugindeps keeps in go.mod.
func TestNewPluginTidiesOffline(t *testing.T) {
	goTool := testbin.GoTool()
	if _, err := exec.LookPath(goTool); err != nil {
		t.Skipf("the go command is needed: %v", err)
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "new-plugin")
	gomod := "module example.com/new-plugin\n\ngo 1.26.0\n\nrequire github.com/lendgate/lendgate v0.0.0\n\n" +
		"replace github.com/lendgate/lendgate => " + repo + "\n"
	for name, text := range map[string]string{"go.mod": gomod, "main.go": newPluginMain, "main_test.go": newPluginTest} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gocmd := func(args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goTool, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOTOOLCHAIN=local", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s (offline): %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	gocmd("mod", "tidy")
	gocmd("vet", "./...") // builds the plugin and its test, the kit included

	pinned, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	sums, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, l := range strings.Split(string(pinned), "\n") {
		have[l] = true
	}
	for _, l := range strings.Split(string(sums), "\n") {
		if l != "" && !have[l] {
			t.Errorf("the new plugin's go.sum has %q, which this repository's go.sum does not pin: require its module in go.mod "+
				"(internal/plugindeps) so that a plugin's tidy selects a pinned version", l)
		}
	}
}
