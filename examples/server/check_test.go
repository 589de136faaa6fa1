package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/internal/testbin"
)

const fakePluginPkg = "github.com/lendgate/lendgate/internal/testplugins/fakeplugin"

// checkDir lays out a deployment: dir/bin/fake (the fake plugin) and
// dir/lendgate.json from config, where PIN stands for the binary's sha256
// and the plugin path is relative. It returns the config's path.
func checkDir(t *testing.T, config string) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin", "fake")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(testbin.Build(t, fakePluginPkg, ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	config = strings.ReplaceAll(config, "PIN", testbin.SHA256(t, bin))
	path := filepath.Join(dir, "lendgate.json")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const goodConfig = `{
  "api_keys": ["k"], "secret": "env:LG_CHECK_SECRET",
  "store": {"driver": "bolt", "dsn": "./lendgate.db"},
  "plugins": {"fake": {"path": "./bin/fake", "sha256": "PIN"}},
  "providers": {"fake-a": {"plugin": "fake", "settings": {"password": "env:LG_CHECK_PASSWORD"}}}
}`

func runCheck(t *testing.T, path string) (bool, string) {
	t.Helper()
	var out bytes.Buffer
	ok := check(t.Context(), path, &out)
	return ok, out.String()
}

// TestCheckPassesAGoodConfig: a config whose binary matches its pin and
// whose plugin configures its instance passes, from any working directory,
// and the journal is not created.
func TestCheckPassesAGoodConfig(t *testing.T) {
	t.Setenv("LG_CHECK_SECRET", checkSecret)
	t.Setenv("LG_CHECK_PASSWORD", "pw-check-secret")
	path := checkDir(t, goodConfig)
	t.Chdir(t.TempDir())
	ok, out := runCheck(t, path)
	if !ok {
		t.Fatalf("check failed a good config:\n%s", out)
	}
	for _, want := range []string{"matches its pin", "plugin fake: started, speaks protocol 1", "provider fake-a: configured and healthy", "result: ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "pw-check-secret") {
		t.Errorf("the report shows a secret:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "lendgate.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("check opened the journal (%v)", err)
	}
}

// TestCheckFailsWhatAStartWouldMeet: each fault fails the check with a line
// that names it.
func TestCheckFailsWhatAStartWouldMeet(t *testing.T) {
	t.Setenv("LG_CHECK_SECRET", checkSecret)
	t.Setenv("LG_CHECK_PASSWORD", "pw")
	tests := []struct {
		name, config, want string
	}{
		{"unknown key", strings.Replace(goodConfig, `"api_keys"`, `"api_kyes"`, 1), `unknown key "api_kyes"`},
		{"unset variable", strings.Replace(goodConfig, "LG_CHECK_PASSWORD", "LG_CHECK_UNSET", 1), "LG_CHECK_UNSET is not set"},
		{"wrong pin", strings.Replace(goodConfig, `"PIN"`, `"`+strings.Repeat("ab", 32)+`"`, 1), "sha256 mismatch: pinned abab"},
		{"missing binary", strings.Replace(goodConfig, "./bin/fake", "./bin/gone", 1), "relative paths are relative to the config file's directory"},
		{"configure refused", strings.Replace(goodConfig, `"password"`, `"fail_configure": "true", "password"`, 1), "configure refused for fake-a"},
		{"no secret", strings.Replace(goodConfig, `"secret": "env:LG_CHECK_SECRET",`, "", 1), "secret is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, out := runCheck(t, checkDir(t, tc.config))
			if ok {
				t.Fatalf("check passed:\n%s", out)
			}
			if !strings.Contains(out, tc.want) || !strings.Contains(out, "FAIL") || !strings.Contains(out, "result: FAIL") {
				t.Fatalf("report does not say %q:\n%s", tc.want, out)
			}
		})
	}
}

// TestCheckFlagExitCode: the server binary with -check exits 0 on a good
// config and 1 on a bad one, without serving.
func TestCheckFlagExitCode(t *testing.T) {
	t.Setenv("LG_CHECK_SECRET", checkSecret)
	t.Setenv("LG_CHECK_PASSWORD", "pw")
	server := testbin.Build(t, "github.com/lendgate/lendgate/examples/server", "")
	for config, want := range map[string]int{
		goodConfig: 0,
		strings.Replace(goodConfig, `"PIN"`, `"`+strings.Repeat("00", 32)+`"`, 1): 1,
	} {
		ctx, cancel := context.WithTimeout(t.Context(), checkTimeout+30*time.Second)
		cmd := exec.CommandContext(ctx, server, "-check", "-config", checkDir(t, config))
		out, err := cmd.CombinedOutput()
		cancel()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("running -check: %v\n%s", err, out)
		}
		if code != want {
			t.Errorf("exit code %d, want %d:\n%s", code, want, out)
		}
	}
}

// checkSecret is long enough for the host's 32-byte minimum.
const checkSecret = "check-secret-0123456789abcdef0123456789"
