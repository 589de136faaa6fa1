package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host/journal/memory"
	"github.com/lendgate/lendgate/internal/testbin"
)

const fakePluginPkg = "github.com/lendgate/lendgate/internal/testplugins/fakeplugin"

// exeSHA256 hashes what process pid executes, read through /proc.
func exeSHA256(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		t.Fatalf("reading the plugin's executable: %v", err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// putBinary renames a copy of src over dst, as a deployment (or an
// attacker with write access to the directory) would.
func putBinary(t *testing.T, dst, src string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := dst + ".next"
	if err := os.WriteFile(tmp, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

// swapAfterHash makes the next hash of a plugin binary be followed at once
// by src renamed over the hashed path: the window between the check and
// the start.
func swapAfterHash(t *testing.T, src string) {
	t.Helper()
	afterPluginHash = func(path string) {
		afterPluginHash = nil
		putBinary(t, path, src)
	}
	t.Cleanup(func() { afterPluginHash = nil })
}

func pinTestHost(t *testing.T, pc PluginConfig) *Host {
	t.Helper()
	h, err := New(context.Background(), Config{Secret: "secret-for-pin-tests-0123456789abcdef", StoreImpl: memory.New(),
		Logger:    hclog.NewNullLogger(),
		Plugins:   map[string]PluginConfig{"fake": pc},
		Providers: map[string]ProviderConfig{"fake-a": {Plugin: "fake"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// runningPlugin checks that the plugin is up and that the hash it reports
// is the hash of what its process executes, and returns its status.
func runningPlugin(t *testing.T, h *Host) PluginStatus {
	t.Helper()
	p, err := h.Provider(context.Background(), "fake-a")
	if err != nil || !p.Plugin.Up {
		t.Fatalf("plugin not up: %+v %v", p.Plugin, err)
	}
	if got := exeSHA256(t, p.Plugin.PID); got != p.Plugin.SHA256 {
		t.Fatalf("the process runs %s, /v1/providers reports %s", got, p.Plugin.SHA256)
	}
	return p.Plugin
}

// TestWhatRunsIsWhatWasHashed renames another build over the plugin's path
// right after the host hashed it, at start, at a crash restart and at a
// reload: the process always runs the hashed bytes, and the hash the host
// reports is that of the running executable (api.md §7).
func TestWhatRunsIsWhatWasHashed(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/PID/exe")
	}
	v1 := testbin.Build(t, fakePluginPkg, "-X main.version=1.0.0")
	v2 := testbin.Build(t, fakePluginPkg, "-X main.version=2.0.0")
	v3 := testbin.Build(t, fakePluginPkg, "-X main.version=3.0.0")
	sum1, sum2 := testbin.SHA256(t, v1), testbin.SHA256(t, v2)
	for _, pinnedStart := range []bool{true, false} {
		name := map[bool]string{true: "pinned", false: "unpinned"}[pinnedStart]
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "lendgate-plugin-fake")
			putBinary(t, path, v1)
			pc := PluginConfig{Path: path, SHA256: sum1}
			if !pinnedStart {
				pc = PluginConfig{Path: path, Unpinned: true}
			}
			swapAfterHash(t, v2)
			h := pinTestHost(t, pc)
			st := runningPlugin(t, h)
			if st.Version != "1.0.0" || st.SHA256 != sum1 || st.Pinned != pinnedStart {
				t.Fatalf("start: %+v, want version 1.0.0 with sha256 %s, pinned %v", st, sum1, pinnedStart)
			}

			// A crash restart runs the copy it checked, not what the path
			// holds now (v2, put there after the hash).
			p := h.plugins["fake"]
			p.mu.Lock()
			g := p.cur.Load()
			p.mu.Unlock()
			if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-g.dead
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a bound, not a measure
			defer cancel()
			ng, err := p.acquire(ctx)
			if err != nil {
				t.Fatalf("after the crash: %v", err)
			}
			ng.release()
			if again := runningPlugin(t, h); again.Version != "1.0.0" || again.SHA256 != sum1 || again.PID == st.PID {
				t.Fatalf("crash restart: %+v, want a new process of version 1.0.0", again)
			}

			// A reload asks for v2 by its hash; v3 renamed over the path
			// right after the hash does not run.
			putBinary(t, path, v2)
			swapAfterHash(t, v3)
			res, err := h.Reload(context.Background(), "fake", ReloadRequest{SHA256: sum2})
			if err != nil {
				t.Fatalf("reload: %v", err)
			}
			if now := runningPlugin(t, h); now.Version != "2.0.0" || now.SHA256 != sum2 || res.New.SHA256 != sum2 || !now.Pinned {
				t.Fatalf("reload: %+v (result %+v), want version 2.0.0 with sha256 %s, pinned", now, res, sum2)
			}
		})
	}
}

// TestPortableCopyRunsTheHashedBytes runs the fallback used where there is
// no memfd: the copy lives in a 0700 directory of the host's own, runs the
// hashed bytes, and is gone once the host is closed.
func TestPortableCopyRunsTheHashedBytes(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/PID/exe")
	}
	memfdImages = false
	t.Cleanup(func() { memfdImages = true })
	v1 := testbin.Build(t, fakePluginPkg, "-X main.version=1.0.0")
	v2 := testbin.Build(t, fakePluginPkg, "-X main.version=2.0.0")
	path := filepath.Join(t.TempDir(), "lendgate-plugin-fake")
	putBinary(t, path, v1)
	swapAfterHash(t, v2)
	h := pinTestHost(t, PluginConfig{Path: path, SHA256: testbin.SHA256(t, v1)})
	if st := runningPlugin(t, h); st.Version != "1.0.0" {
		t.Fatalf("running %+v, want version 1.0.0", st)
	}
	dir := filepath.Dir(h.plugins["fake"].image.Path())
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("the copy's directory %s: %v %v, want mode 0700", dir, info, err)
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the copy's directory is still there after Close: %v", err)
	}
}

// TestNoCallOnAnExitedProcess: between a plugin process's exit and the
// host noticing it, a call must not be handed the dead generation; it waits
// for the restart and gets the new process.
func TestNoCallOnAnExitedProcess(t *testing.T) {
	v1 := testbin.Build(t, fakePluginPkg, "")
	h := pinTestHost(t, PluginConfig{Path: v1, SHA256: testbin.SHA256(t, v1)})
	p := h.plugins["fake"]
	g := p.cur.Load()
	if g == nil {
		t.Fatal("no current generation after start")
	}
	if err := syscall.Kill(g.proc.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The process is gone; the watch may not have run yet.
	<-g.dead
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a bound, not a measure
	defer cancel()
	ng, err := p.acquire(ctx)
	if err != nil {
		t.Fatalf("acquire after the exit: %v", err)
	}
	defer ng.release()
	if ng == g || ng.proc.PID == g.proc.PID {
		t.Fatalf("a call was handed the exited process (pid %d)", g.proc.PID)
	}
}
