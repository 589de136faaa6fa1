package host_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/bolt"
	"github.com/lendgate/lendgate/host/journal/memory"
)

const sampleConfig = `{
  "listen": "127.0.0.1:8080",
  "public_url": "http://127.0.0.1:8080",
  "api_keys": ["env:LG_TEST_API_KEY"],
  "secret": "env:LG_TEST_SECRET",
  "log": {"level": "info", "format": "json"},
  "store": {"driver": "bolt", "dsn": "./lendgate.db"},
  "plugins": {"demarque": {"path": "./bin/lendgate-plugin-demarque", "sha256": "abc"}},
  "providers": {
    "demarque-mtl": {
      "plugin": "demarque",
      "settings": {"base_url": "https://example.org", "password": "env:LG_TEST_DM_PASSWORD"},
      "defaults": {"format": "epub", "days": 21},
      "timeout": "5s",
      "rate": {"per_second": 2.5, "burst": 4, "max_wait": "250ms"},
      "breaker": {"consecutive_failures": 3, "open_for": "1m", "half_open_requests": 2},
      "send_patron_id": true,
      "allow_insecure_http": false
    }
  },
  "cluster": {"redis": ""}
}`

func TestParseConfig(t *testing.T) {
	env := map[string]string{"LG_TEST_API_KEY": "k1", "LG_TEST_SECRET": "s3", "LG_TEST_DM_PASSWORD": "pw"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c, err := host.ParseConfig([]byte(sampleConfig), lookup)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Providers["demarque-mtl"]
	if c.APIKeys[0] != "k1" || c.Secret != "s3" || p.Settings["password"] != "pw" {
		t.Errorf("env: values not resolved: %+v", c)
	}
	if time.Duration(p.Timeout) != 5*time.Second || p.Rate.PerSecond != 2.5 || p.Rate.Burst != 4 || time.Duration(p.Rate.MaxWait) != 250*time.Millisecond {
		t.Errorf("provider %+v", p)
	}
	if p.Breaker.ConsecutiveFailures != 3 || time.Duration(p.Breaker.OpenFor) != time.Minute || p.Breaker.HalfOpenRequests != 2 || !p.SendPatronID {
		t.Errorf("breaker %+v", p.Breaker)
	}
	if c.Plugins["demarque"].SHA256 != "abc" || c.Store.Driver != "bolt" || c.Log.Format != "json" {
		t.Errorf("config %+v", c)
	}
}

func TestParseConfigErrors(t *testing.T) {
	all := func(string) (string, bool) { return "x", true }
	tests := []struct {
		name, json, want string
		lookup           func(string) (string, bool)
	}{
		{"unknown top-level key", `{"secrett":"x"}`, `unknown key "secrett" at secrett`, all},
		{"unknown nested key", `{"providers":{"p":{"plugin":"x","rate":{"per_secnd":1}}}}`, `unknown key "per_secnd" at providers.p.rate.per_secnd`, all},
		{"unknown plugin key", `{"plugins":{"x":{"path":"a","sha":"b"}}}`, `at plugins.x.sha`, all},
		{"missing env", `{"secret":"env:NOPE_NOT_SET"}`, "secret: environment variable NOPE_NOT_SET is not set", func(string) (string, bool) { return "", false }},
		{"bad duration", `{"providers":{"p":{"plugin":"x","timeout":"ten"}}}`, "invalid duration", all},
		{"duration as number", `{"providers":{"p":{"plugin":"x","timeout":10}}}`, "duration must be a string", all},
		{"not an object", `[1]`, "must be a JSON object", all},
		{"not JSON", `{`, "not valid JSON", all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := host.ParseConfig([]byte(tt.json), tt.lookup)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lendgate.json")
	if err := os.WriteFile(path, []byte(sampleConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LG_TEST_API_KEY", "k")
	t.Setenv("LG_TEST_SECRET", "s")
	t.Setenv("LG_TEST_DM_PASSWORD", "pw-file")
	c, err := host.LoadConfig(path)
	if err != nil || c.Providers["demarque-mtl"].Settings["password"] != "pw-file" {
		t.Fatalf("LoadConfig: %v %+v", err, c)
	}
	if _, err := host.LoadConfig(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing file loaded")
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	base := func() host.Config {
		return host.Config{Secret: strings.Repeat("s", host.MinSecretBytes), StoreImpl: memory.New(),
			Plugins:   map[string]host.PluginConfig{"p": {Path: "/nonexistent", Unpinned: true}},
			Providers: map[string]host.ProviderConfig{"a": {Plugin: "p"}}}
	}
	tests := []struct {
		name string
		edit func(*host.Config)
		want string
	}{
		{"no secret", func(c *host.Config) { c.Secret = "" }, "secret is required"},
		{"short secret", func(c *host.Config) { c.Secret = strings.Repeat("s", host.MinSecretBytes-1) }, "secret has 31 bytes; it needs at least 32"},
		{"unknown plugin", func(c *host.Config) { c.Providers["a"] = host.ProviderConfig{Plugin: "q"} }, `no plugin named "q"`},
		{"bad provider name", func(c *host.Config) { c.Providers["a b"] = host.ProviderConfig{Plugin: "p"} }, "provider name"},
		{"bad public url", func(c *host.Config) { c.PublicURL = "ftp://x" }, "public_url"},
		{"plugin without path", func(c *host.Config) { c.Plugins["p"] = host.PluginConfig{Unpinned: true} }, "path is required"},
		{"plugin without pin", func(c *host.Config) { c.Plugins["p"] = host.PluginConfig{Path: "/nonexistent"} }, "plugins.p.sha256 is required"},
		{"pin not hex", func(c *host.Config) { c.Plugins["p"] = host.PluginConfig{Path: "/nonexistent", SHA256: "abc"} }, "plugins.p.sha256 must be 64 hex digits"},
		{"unknown store driver", func(c *host.Config) { c.StoreImpl = nil; c.Store.Driver = "mongo" }, "unknown store driver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.edit(&c)
			h, err := host.New(t.Context(), c)
			if err == nil {
				h.Close(t.Context())
				t.Fatal("New accepted the config")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestBoltStoreRefusesCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lendgate.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a bolt file ", 512)), 0o600); err != nil {
		t.Fatal(err)
	}
	c := fakeConfig(t)
	c.StoreImpl = nil
	c.Store = host.StoreConfig{Driver: "bolt", DSN: path}
	h, err := host.New(t.Context(), c)
	if err == nil {
		h.Close(t.Context())
		t.Fatal("a corrupt bolt file was accepted")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %v does not name the file", err)
	}
}

// A bolt journal whose log is damaged is not opened: New fails with the
// journal's damage error (naming the log), not a host on an empty or
// partial journal. The journal is a copy taken while the store was open
// (a snapshot's), whose log holds a loan, with one bit flipped.
func TestBoltStoreRefusesDamagedLog(t *testing.T) {
	dir := t.TempDir()
	live, path := filepath.Join(dir, "live.db"), filepath.Join(dir, "lendgate.db")
	s, err := bolt.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.PutLoan(t.Context(), journal.Loan{ID: "ln_1", Provider: "p", Patron: "x", Status: "pending"}); err != nil {
		t.Fatal(err)
	}
	db, _ := os.ReadFile(live)
	wal, _ := os.ReadFile(live + "-wal")
	first := bytes.IndexFunc(wal, func(r rune) bool { return r != 0 })
	if first < 0 {
		t.Fatal("the log holds no record")
	}
	wal[first+30] ^= 1
	if err := os.WriteFile(path, db, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+"-wal", wal, 0o600); err != nil {
		t.Fatal(err)
	}
	c := fakeConfig(t)
	c.StoreImpl = nil
	c.Store = host.StoreConfig{Driver: "bolt", DSN: path}
	h, err := host.New(t.Context(), c)
	if err == nil {
		h.Close(t.Context())
		t.Fatal("a damaged journal was opened")
	}
	if !errors.Is(err, journal.ErrDamaged) || !strings.Contains(err.Error(), path+"-wal: damaged record at offset") {
		t.Fatalf("New = %v; want the journal's damage error", err)
	}
}
