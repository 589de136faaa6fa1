package host_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/internal/testbin"
	"github.com/lendgate/lendgate/plugins/ehub/ehubsim"
)

// TestOneInstanceConfigFaultStaysItsOwn runs two eHUB accounts on one real
// plugin process, one of them without its api_key: the good one lends, the
// bad one answers its own error naming only itself, the plugin is not
// restarted, and the breaker does not count the refusals (api.md §7).
func TestOneInstanceConfigFaultStaysItsOwn(t *testing.T) {
	const good, bad = "ehub-library-good", "ehub-library-bad"
	e, _ := startEhubHost(t, func(url string) map[string]host.ProviderConfig {
		return map[string]host.ProviderConfig{
			good: {Plugin: "ehub", Settings: map[string]string{"base_url": url, "api_key": ehubAPIKey}, AllowInsecureHTTP: true},
			bad:  {Plugin: "ehub", Settings: map[string]string{"base_url": url}, AllowInsecureHTTP: true},
		}
	})
	before := providerStatus(t, e.h, good).Plugin

	checkout(e, good, ehubBody(ehubsim.RecordMultiFormat, "patron-42"))
	for range 8 { // more than the breaker's 5 consecutive failures
		p := e.expectProblem(e.do("POST", "/v1/providers/"+bad+"/loans", ehubBody(ehubsim.RecordMultiFormat, "patron-42")), 502, "provider_credentials")
		if p.Provider != bad || !strings.Contains(p.Detail, bad) || strings.Contains(p.Detail, good) || !strings.Contains(p.Detail, "api_key") {
			t.Fatalf("the bad instance's problem %+v: want its own reason, naming only itself", p)
		}
	}
	checkout(e, good, ehubBody(ehubsim.RecordMultiFormat, "patron-43"))

	g, b := providerStatus(t, e.h, good), providerStatus(t, e.h, bad)
	if g.Health != "up" || g.Error != "" || b.Health != "down" || !strings.Contains(b.Error, bad) || strings.Contains(b.Error, good) {
		t.Errorf("health: good %q %q, bad %q %q", g.Health, g.Error, b.Health, b.Error)
	}
	if !g.Plugin.Up || g.Plugin.Error != "" || strings.Contains(b.Plugin.Error, bad) {
		t.Errorf("the plugin carries an instance's fault: %+v", g.Plugin)
	}
	if g.Plugin.Restarts != 0 || g.Plugin.PID != before.PID {
		t.Errorf("the plugin was restarted: %+v → %+v", before, g.Plugin)
	}
	if b.Breaker.State != "closed" || b.Breaker.Failures != 0 {
		t.Errorf("the breaker counted a fault that reached no distributor: %+v", b.Breaker)
	}
	if r := e.do("GET", "/readyz", nil, "Authorization", ""); r.status != 200 {
		t.Errorf("/readyz %d: one instance's configuration holds the others' readiness", r.status)
	}
	refusals := strings.Count(e.logs.String(), "refused by its plugin")
	if refusals != 1 {
		t.Errorf("%d log lines about the refused configuration, want 1 (no retry loop)", refusals)
	}
}

// TestOneInstanceHealthFaultStaysItsOwn: an instance that fails its health
// check answers plugin_unavailable with its own reason and a Retry-After,
// the others serve, and a swap in which it alone fails goes through.
func TestOneInstanceHealthFaultStaysItsOwn(t *testing.T) {
	cfg := fakeConfig(t)
	e := start(t, cfg)
	checkout(e, "fake-b", map[string]any{"item": isbnOK, "patron": "p1"})

	// The new build fails fake-b's health check only.
	next := testbin.Build(t, "github.com/lendgate/lendgate/internal/testplugins/fakeplugin", "-X main.version=2.0.0 -X main.unhealthyInstance=fake-b")
	res, err := e.h.ReloadConfig(context.Background(), "fake", pinned(t, next))
	if err != nil {
		t.Fatalf("a swap in which one instance fails its health check was refused: %v", err)
	}
	if res.New.Version != "2.0.0" {
		t.Fatalf("swap result %+v", res)
	}
	l := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
	if l.ProviderRef["version"] != "2.0.0" {
		t.Errorf("fake-a served by %q, want the new build", l.ProviderRef["version"])
	}
	r := e.do("POST", "/v1/providers/fake-b/loans", map[string]any{"item": isbnOK, "patron": "p2"})
	p := e.expectProblem(r, 503, "plugin_unavailable")
	if !strings.Contains(p.Detail, "fake-b") || strings.Contains(p.Detail, "fake-a") || r.header.Get("Retry-After") == "" {
		t.Errorf("fake-b's problem %+v (Retry-After %q): want its own reason and a Retry-After", p, r.header.Get("Retry-After"))
	}
	if st := providerStatus(t, e.h, "fake-a"); st.Health != "up" || st.Plugin.Restarts != 0 {
		t.Errorf("fake-a: %+v", st)
	}
}

// TestSwapRefusedWhenEveryServingInstanceFails: a build that fails the
// health check of every instance that serves now is not swapped in.
func TestSwapRefusedWhenEveryServingInstanceFails(t *testing.T) {
	e := start(t, fakeConfig(t))
	before := providerStatus(t, e.h, "fake-a").Plugin
	broken := testbin.Build(t, "github.com/lendgate/lendgate/internal/testplugins/fakeplugin", "-X main.healthy=false")
	if _, err := e.h.ReloadConfig(context.Background(), "fake", pinned(t, broken)); err == nil || !strings.Contains(err.Error(), "health") {
		t.Fatalf("swap to a build failing every health check: %v", err)
	}
	if now := providerStatus(t, e.h, "fake-a").Plugin; now.PID != before.PID {
		t.Fatalf("the running plugin changed: %+v → %+v", before, now)
	}
}
