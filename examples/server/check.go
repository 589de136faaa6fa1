package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal/memory"
	"github.com/lendgate/lendgate/internal/filehash"
)

// checkTimeout bounds a whole -check run: every plugin's start, describe and
// configure included.
const checkTimeout = 2 * time.Minute

// checkMain runs -check and returns the process's exit code: 0 when the
// config at configPath would start cleanly, 1 otherwise.
func checkMain(configPath string) int {
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	if check(ctx, configPath, os.Stdout) {
		return 0
	}
	return 1
}

// check validates the config at configPath for a deployment pipeline and
// writes a report to w, one line per finding; it returns whether nothing
// failed. It checks what a start would meet, without listening or opening
// the journal (a running server holds the bolt file's lock):
//
//   - the file: JSON, known keys only, every env: variable set;
//   - each plugin's binary: present, and its SHA-256 against the pin (a
//     plugin without a pin is a warning);
//   - the host's own validation of the config (secret, names, URLs);
//   - each plugin's handshake: started as the server starts it, described,
//     every instance configured and health-checked, then stopped.
func check(ctx context.Context, configPath string, w io.Writer) bool {
	r := &report{w: w}
	defer r.summary()
	fmt.Fprintf(w, "config %s\n", configPath)
	cfg, err := host.LoadConfig(configPath)
	if err != nil {
		r.fail("config: %v", err)
		return false
	}
	r.ok("config: JSON, keys and environment variables")
	r.store(cfg.Store)

	names := make([]string, 0, len(cfg.Plugins))
	for n := range cfg.Plugins {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r.pin(n, cfg.Plugins[n])
	}

	// The host's start, on a journal of its own: the plugins are started,
	// described, configured and health-checked exactly as by the server.
	cfg.StoreImpl = memory.New()
	cfg.Logger = hclog.NewNullLogger()
	h, err := host.New(ctx, cfg)
	if err != nil {
		r.fail("host: %v", err)
		return false
	}
	defer h.Close(context.WithoutCancel(ctx))
	seen := map[string]bool{}
	for _, p := range h.Providers(ctx) {
		ps := p.Plugin
		if !seen[ps.Name] {
			seen[ps.Name] = true
			if ps.Up {
				r.ok("plugin %s: started, speaks protocol %d, version %s", ps.Name, ps.Protocol, ps.Version)
			} else {
				r.fail("plugin %s: did not start: %s", ps.Name, ps.Error)
			}
		}
		switch {
		case ps.Up && p.Error != "":
			// The plugin runs, but this instance was refused or is not
			// healthy: it would answer its own error in service.
			r.fail("provider %s: %s", p.Name, p.Error)
		case ps.Up:
			r.ok("provider %s: configured and healthy (%s; formats %s)", p.Name, strings.Join(p.Capabilities, ", "), strings.Join(p.Formats, ", "))
		default:
			r.fail("provider %s: plugin %s is not running", p.Name, ps.Name)
		}
	}
	for _, n := range names {
		if !seen[n] {
			r.warn("plugin %s: no provider uses it", n)
		}
	}
	return r.failed == 0
}

// report writes the findings of a check.
type report struct {
	w              io.Writer
	failed, warned int
}

func (r *report) line(tag, format string, args ...any) {
	fmt.Fprintf(r.w, "  %-5s %s\n", tag, fmt.Sprintf(format, args...))
}

func (r *report) ok(format string, args ...any) { r.line("ok", format, args...) }

func (r *report) warn(format string, args ...any) {
	r.warned++
	r.line("warn", format, args...)
}

func (r *report) fail(format string, args ...any) {
	r.failed++
	r.line("FAIL", format, args...)
}

func (r *report) summary() {
	switch {
	case r.failed > 0:
		fmt.Fprintf(r.w, "result: FAIL (%d problems, %d warnings)\n", r.failed, r.warned)
	default:
		fmt.Fprintf(r.w, "result: ok (%d warnings)\n", r.warned)
	}
}

// pin checks a plugin's binary and its pin.
func (r *report) pin(name string, pc host.PluginConfig) {
	sum, err := filehash.SHA256(pc.Path)
	switch {
	case err != nil:
		r.fail("plugin %s: binary %s: %v (relative paths are relative to the config file's directory)", name, pc.Path, err)
	case pc.SHA256 == "":
		r.warn("plugin %s: %s is not pinned (development only); its sha256 is %s", name, pc.Path, sum)
	case !strings.EqualFold(pc.SHA256, sum):
		r.fail("plugin %s: sha256 mismatch: pinned %s, binary %s has %s", name, strings.ToLower(pc.SHA256), pc.Path, sum)
	default:
		r.ok("plugin %s: %s matches its pin %s", name, pc.Path, sum)
	}
}

// store checks what can be checked of the journal without opening it.
func (r *report) store(s host.StoreConfig) {
	switch s.Driver {
	case "", "bolt":
		dir := filepath.Dir(s.DSN)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			r.fail("store: the bolt file's directory %s does not exist", dir)
			return
		}
		r.ok("store: bolt file %s (not opened by -check)", s.DSN)
	default:
		r.ok("store: driver %s (not opened by -check)", s.Driver)
	}
}
