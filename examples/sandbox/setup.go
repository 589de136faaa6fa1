package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host"
)

// sandbox is everything the walk-through talks to.
type sandbox struct {
	h        *host.Host
	url      string
	apiKey   string
	adminKey string
	dists    []*distributor
	dir      string
	webhooks []string // the endpoints' names (no query)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// buildPlugins compiles each plugin into dir and returns the catalog with
// every binary pinned by its SHA-256, as production configs should be.
func buildPlugins(ctx context.Context, dir string, names []string) (map[string]host.PluginConfig, error) {
	out := map[string]host.PluginConfig{}
	for _, n := range names {
		bin := filepath.Join(dir, "lendgate-plugin-"+n)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/lendgate/lendgate/plugins/"+n)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("building plugin %s: %w", n, err)
		}
		sum, err := sha256File(bin)
		if err != nil {
			return nil, err
		}
		out[n] = host.PluginConfig{Path: bin, SHA256: sum}
	}
	return out, nil
}

// sha256File is what `sha256sum` prints of a plugin binary: its pin.
func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// start builds and starts everything: plugins, simulators, host, HTTP server.
func start(ctx context.Context, o options, logs io.Writer) (*sandbox, func(), error) {
	hooks, err := webhookConfigs(logs, o.webhooks, o.webhookSecret)
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "lendgate-sandbox-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := []func(){func() { os.RemoveAll(dir) }}
	stop := func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}
	dists := distributors()
	var names []string
	for _, d := range dists {
		names = append(names, d.plugin)
	}
	plugins, err := buildPlugins(ctx, dir, names)
	if err != nil {
		stop()
		return nil, nil, err
	}
	db := filepath.Join(dir, "lendgate.db")
	if o.db != "" {
		db = o.db
		fmt.Fprintf(logs, "journal: %s (kept across runs)\n", db)
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		stop()
		return nil, nil, err
	}
	s := &sandbox{url: "http://" + ln.Addr().String(), apiKey: "sandbox-" + randomHex(8), adminKey: "admin-" + randomHex(8),
		dists: dists, dir: dir}
	for _, w := range hooks {
		u, _ := url.Parse(w.URL) // checked by webhookConfigs
		s.webhooks = append(s.webhooks, endpointName(u))
	}
	providers := map[string]host.ProviderConfig{}
	for _, d := range dists {
		srv := httptest.NewServer(d.sim)
		d.simURL = srv.URL
		cleanup = append(cleanup, srv.Close)
		if d.close != nil {
			cleanup = append(cleanup, d.close)
		}
		for name, pc := range d.providers(srv.URL) {
			providers[name] = pc
		}
	}
	cfg := host.Config{
		PublicURL: s.url,
		APIKeys:   []string{s.apiKey},
		AdminKeys: []string{s.adminKey},
		Secret:    randomHex(32), // the sandbox may generate one; a real host refuses to start without
		Store:     host.StoreConfig{Driver: "bolt", DSN: db},
		Webhooks:  hooks,
		Plugins:   plugins,
		Providers: providers,
		Logger:    hclog.New(&hclog.LoggerOptions{Name: "lendgate", Level: hclog.Error, Output: logs}),
	}
	h, err := host.New(ctx, cfg)
	if err != nil {
		ln.Close()
		stop()
		return nil, nil, err
	}
	s.h = h
	cleanup = append(cleanup, func() { h.Close(context.Background()) })
	srv := &http.Server{Handler: h.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	cleanup = append(cleanup, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	if !h.Ready() {
		stop()
		return nil, nil, fmt.Errorf("not every plugin started; see the log above")
	}
	return s, stop, nil
}
