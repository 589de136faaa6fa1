//go:build linux

package systemtest

import (
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/internal/testbin"
)

// TestSIGHUPSwapsAndSIGTERMDrains: SIGHUP re-reads the config and swaps the
// plugin to the binary it names now; SIGTERM lets the server exit cleanly
// with its plugins.
func TestSIGHUPSwapsAndSIGTERMDrains(t *testing.T) {
	s := startSim(t, nil)
	cfg := baseConfig(t, boltStore(t))
	cfg.Providers["cb-main"] = cbInstance(s)
	config := writeConfig(t, cfg)
	srv := startServer(t, "server", config)
	before := srv.provider("cb-main").Plugin
	if before.Version != "1.0.0" {
		t.Fatalf("plugin %+v", before)
	}

	// A new build of the plugin, pinned in the config file.
	v2 := testbin.Build(t, cbPkg, "-X main.version=1.1.0")
	cfg.Plugins["cb"] = host.PluginConfig{Path: v2, SHA256: testbin.SHA256(t, v2)}
	config2 := writeConfig(t, cfg)
	if err := copyFile(config2, config); err != nil {
		t.Fatal(err)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !waitUntil(10*time.Second, func() bool { return srv.provider("cb-main").Plugin.Version == "1.1.0" }) {
		t.Fatalf("after SIGHUP the plugin is %+v, want version 1.1.0", srv.provider("cb-main").Plugin)
	}
	after := srv.provider("cb-main").Plugin
	// The old process drains, then stops.
	if after.PID == before.PID || !waitUntil(10*time.Second, func() bool { return processGone(before.PID) }) {
		t.Errorf("the old plugin process %d still runs after the swap", before.PID)
	}
	if a := srv.do(http.MethodPost, "/v1/providers/cb-main/loans", checkoutBody("9789084999813", "p1"), ""); a.status != http.StatusCreated {
		t.Fatalf("checkout after the swap: %s", a)
	}

	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("the server did not exit on SIGTERM")
	}
	if code := srv.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	if !waitUntil(5*time.Second, func() bool { return processGone(after.PID) }) {
		t.Errorf("plugin process %d survived the server's exit", after.PID)
	}
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o600)
}
