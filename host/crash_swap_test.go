package host_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/internal/testbin"
)

// load runs clients calling fn until stop is closed or the time bound, and
// returns the codes of every failure.
func load(clients int, bound time.Duration, stop <-chan struct{}, fn func() error) (ok int64, failures []string) {
	var mu sync.Mutex
	var n atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(bound)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				select {
				case <-stop:
					return
				default:
				}
				if err := fn(); err != nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s (%v)", host.CodeOf(err), err))
					mu.Unlock()
					continue
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return n.Load(), failures
}

// unlimited lifts fake-a's rate limit, for tests that load it.
func unlimited(cfg host.Config) host.Config {
	a := cfg.Providers["fake-a"]
	a.Rate = host.RateConfig{PerSecond: 1e6, Burst: 1e6}
	cfg.Providers["fake-a"] = a
	return cfg
}

func TestCrashRestartUnderLoad(t *testing.T) {
	e := start(t, unlimited(fakeConfig(t)))
	ctx := context.Background()
	pid := providerStatus(t, e.h, "fake-a").Plugin.PID
	stop := make(chan struct{})
	var successes atomic.Int64
	done := make(chan struct{})
	var failures []string
	go func() {
		defer close(done)
		_, failures = load(8, 20*time.Second, stop, func() error {
			_, err := e.h.Checkout(ctx, "fake-a", host.CheckoutRequest{Item: isbnOK, Patron: "p1"})
			if err == nil {
				successes.Add(1)
			}
			return err
		})
	}()
	waitFor(t, "traffic before the crash", 10*time.Second, func() bool { return successes.Load() > 50 })
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	before := successes.Load()
	waitFor(t, "a restarted plugin", 10*time.Second, func() bool {
		p := providerStatus(t, e.h, "fake-a")
		return p.Plugin.Up && p.Plugin.PID != pid
	})
	waitFor(t, "traffic after the restart", 10*time.Second, func() bool { return successes.Load() > before+50 })
	close(stop)
	<-done
	// Only the calls in flight at the kill fail (8 clients: at most 8), and
	// only with plugin_unavailable.
	if len(failures) > 8 {
		t.Errorf("%d failures, want at most the 8 calls in flight:\n%s", len(failures), strings.Join(failures, "\n"))
	}
	for _, f := range failures {
		if !strings.HasPrefix(f, "plugin_unavailable") {
			t.Errorf("failure %s, want plugin_unavailable", f)
		}
	}
	p := providerStatus(t, e.h, "fake-a")
	if p.Plugin.Restarts != 1 {
		t.Errorf("restarts %d, want 1", p.Plugin.Restarts)
	}
	if m := e.do("GET", "/metrics", nil, "Authorization", ""); !strings.Contains(string(m.body), `lendgate_plugin_restarts_total{plugin="fake"} 1`) {
		t.Errorf("metrics do not count the restart")
	}
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

func childProcesses(t *testing.T) int {
	self := fmt.Sprint(os.Getpid())
	n := 0
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		// stat: pid (comm) state ppid …
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 1 && f[1] == self && f[0] != "Z" {
			n++
		}
	}
	return n
}

func TestNoLeaksAcrossRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("50 restarts")
	}
	e := start(t, unlimited(fakeConfig(t)))
	ctx := context.Background()
	checkoutOK := func() {
		t.Helper()
		if _, err := e.h.Checkout(ctx, "fake-a", host.CheckoutRequest{Item: isbnOK, Patron: "p1"}); err != nil {
			t.Fatal(err)
		}
	}
	checkoutOK()
	// Settle, then measure after one restart (first-use allocations of
	// gRPC and go-plugin are not leaks).
	kill := func() {
		pid := providerStatus(t, e.h, "fake-a").Plugin.PID
		syscall.Kill(pid, syscall.SIGKILL)
		waitFor(t, "restart", 10*time.Second, func() bool {
			p := providerStatus(t, e.h, "fake-a")
			return p.Plugin.Up && p.Plugin.PID != pid
		})
		checkoutOK()
	}
	kill()
	runtime.GC()
	g0, fd0, ch0 := runtime.NumGoroutine(), openFDs(t), childProcesses(t)
	for range 50 {
		kill()
	}
	// Goroutines of killed connections wind down asynchronously.
	waitFor(t, "goroutines to settle", 10*time.Second, func() bool { return runtime.NumGoroutine() <= g0+5 })
	if fd := openFDs(t); fd > fd0+5 {
		t.Errorf("file descriptors %d → %d across 50 restarts", fd0, fd)
	}
	if ch := childProcesses(t); ch != ch0 {
		t.Errorf("child processes %d → %d across 50 restarts", ch0, ch)
	}
	if r := providerStatus(t, e.h, "fake-a").Plugin.Restarts; r != 51 {
		t.Errorf("restarts %d, want 51", r)
	}
}

func TestHotSwapUnderLoad(t *testing.T) {
	v1 := testbin.Build(t, "github.com/lendgate/lendgate/internal/testplugins/fakeplugin", "-X main.version=1.0.0")
	v2 := testbin.Build(t, "github.com/lendgate/lendgate/internal/testplugins/fakeplugin", "-X main.version=2.0.0")
	cfg := unlimited(fakeConfig(t))
	// The configured path, where each swap's binary is put before the swap
	// asks for it by its hash.
	path := filepath.Join(t.TempDir(), "lendgate-plugin-fake")
	placeBinary(t, path, v1)
	cfg.Plugins["fake"] = pinned(t, path)
	e := start(t, cfg)
	ctx := context.Background()
	stop := make(chan struct{})
	var versions sync.Map
	done := make(chan struct{})
	var failures []string
	var ok int64
	go func() {
		defer close(done)
		ok, failures = load(8, 60*time.Second, stop, func() error {
			l, err := e.h.Checkout(ctx, "fake-a", host.CheckoutRequest{Item: isbnOK, Patron: "p1"})
			if err == nil {
				versions.Store(l.ProviderRef["version"], true)
			}
			return err
		})
	}()
	for i, next := range []string{v2, v1, v2, v1, v2, v1} {
		want := "2.0.0"
		if next == v1 {
			want = "1.0.0"
		}
		time.Sleep(150 * time.Millisecond) // let traffic run on the current version
		placeBinary(t, path, next)
		r := e.do("POST", "/v1/admin/plugins/fake/reload", map[string]any{"sha256": testbin.SHA256(t, next)}, "Authorization", "Bearer "+testAdminKey)
		if r.status != 200 {
			t.Fatalf("swap %d: %d %s", i, r.status, r.body)
		}
		var res host.ReloadResult
		r.json(t, &res)
		if res.New.Version != want || res.Old.PID == res.New.PID {
			t.Errorf("swap %d: %+v", i, res)
		}
		if v := providerStatus(t, e.h, "fake-a").Plugin.Version; v != want {
			t.Errorf("after swap %d /v1/providers shows %s, want %s", i, v, want)
		}
		if processAlive(res.Old.PID) {
			t.Errorf("swap %d: the old plugin process %d is still alive", i, res.Old.PID)
		}
	}
	// Failing swaps leave the running plugin serving.
	running := providerStatus(t, e.h, "fake-a").Plugin
	for _, tt := range []struct {
		name   string
		binary string // put at the configured path first, unless empty
		body   map[string]any
	}{
		{"wrong checksum", v2, map[string]any{"sha256": strings.Repeat("0", 64)}},
		{"not a plugin", "/bin/true", map[string]any{"sha256": testbin.SHA256(t, "/bin/true")}},
		{"a path", "", map[string]any{"path": "/bin/true"}},
	} {
		name := tt.name
		if tt.binary != "" {
			placeBinary(t, path, tt.binary)
		}
		r := e.do("POST", "/v1/admin/plugins/fake/reload", tt.body, "Authorization", "Bearer "+testAdminKey)
		if r.status < 400 {
			t.Errorf("%s: swap answered %d", name, r.status)
		}
		if now := providerStatus(t, e.h, "fake-a").Plugin; now.PID != running.PID || !now.Up {
			t.Errorf("%s: the running plugin changed: %+v → %+v", name, running, now)
		}
	}
	close(stop)
	<-done
	if len(failures) > 0 {
		t.Errorf("%d failed requests during swaps (of %d):\n%s", len(failures), ok, strings.Join(failures[:min(len(failures), 10)], "\n"))
	}
	for _, v := range []string{"1.0.0", "2.0.0"} {
		if _, seen := versions.Load(v); !seen {
			t.Errorf("no answer from version %s", v)
		}
	}
	if ok < 100 {
		t.Errorf("only %d successful calls: the load did not run through the swaps", ok)
	}
}

func TestFailingSwapsKeepTheOldPluginServing(t *testing.T) {
	cfg := fakeConfig(t)
	e := start(t, cfg)
	before := providerStatus(t, e.h, "fake-a").Plugin
	fakePkg := "github.com/lendgate/lendgate/internal/testplugins/fakeplugin"
	tests := []struct {
		name string
		pc   host.PluginConfig
		want string
	}{
		{"failing health", pinned(t, testbin.Build(t, fakePkg, "-X main.healthy=false")), "health"},
		{"crash at start", pinned(t, testbin.Build(t, fakePkg, "-X main.startup=crash")), "start"},
		{"wrong protocol", pinned(t, testbin.Build(t, "github.com/lendgate/lendgate/internal/testplugins/v2plugin", "")), "Plugin version: 2"},
		{"wrong checksum", host.PluginConfig{Path: cfg.Plugins["fake"].Path, SHA256: strings.Repeat("1", 64)}, "sha256 mismatch"},
		{"missing binary", host.PluginConfig{Path: filepath.Join(t.TempDir(), "none"), Unpinned: true}, "no such file"},
		{"no pin", host.PluginConfig{Path: cfg.Plugins["fake"].Path}, "sha256 is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.h.ReloadConfig(context.Background(), "fake", tt.pc)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("reload: %v, want an error mentioning %q", err, tt.want)
			}
			now := providerStatus(t, e.h, "fake-a").Plugin
			if now.PID != before.PID || !now.Up || now.Version != before.Version {
				t.Fatalf("the running plugin changed: %+v → %+v", before, now)
			}
			if _, err := e.h.Checkout(context.Background(), "fake-a", host.CheckoutRequest{Item: isbnOK, Patron: "p1"}); err != nil {
				t.Fatalf("the old plugin does not serve after a failed swap: %v", err)
			}
		})
	}
	if _, err := e.h.Reload(context.Background(), "fake", host.ReloadRequest{SHA256: strings.Repeat("1", 64)}); err == nil || !strings.Contains(err.Error(), "sha256 mismatch") {
		t.Errorf("reload with a wrong pin: %v", err)
	}
	if _, err := e.h.Reload(context.Background(), "nope", host.ReloadRequest{}); host.CodeOf(err) != "provider_not_found" {
		t.Errorf("reload of an unknown plugin: %v", err)
	}
	res, err := e.h.Reload(context.Background(), "fake", host.ReloadRequest{})
	if err != nil || res.Old.PID != before.PID || res.New.PID == before.PID {
		t.Fatalf("reload of the same binary: %+v %v", res, err)
	}
}
