package host_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/sdk"
)

// TestLoadConfigResolvesPathsAgainstItsDirectory: relative plugin paths and
// the bolt file resolve against the config file's directory, whatever the
// working directory; absolute ones stay.
func TestLoadConfigResolvesPathsAgainstItsDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etc", "lendgate")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "lendgate.json")
	abs := filepath.Join(t.TempDir(), "elsewhere", "plugin")
	cfg := `{"secret": "s", "store": {"driver": "bolt", "dsn": "data/lendgate.db"},
		"plugins": {"rel": {"path": "./bin/lendgate-plugin-rel"}, "bare": {"path": "lendgate-plugin-bare"}, "abs": {"path": ` + quote(abs) + `}}}`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir()) // a working directory that has nothing to do with the config
	c, err := host.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"rel":  filepath.Join(dir, "bin", "lendgate-plugin-rel"),
		"bare": filepath.Join(dir, "lendgate-plugin-bare"),
		"abs":  abs,
	} {
		if got := c.Plugins[name].Path; got != want {
			t.Errorf("plugin %s: path %q, want %q", name, got, want)
		}
	}
	if want := filepath.Join(dir, "data", "lendgate.db"); c.Store.DSN != want {
		t.Errorf("bolt dsn %q, want %q", c.Store.DSN, want)
	}

	// The default bolt file lives beside the config too; a postgres DSN is
	// not a path.
	for body, want := range map[string]string{
		`{"secret": "s"}`: filepath.Join(dir, "lendgate.db"),
		`{"secret": "s", "store": {"driver": "postgres", "dsn": "postgres://db/lendgate"}}`: "postgres://db/lendgate",
	} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := host.LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		if c.Store.DSN != want {
			t.Errorf("%s: dsn %q, want %q", body, c.Store.DSN, want)
		}
	}
}

// TestMissingBinaryNamesThePathTried: a plugin binary missing where a
// relative path in the config points is reported with the path tried and
// the rule that resolved it.
func TestMissingBinaryNamesThePathTried(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lendgate.json")
	cfg := `{"secret": "0123456789abcdef0123456789abcdef", "store": {"driver": "memory"}, "plugins": {"p": {"path": "./bin/missing-plugin", "unpinned": true}},
		"providers": {"a": {"plugin": "p"}}}`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := host.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := host.New(t.Context(), c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer h.Close(t.Context())
	_, err = h.Checkout(t.Context(), "a", host.CheckoutRequest{Item: "x", Patron: "p"})
	if sdk.CodeOf(err) != sdk.CodePluginUnavailable {
		t.Fatalf("want plugin_unavailable, got %v", err)
	}
	p, err := h.Provider(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	tried := filepath.Join(dir, "bin", "missing-plugin")
	for _, want := range []string{tried, `"./bin/missing-plugin"`, "relative to the config file's directory"} {
		if !strings.Contains(p.Plugin.Error, want) {
			t.Errorf("plugin error %q does not say %q", p.Plugin.Error, want)
		}
	}
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `\`, `\\`) + `"` }
