package host_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal/memory"
	"github.com/lendgate/lendgate/internal/testbin"
)

// pinned is the catalog entry of the binary at path, pinned by its hash.
func pinned(t testing.TB, path string) host.PluginConfig {
	return host.PluginConfig{Path: path, SHA256: testbin.SHA256(t, path)}
}

// pluginConfig is a host config with the module's plugin (as testbin builds
// it, pinned) serving providers, on a memory journal.
func pluginConfig(t testing.TB, plugin string, providers map[string]host.ProviderConfig) host.Config {
	return host.Config{
		APIKeys: []string{testAPIKey}, AdminKeys: []string{testAdminKey}, Secret: testSecret,
		Plugins:   map[string]host.PluginConfig{plugin: pinned(t, testbin.Build(t, "github.com/lendgate/lendgate/plugins/"+plugin, ""))},
		Providers: providers,
		StoreImpl: memory.New(),
	}
}

// placeBinary puts a copy of src at dst by rename, as a deployment puts a
// new build at a plugin's configured path.
func placeBinary(t testing.TB, dst, src string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".next-*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		t.Fatal(err)
	}
}
