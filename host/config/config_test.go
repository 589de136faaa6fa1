package config_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/config"
)

func TestPluginResolveKeepsWhatTheFileWrote(t *testing.T) {
	dir := t.TempDir()
	p := config.Plugin{Path: "bin/plugin"}.Resolve(dir)
	if want := filepath.Join(dir, "bin/plugin"); p.Path != want {
		t.Fatalf("resolved path %q, want %q", p.Path, want)
	}
	err := p.BinaryError(&fs.PathError{Op: "open", Path: p.Path, Err: fs.ErrNotExist})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), `"bin/plugin" in the config`) {
		t.Fatalf("error %v: want the written path and fs.ErrNotExist", err)
	}
	abs := config.Plugin{Path: "/opt/plugin"}.Resolve(dir)
	if abs.Path != "/opt/plugin" {
		t.Fatalf("an absolute path moved: %q", abs.Path)
	}
	if err := abs.BinaryError(fs.ErrNotExist); strings.Contains(err.Error(), "in the config") {
		t.Fatalf("an absolute path was explained as relative: %v", err)
	}
}

func TestPluginValidateNeedsAPinUnlessUnpinned(t *testing.T) {
	pin := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		p  config.Plugin
		ok bool
	}{
		{config.Plugin{Path: "x", SHA256: pin}, true},
		{config.Plugin{Path: "x", Unpinned: true}, true},
		{config.Plugin{Path: "x"}, false},
		{config.Plugin{Path: "x", SHA256: pin[:63]}, false},
		{config.Plugin{SHA256: pin}, false},
	} {
		if err := tc.p.Validate("p"); (err == nil) != tc.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}

func TestProviderDefaults(t *testing.T) {
	p := config.Provider{Rate: config.Rate{Burst: 3}}.WithDefaults()
	if time.Duration(p.Timeout) != config.DefaultTimeout || p.Rate.PerSecond != config.DefaultRatePerSecond ||
		p.Rate.Burst != 3 || p.Breaker.ConsecutiveFailures != config.DefaultConsecutiveFailures {
		t.Fatalf("defaults not filled as documented, or a set value overwritten: %+v", p)
	}
}

func TestDurationIsAGoDurationString(t *testing.T) {
	var d config.Duration
	if err := json.Unmarshal([]byte(`"1m30s"`), &d); err != nil || time.Duration(d) != 90*time.Second {
		t.Fatalf("unmarshal: %v %v", d, err)
	}
	if err := json.Unmarshal([]byte(`90`), &d); err == nil {
		t.Fatal("a number was taken as a duration")
	}
	b, _ := json.Marshal(config.Duration(2 * time.Second))
	if string(b) != `"2s"` {
		t.Fatalf("marshal: %s", b)
	}
}
