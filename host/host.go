package host

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host/cluster"
	"github.com/lendgate/lendgate/host/config"
	"github.com/lendgate/lendgate/host/internal/resilience"
	"github.com/lendgate/lendgate/sdk"
)

// Decisions where the contract is silent:
//   - A failed hot swap answers plugin_unavailable (503) with the reason;
//     the running plugin keeps serving.
//   - A plugin runs from the host's private copy of its binary, checked
//     against its pin (internal/launch says how). Crash restarts run the
//     same copy; only a reload or SIGHUP reads the path again. The copy is
//     removed when the plugin stops or is swapped out.
//   - A reload's optional sha256 becomes the plugin's pin for later crash
//     restarts too. Host.ReloadConfig takes a whole PluginConfig (path and
//     pin): it is the Go embedder's configuration, and what SIGHUP uses.
//   - A swap goes through when only some instances fail their health check
//     on the new build (their distributor's state, not the binary's); it is
//     refused when the new build refuses settings the running one accepted,
//     or when every instance that serves now would fail on it.

// Host runs the plugins and serves the lending API. Create it with New and
// release it with Close.
type Host struct {
	cfg       Config
	log       hclog.Logger
	store     store
	ownStore  bool
	keys      keys
	auth      Authenticator
	metrics   *metrics
	scrape    http.Handler        // /metrics, bounded (made once: it counts its scrapes in flight)
	observer  resilience.Observer // logCall's, made once in New
	plugins   map[string]*pluginProc
	instances map[string]*instance
	names     []string // instance names, sorted
	flights   *flights
	owed      owedLoans // loans whose unknown mark waits for the journal (journal.go)
	publicURL string
	cluster   cluster.Cluster
	hooks     *webhooks     // nil without Config.Webhooks
	redirects redirectCache // fresh links reused per redirect URL (redirects.go)

	closeOnce sync.Once
	closed    chan struct{}
	bg        sync.WaitGroup // background loops (the sweeper)
}

// New validates cfg, opens the store and starts every plugin in parallel. A
// plugin that fails to start does not fail New: its instances answer
// plugin_unavailable while it is retried, and /readyz stays 503.
func New(ctx context.Context, cfg Config) (_ *Host, err error) {
	if err := checkSecret(cfg.Secret); err != nil {
		return nil, err
	}
	if err := validateWebhooks(cfg.Webhooks); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.New(&hclog.LoggerOptions{Name: "lendgate", Level: hclog.LevelFromString(cfg.Log.Level),
			JSONFormat: cfg.Log.Format == "json", Output: os.Stderr})
	}
	h := &Host{cfg: cfg, log: log, keys: newKeys([]byte(cfg.Secret)), metrics: newMetrics(),
		plugins: map[string]*pluginProc{}, instances: map[string]*instance{}, flights: newFlights(),
		publicURL: strings.TrimRight(cfg.PublicURL, "/"), closed: make(chan struct{})}
	if cfg.PublicURL != "" {
		if u, err := url.Parse(cfg.PublicURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("config: public_url %q is not an absolute http(s) URL", cfg.PublicURL)
		}
	}
	h.scrape = h.metrics.handler(cmp.Or(cfg.scrapeTimeout, scrapeTimeout))
	h.observer = resilience.Observer{Log: log, Metrics: h.metrics, IsInstance: h.isInstance}
	h.auth = cfg.Authenticator
	if h.auth == nil {
		h.auth = NewKeyAuthenticator(cfg.APIKeys, cfg.AdminKeys)
	}
	for name, pc := range cfg.Plugins {
		if err := pc.Validate(name); err != nil {
			return nil, err
		}
		h.plugins[name] = newPluginProc(name, pc, log, h.metrics)
	}
	if cfg.Cluster.Redis != "" {
		cl, openErr := cluster.Open(ctx, "redis", cfg.Cluster.Redis, log)
		if openErr != nil {
			return nil, openErr
		}
		h.cluster = cl
		defer func() {
			if err != nil { // New's own result
				cl.Close() // a Host that is not returned is never closed
			}
		}()
	}
	for name, pc := range cfg.Providers {
		if !validName(name) {
			return nil, fmt.Errorf("config: provider name %q must be 1-100 characters of [A-Za-z0-9._-]", name)
		}
		p, ok := h.plugins[pc.Plugin]
		if !ok {
			return nil, fmt.Errorf("config: providers.%s.plugin: no plugin named %q", name, pc.Plugin)
		}
		in := newInstance(name, pc, p, log, h.metrics, h.cluster)
		in.patrons = h.keys.pseudonymizer(name)
		p.instances = append(p.instances, instanceSetup{name: name, settings: in.settings()})
		h.instances[name] = in
		h.names = append(h.names, name)
	}
	sort.Strings(h.names)
	switch {
	case cfg.StoreImpl != nil:
		h.store = newStore(cfg.StoreImpl)
	default:
		s, err := openStore(ctx, cfg.Store)
		if err != nil {
			return nil, err
		}
		h.store, h.ownStore = newStore(s), true
	}
	// Webhooks take the driver's own journal of deliveries; everything
	// else writes through the watch that keeps /readyz honest.
	if err := h.startWebhooks(ctx); err != nil {
		return nil, err
	}
	h.store = watchJournal(h.store, log) // journal health for /readyz (journal.go)
	var wg sync.WaitGroup
	for _, p := range h.plugins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = p.start(ctx) // logged; the plugin is retried in the background
		}()
	}
	wg.Wait()
	interval := cfg.SweepInterval
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	if !cfg.manualSweep {
		h.bg.Add(1)
		go h.sweepLoop(interval)
	}
	return h, nil
}

// Close stops every plugin, letting in-flight calls finish within each
// plugin's longest instance timeout and ctx's deadline (a done ctx stops
// them at once), and closes the store. It leaves no plugin process behind.
func (h *Host) Close(ctx context.Context) error {
	var err error
	h.closeOnce.Do(func() {
		close(h.closed)
		h.bg.Wait()
		var wg sync.WaitGroup
		for _, p := range h.plugins {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.stop(closeDrain(ctx, h.drainFor(p.name)))
			}()
		}
		wg.Wait()
		if h.ownStore {
			err = h.store.Close()
		}
		if h.cluster != nil {
			h.cluster.Close()
		}
	})
	return err
}

// closeDrain is how long Close lets in-flight calls finish: the plugin's
// drain, cut to what is left of ctx (nothing once ctx is done).
func closeDrain(ctx context.Context, drain time.Duration) time.Duration {
	if ctx.Err() != nil {
		return 0
	}
	if dl, ok := ctx.Deadline(); ok {
		drain = max(0, min(drain, time.Until(dl)))
	}
	return drain
}

// drainFor is how long a plugin's in-flight calls may take to finish: the
// longest timeout of its instances.
func (h *Host) drainFor(plugin string) time.Duration {
	d := config.DefaultTimeout
	for _, in := range h.instances {
		if in.cfg.Plugin == plugin && time.Duration(in.cfg.Timeout) > d {
			d = time.Duration(in.cfg.Timeout)
		}
	}
	return d
}

// Ready reports whether every plugin has started and configured its instances.
func (h *Host) Ready() bool {
	for _, p := range h.plugins {
		if !p.isReady() {
			return false
		}
	}
	return true
}

func (h *Host) instance(name string) (*instance, error) {
	in, ok := h.instances[name]
	if !ok {
		return nil, sdk.Errorf(sdk.CodeProviderNotFound, "no provider instance named %q", echo(name))
	}
	return in, nil
}

// Providers describes every provider instance.
func (h *Host) Providers(ctx context.Context) []Provider {
	out := make([]Provider, 0, len(h.names))
	for _, n := range h.names {
		p, _ := h.Provider(ctx, n)
		out = append(out, p)
	}
	return out
}

// Provider describes one provider instance.
func (h *Host) Provider(_ context.Context, name string) (Provider, error) {
	in, err := h.instance(name)
	if err != nil {
		return Provider{}, err
	}
	ps, info := in.plugin.status()
	p := Provider{
		Name:         name,
		Plugin:       ps,
		Capabilities: []string{},
		Formats:      append([]string{}, info.Formats...),
		Options:      map[string][]string{},
		Breaker:      in.breakerStatus(),
		Rate:         RateStatus{PerSecond: in.cfg.Rate.PerSecond, Burst: in.cfg.Rate.Burst, MaxWait: time.Duration(in.cfg.Rate.MaxWait).String()},
		Timeout:      time.Duration(in.cfg.Timeout).String(),
		Health:       "down",
	}
	for _, c := range info.Capabilities {
		p.Capabilities = append(p.Capabilities, string(c))
	}
	for k, v := range info.Options {
		p.Options[k] = append([]string{}, v...)
	}
	if ps.Up {
		p.Health = "up"
		if err := in.plugin.instanceFault(name); err != nil {
			p.Health = "down"
			p.Error = sdk.AsError(err).Message
		}
	}
	return p, nil
}

// Reload hot-swaps a plugin to the binary now at its configured path
// (plugins.md "Hot swap"), pinned by r.SHA256 when given, else by the
// configured pin. The new binary is copied, checked, started, described,
// configured and health-checked before calls switch to it; the old one
// drains and stops. On any failure the old one keeps serving and the error
// is returned. The path is not Reload's to change: see ReloadConfig.
func (h *Host) Reload(ctx context.Context, plugin string, r ReloadRequest) (ReloadResult, error) {
	p, ok := h.plugins[plugin]
	if !ok {
		return ReloadResult{}, sdk.Errorf(sdk.CodeProviderNotFound, "no plugin named %q", echo(plugin))
	}
	p.mu.Lock()
	cfg := p.cfg
	p.mu.Unlock()
	if r.SHA256 != "" {
		if !config.ValidPin(r.SHA256) {
			return ReloadResult{}, sdk.Errorf(sdk.CodeInvalidRequest, "sha256 must be 64 hex digits")
		}
		cfg.SHA256 = r.SHA256
	}
	return h.swap(ctx, p, cfg)
}

// ReloadConfig hot-swaps a plugin as Reload does, to the path and pin of
// pc: what the configuration says now (examples/server calls it on SIGHUP
// with the re-read config file). pc is checked as host.New checks it.
func (h *Host) ReloadConfig(ctx context.Context, plugin string, pc PluginConfig) (ReloadResult, error) {
	p, ok := h.plugins[plugin]
	if !ok {
		return ReloadResult{}, sdk.Errorf(sdk.CodeProviderNotFound, "no plugin named %q", echo(plugin))
	}
	if err := pc.Validate(plugin); err != nil {
		return ReloadResult{}, sdk.Wrap(sdk.CodeInvalidRequest, err, "%v", err)
	}
	return h.swap(ctx, p, pc)
}

func (h *Host) swap(ctx context.Context, p *pluginProc, cfg PluginConfig) (ReloadResult, error) {
	res, err := p.swap(ctx, cfg, h.drainFor(p.name))
	if err != nil {
		return ReloadResult{}, sdk.Wrap(sdk.CodePluginUnavailable, err, "reload of plugin %s refused, the running plugin keeps serving: %v", p.name, err)
	}
	return res, nil
}
