package host_test

import (
	"strings"
	"testing"

	"github.com/lendgate/lendgate/host"
)

// TestReloadTakesNoPath checks that the admin API cannot point a plugin at
// another binary: a "path" in the reload body is 400 invalid_request and
// nothing is started (api.md §7). Paths change only through the config.
func TestReloadTakesNoPath(t *testing.T) {
	e := start(t, fakeConfig(t))
	before := providerStatus(t, e.h, "fake-a").Plugin
	for _, body := range []string{`{"path":"/bin/true"}`, `{"path":"/bin/true","sha256":"` + before.SHA256 + `"}`} {
		r := e.do("POST", "/v1/admin/plugins/fake/reload", body, "Authorization", "Bearer "+testAdminKey)
		p := e.expectProblem(r, 400, "invalid_request")
		if !strings.Contains(p.Detail, "path") {
			t.Errorf("detail %q does not name the refused field", p.Detail)
		}
		if now := providerStatus(t, e.h, "fake-a").Plugin; now.PID != before.PID || now.SHA256 != before.SHA256 {
			t.Fatalf("the plugin changed after a refused reload: %+v → %+v", before, now)
		}
	}
	// A pin that is not a SHA-256 is the caller's mistake too.
	e.expectProblem(e.do("POST", "/v1/admin/plugins/fake/reload", `{"sha256":"abc"}`, "Authorization", "Bearer "+testAdminKey), 400, "invalid_request")
	// With the configured path and pin it swaps.
	r := e.do("POST", "/v1/admin/plugins/fake/reload", `{"sha256":"`+before.SHA256+`"}`, "Authorization", "Bearer "+testAdminKey)
	if r.status != 200 {
		t.Fatalf("reload with the pin: %d %s", r.status, r.body)
	}
}

// TestPinnedShownInProviders checks "pinned" in /v1/providers, and that an
// unpinned plugin is warned about when it starts.
func TestPinnedShownInProviders(t *testing.T) {
	cfg := fakeConfig(t)
	cfg.Plugins["loose"] = host.PluginConfig{Path: cfg.Plugins["fake"].Path, Unpinned: true}
	cfg.Providers["loose-a"] = host.ProviderConfig{Plugin: "loose"}
	e := start(t, cfg)
	var body struct{ Providers []host.Provider }
	e.do("GET", "/v1/providers", nil).json(t, &body)
	want := map[string]bool{"fake-a": true, "fake-b": true, "loose-a": false}
	for _, p := range body.Providers {
		if p.Plugin.Pinned != want[p.Name] || !p.Plugin.Up {
			t.Errorf("%s: plugin %+v, want pinned %v", p.Name, p.Plugin, want[p.Name])
		}
	}
	if r := e.do("GET", "/v1/providers/loose-a", nil); !strings.Contains(string(r.body), `"pinned":false`) {
		t.Errorf("the JSON does not say pinned false: %s", r.body)
	}
	warned := 0
	for _, l := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(l, "plugin is not pinned") {
			warned++
			if !strings.Contains(l, `"plugin":"loose"`) || !strings.Contains(l, `"@level":"warn"`) {
				t.Errorf("warning line %s", l)
			}
		}
	}
	if warned != 1 {
		t.Errorf("%d warnings about the unpinned plugin at start, want 1", warned)
	}
}

// TestUnpinnedPluginNeedsTheFlag checks that a plugin without sha256 is a
// configuration error naming it, unless it says "unpinned": true.
func TestUnpinnedPluginNeedsTheFlag(t *testing.T) {
	cfg := fakeConfig(t)
	cfg.Plugins["fake"] = host.PluginConfig{Path: cfg.Plugins["fake"].Path}
	h, err := host.New(t.Context(), cfg)
	if err == nil {
		h.Close(t.Context())
		t.Fatal("a plugin without a pin was accepted")
	}
	if !strings.Contains(err.Error(), "plugins.fake.sha256") || !strings.Contains(err.Error(), "unpinned") {
		t.Fatalf("error %v: want it to name plugins.fake.sha256 and the unpinned flag", err)
	}
	parsed, err := host.ParseConfig([]byte(`{"secret":"s","plugins":{"fake":{"path":"/x","unpinned":true}}}`), nil)
	if err != nil || !parsed.Plugins["fake"].Unpinned {
		t.Fatalf("the unpinned key: %+v %v", parsed.Plugins, err)
	}
}
