//go:build linux

package systemtest

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/internal/filehash"
	"github.com/lendgate/lendgate/internal/testbin"
	"github.com/lendgate/lendgate/plugins/cb/cbsim"
)

// namesPlugin matches the plugin name "cb" as a word.
var namesPlugin = regexp.MustCompile(`(^|[^A-Za-z0-9_-])cb([^A-Za-z0-9_-]|$)`)

// Point 3: what runs is what was pinned. A plugin without sha256 and
// without "unpinned": true stops the start; "unpinned" starts, warns and
// shows "pinned": false; the admin reload takes no path; the sha256 a
// provider reports is the hash of its running process, also when the
// binary at the configured path is swapped during a reload.
func TestAdversarialPluginsArePinned(t *testing.T) {
	simURL := serve(t, newCBSim())

	t.Run("a plugin with neither sha256 nor unpinned stops the start", func(t *testing.T) {
		addr := freeAddr(t)
		cfg := advConfig(t, addr, "cb")
		cfg.Providers["lib"] = advCBInstance(simURL)
		config := writeRawConfig(t, cfg, func(m map[string]any) { delete(pluginEntry(m, "cb"), "sha256") })
		s := launch(t, "no-pin", config, addr)
		switch st := s.readyWithin(20 * time.Second); st {
		case "exited":
			if code := s.cmd.ProcessState.ExitCode(); code == 0 {
				t.Errorf("the server exited 0 on an unpinned plugin, want non-zero")
			}
			if out := s.output(); !namesPlugin.MatchString(out) {
				t.Errorf("the refusal does not name plugin cb:\n%s", out)
			} else {
				t.Logf("refused: %s", strings.TrimSpace(lastLine(out)))
			}
		default:
			t.Errorf("the server is %s with a plugin that has no sha256 and no \"unpinned\": true; want it to refuse to start", st)
		}
	})

	t.Run("unpinned starts, warns and shows pinned false", func(t *testing.T) {
		addr := freeAddr(t)
		cfg := advConfig(t, addr, "cb")
		cfg.Providers["lib"] = advCBInstance(simURL)
		config := writeRawConfig(t, cfg, func(m map[string]any) {
			p := pluginEntry(m, "cb")
			delete(p, "sha256")
			p["unpinned"] = true
		})
		s := launch(t, "unpinned", config, addr)
		if st := s.readyWithin(20 * time.Second); st != "ready" {
			t.Fatalf("the server is %s with \"unpinned\": true (config.md allows it):\n%s", st, s.logTail(10))
		}
		p := s.providerJSON("lib")
		plugin, _ := p["plugin"].(map[string]any)
		if pinned, ok := plugin["pinned"].(bool); !ok || pinned {
			t.Errorf("GET /v1/providers/lib: plugin %v, want \"pinned\": false", plugin)
		}
		warned := false
		for _, line := range strings.Split(s.output(), "\n") {
			l := strings.ToLower(line)
			warned = warned || (strings.Contains(l, "warn") && strings.Contains(l, "pin") && namesPlugin.MatchString(line))
		}
		if !warned {
			t.Errorf("no warning about the unpinned plugin cb at start:\n%s", s.logTail(10))
		}
		checkRunningHash(t, s, "lib")
	})

	// A pinned server whose plugin path is a file of the test's own, so
	// that the test can swap the binary under it.
	dir := t.TempDir()
	v1 := testbin.Build(t, cbPkg, "")
	v2 := testbin.Build(t, cbPkg, "-X main.version=6.6.6-swapped")
	path := filepath.Join(dir, "lendgate-plugin-cb")
	good, evil := filepath.Join(dir, "good"), filepath.Join(dir, "evil")
	for src, dst := range map[string]string{v1: good, v2: evil} {
		if err := copyExec(src, dst); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Link(good, path); err != nil {
		t.Fatal(err)
	}
	pin := testbin.SHA256(t, v1)
	addr := freeAddr(t)
	cfg := advConfig(t, addr, "cb")
	cfg.Plugins["cb"] = host.PluginConfig{Path: path, SHA256: pin}
	cfg.Providers["lib"] = advCBInstance(simURL)
	srv := startAdv(t, "pinned", cfg, nil)
	admin := http.Header{"Authorization": {"Bearer " + advAdminKey}, "Content-Type": {"application/json"}}

	t.Run("the reported sha256 is the running process's", func(t *testing.T) {
		checkRunningHash(t, srv, "lib")
	})

	t.Run("admin reload with a path is invalid_request", func(t *testing.T) {
		before := srv.provider("lib").Plugin
		trueSum, err := filehash.SHA256("/bin/true")
		if err != nil {
			t.Skip("no /bin/true")
		}
		for _, body := range []string{`{"path": "/bin/true"}`, fmt.Sprintf(`{"path": "/bin/true", "sha256": %q}`, trueSum)} {
			a := srv.open(http.MethodPost, "/v1/admin/plugins/cb/reload", admin, []byte(body))
			wantProblem(t, "reload "+body, a, http.StatusBadRequest, "invalid_request")
		}
		after := srv.provider("lib").Plugin
		if after.PID != before.PID || after.SHA256 != pin {
			t.Errorf("after the refused reloads the plugin is %+v, want still %+v", after, before)
		}
		if a := srv.do(http.MethodPost, "/v1/providers/lib/loans", checkoutBody(cbsim.EANAvailable, "after-reload"), ""); a.status != http.StatusCreated {
			t.Errorf("checkout after the refused reloads: %v", a)
		}
	})

	t.Run("a binary swapped under the path during reloads never runs", func(t *testing.T) {
		// While each reload runs, the configured path flips between the
		// pinned build and another one as fast as renames go. A host that
		// hashes the path and executes it afterwards runs the other build
		// whenever the flip lands between the two.
		const reloads = 16
		var stop atomic.Bool
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			tmp := path + ".next"
			for i := 0; !stop.Load(); i++ {
				src := good
				if i%2 == 1 {
					src = evil
				}
				os.Remove(tmp)
				if os.Link(src, tmp) == nil {
					os.Rename(tmp, path)
				}
				time.Sleep(50 * time.Microsecond) // pacing the flips, not waiting for anything
			}
		}()
		outcomes := &counter{}
		for i := 0; i < reloads; i++ {
			a := srv.open(http.MethodPost, "/v1/admin/plugins/cb/reload", admin, []byte(fmt.Sprintf(`{"sha256": %q}`, pin)))
			switch {
			case a.err != nil:
				outcomes.add("lost")
			case a.status == http.StatusOK:
				outcomes.add("200")
			default:
				outcomes.add(fmt.Sprintf("%d %s", a.status, a.code()))
			}
			p := srv.provider("lib").Plugin
			exe, err := filehash.SHA256(fmt.Sprintf("/proc/%d/exe", p.PID))
			if err != nil {
				continue // between processes
			}
			if exe != p.SHA256 || exe != pin || p.Version == "6.6.6-swapped" {
				t.Errorf("reload %d: the running plugin (pid %d, version %s) hashes %s; /v1/providers reports %s; the pin is %s",
					i, p.PID, p.Version, exe[:12], short(p.SHA256), pin[:12])
				break
			}
		}
		stop.Store(true)
		wg.Wait()
		os.Remove(path)
		os.Link(good, path)
		t.Logf("reload answers under the swap: %v", outcomes)
		srv.alive(t)
	})
}

// checkRunningHash compares a provider's reported sha256 with the hash of
// /proc/PID/exe of its reported pid.
func checkRunningHash(t *testing.T, s *server, provider string) {
	t.Helper()
	p := s.provider(provider).Plugin
	exe, err := filehash.SHA256(fmt.Sprintf("/proc/%d/exe", p.PID))
	if err != nil {
		t.Fatalf("reading the plugin's executable (pid %d): %v", p.PID, err)
	}
	if exe != p.SHA256 {
		t.Errorf("%s: /v1/providers reports sha256 %s, but pid %d runs %s", provider, short(p.SHA256), p.PID, exe[:12])
	}
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func copyExec(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}

// Point 12: a secret shorter than 32 bytes stops the start (and its value
// is not echoed).
func TestAdversarialShortSecretRefusedAtStart(t *testing.T) {
	simURL := serve(t, newCBSim())
	for _, secret := range []string{"x", strings.Repeat("s", 31)} {
		t.Run(fmt.Sprintf("%d bytes", len(secret)), func(t *testing.T) {
			addr := freeAddr(t)
			cfg := advConfig(t, addr, "cb")
			cfg.Providers["lib"] = advCBInstance(simURL)
			s := launch(t, "short-secret", writeRawConfig(t, cfg, nil), addr, advSecretEnv+"="+secret)
			switch st := s.readyWithin(20 * time.Second); st {
			case "exited":
				if s.cmd.ProcessState.ExitCode() == 0 {
					t.Errorf("exit code 0, want non-zero")
				}
				out := s.output()
				if !strings.Contains(strings.ToLower(out), "secret") {
					t.Errorf("the refusal does not say the secret is the problem:\n%s", out)
				}
				if len(secret) > 1 && strings.Contains(out, secret) {
					t.Errorf("the refusal echoes the secret")
				}
			default:
				t.Errorf("the server is %s with a %d-byte secret; api.md §7 wants at least 32 bytes", st, len(secret))
			}
		})
	}
}
