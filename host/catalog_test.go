package host_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/internal/testbin"
)

func providerStatus(t *testing.T, h *host.Host, name string) host.Provider {
	t.Helper()
	p, err := h.Provider(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProvidersShowPluginIdentity(t *testing.T) {
	cfg := fakeConfig(t)
	e := start(t, cfg)
	var body struct{ Providers []host.Provider }
	e.do("GET", "/v1/providers", nil).json(t, &body)
	if len(body.Providers) != 2 || body.Providers[0].Name != "fake-a" || body.Providers[1].Name != "fake-b" {
		t.Fatalf("providers %+v", body.Providers)
	}
	p := body.Providers[0]
	want := testbin.SHA256(t, cfg.Plugins["fake"].Path)
	if p.Plugin.Name != "fake" || p.Plugin.Version != "1.0.0" || p.Plugin.Protocol != 1 || p.Plugin.SHA256 != want || p.Plugin.PID <= 0 || !p.Plugin.Up {
		t.Errorf("plugin %+v, want sha256 %s", p.Plugin, want)
	}
	if p.Breaker.State != "closed" || p.Rate.PerSecond != 10 || p.Rate.Burst != 20 || p.Rate.MaxWait != "2s" || p.Timeout != "10s" {
		t.Errorf("resilience settings %+v %+v %s", p.Breaker, p.Rate, p.Timeout)
	}
	if strings.Join(p.Capabilities, ",") != "checkout,fulfill,renew,return,notifications" || len(p.Options["level"]) != 2 {
		t.Errorf("capabilities %v options %v", p.Capabilities, p.Options)
	}
	// Both instances are served by one process.
	if body.Providers[1].Plugin.PID != p.Plugin.PID {
		t.Errorf("two processes for one plugin: %d and %d", p.Plugin.PID, body.Providers[1].Plugin.PID)
	}
	if r := e.do("GET", "/readyz", nil, "Authorization", ""); r.status != 200 {
		t.Errorf("/readyz %d", r.status)
	}
}

func TestChecksumMismatchIsRefused(t *testing.T) {
	cfg := fakeConfig(t)
	path := cfg.Plugins["fake"].Path
	actual := testbin.SHA256(t, path)
	pin := strings.Repeat("ab", 32)
	cfg.Plugins = map[string]host.PluginConfig{"fake": {Path: path, SHA256: pin}}
	e := start(t, cfg)
	p := providerStatus(t, e.h, "fake-a")
	if p.Plugin.Up || !strings.Contains(p.Plugin.Error, pin) || !strings.Contains(p.Plugin.Error, actual) {
		t.Fatalf("plugin status %+v: want refused with both hashes %s and %s", p.Plugin, pin, actual)
	}
	e.expectProblem(e.do("POST", "/v1/providers/fake-a/loans", map[string]any{"item": isbnOK, "patron": "p1"}), 503, "plugin_unavailable")
	if r := e.do("GET", "/readyz", nil, "Authorization", ""); r.status != 503 {
		t.Errorf("/readyz %d, want 503", r.status)
	}
}

func TestPinnedChecksumIsAccepted(t *testing.T) {
	cfg := fakeConfig(t)
	path := cfg.Plugins["fake"].Path
	cfg.Plugins = map[string]host.PluginConfig{"fake": {Path: path, SHA256: strings.ToUpper(testbin.SHA256(t, path))}}
	e := start(t, cfg)
	checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
}

func TestUnknownProtocolVersionIsRefused(t *testing.T) {
	cfg := fakeConfig(t)
	cfg.Plugins["v2"] = pinned(t, testbin.Build(t, "github.com/lendgate/lendgate/internal/testplugins/v2plugin", ""))
	cfg.Providers["future"] = host.ProviderConfig{Plugin: "v2"}
	e := start(t, cfg)
	p := providerStatus(t, e.h, "future")
	if p.Plugin.Up || !strings.Contains(p.Plugin.Error, "Plugin version: 2") || !strings.Contains(p.Plugin.Error, "[1]") {
		t.Fatalf("plugin status %+v: want refusal naming versions 2 and [1]", p.Plugin)
	}
	// The other plugin serves.
	checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
}

func TestMissingBinaryLeavesOthersServing(t *testing.T) {
	cfg := fakeConfig(t)
	cfg.Plugins["ghost"] = host.PluginConfig{Path: t.TempDir() + "/no-such-plugin", SHA256: strings.Repeat("0", 64)}
	cfg.Providers["ghost-1"] = host.ProviderConfig{Plugin: "ghost"}
	e := start(t, cfg)
	e.expectProblem(e.do("POST", "/v1/providers/ghost-1/loans", map[string]any{"item": isbnOK, "patron": "p1"}), 503, "plugin_unavailable")
	checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
	var body struct{ Providers []host.Provider }
	e.do("GET", "/v1/providers", nil).json(t, &body)
	if len(body.Providers) != 3 {
		t.Fatalf("providers %+v", body.Providers)
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func TestCloseLeavesNoProcess(t *testing.T) {
	cfg := fakeConfig(t)
	cfg.Plugins["fake2"] = pinned(t, testbin.Copy(t, cfg.Plugins["fake"].Path))
	cfg.Providers["fake-c"] = host.ProviderConfig{Plugin: "fake2"}
	h, err := host.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, p := range h.Providers(context.Background()) {
		if p.Plugin.PID <= 0 {
			t.Fatalf("no pid for %s", p.Name)
		}
		pids = append(pids, p.Plugin.PID)
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if processAlive(pid) {
			t.Errorf("plugin process %d still alive after Close", pid)
		}
	}
	// Calls after Close answer plugin_unavailable, never hang.
	_, err = h.Checkout(context.Background(), "fake-a", host.CheckoutRequest{Item: isbnOK, Patron: "p1"})
	if host.CodeOf(err) != "plugin_unavailable" {
		t.Errorf("checkout after Close: %v", err)
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	cfg := fakeConfig(t)
	t.Setenv("LENDGATE_TEST_SECRET_ENV", "env-secret-value-xyz")
	e := start(t, cfg)
	l := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
	var f host.Fulfillment
	e.do("POST", "/v1/providers/fake-a/loans/"+l.ID+"/fulfillment", nil).json(t, &f)
	e.do("GET", f.Redirect[len(e.srv.URL):], nil, "Authorization", "")
	e.do("GET", "/v1/providers", nil, "Authorization", "Bearer wrong-key-abc")
	e.do("POST", "/v1/admin/plugins/fake/reload", `{}`, "Authorization", "Bearer "+testAdminKey)
	e.do("POST", "/v1/providers/fake-b/loans", map[string]any{"item": isbnOK, "patron": "p1", "options": map[string]string{"mode": "panic"}})
	e.h.Close(context.Background())
	logs := e.logs.String()
	if !strings.Contains(logs, `"op":"checkout"`) {
		t.Fatalf("the capture saw no call log line; logs:\n%s", logs)
	}
	sig := f.Redirect[strings.Index(f.Redirect, "sig=")+4:]
	token := l.ProviderRef["notify_url"][strings.LastIndex(l.ProviderRef["notify_url"], "/")+1:]
	for name, secret := range map[string]string{
		"API key": testAPIKey, "admin key": testAdminKey, "wrong key": "wrong-key-abc", "host secret": testSecret,
		"settings password": "pw-settings-secret", "signature": sig, "notification token": token,
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("%s appears in the logs", name)
		}
	}
}

func TestPluginEnvironmentHasNoHostSecrets(t *testing.T) {
	t.Setenv("LENDGATE_API_KEY", "env-api-key-should-not-leak")
	e := start(t, fakeConfig(t))
	pid := providerStatus(t, e.h, "fake-a").Plugin.PID
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		t.Skipf("cannot read the plugin's environment: %v", err)
	}
	if strings.Contains(string(b), "env-api-key-should-not-leak") || strings.Contains(string(b), "LENDGATE_API_KEY") {
		t.Errorf("the plugin inherited the host's environment")
	}
	cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if strings.Contains(string(cmdline), "pw-settings-secret") {
		t.Errorf("a secret is in the plugin's argv")
	}
}
