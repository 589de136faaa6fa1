package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/lendgate/lendgate/sdk"
)

// The plugin lifecycle verbs, used in code, logs and docs alike: start,
// configure, health, swap, drain, stop.

// killTimeout bounds go-plugin's Kill, which waits a fixed 2 s and can hang
// in gRPC's close.
const killTimeout = 5 * time.Second

// generation is one running plugin process. A plugin has at most one current
// generation; start, restart and swap each make a new one (a go-plugin Client
// cannot be restarted).
type generation struct {
	client   *plugin.Client
	prov     sdk.Provider
	info     sdk.Info
	sha256   string // of the bytes this process runs
	pid      int
	protocol int
	// instances is each provider instance's state on this process; the
	// keys are fixed once the generation is launched.
	instances map[string]*instanceState

	inflight  atomic.Int64
	retired   atomic.Bool
	stopWatch chan struct{}
	dead      chan struct{} // closed once the process is known to be gone
	deadOnce  sync.Once
}

func (g *generation) markDead() { g.deadOnce.Do(func() { close(g.dead) }) }

// acquire registers a call on g; false when g is retired (swapped or
// stopped) and the caller must pick the current generation again.
func (g *generation) acquire() bool {
	g.inflight.Add(1)
	if g.retired.Load() {
		g.inflight.Add(-1)
		return false
	}
	return true
}

func (g *generation) release() { g.inflight.Add(-1) }

// drain retires g and waits, at most max, for its in-flight calls.
func (g *generation) drain(max time.Duration) bool {
	g.retired.Store(true)
	deadline := time.Now().Add(max)
	for g.inflight.Load() > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

// instanceFault is instance's own answer while it does not serve on g, or
// nil.
func (g *generation) instanceFault(instance string) error {
	if st := g.instances[instance]; st != nil {
		return st.answer(time.Now())
	}
	return nil
}

// stop kills g's process, bounded by killTimeout.
func (g *generation) stop() {
	defer g.markDead()
	if g.stopWatch != nil {
		select {
		case <-g.stopWatch:
		default:
			close(g.stopWatch)
		}
	}
	done := make(chan struct{})
	go func() { g.client.Kill(); close(done) }()
	select {
	case <-done:
	case <-time.After(killTimeout):
		if g.pid > 0 {
			_ = syscall.Kill(g.pid, syscall.SIGKILL)
		}
	}
}

// instanceSetup is what a plugin needs to configure one provider instance.
type instanceSetup struct {
	name     string
	settings map[string]string
}

// pluginProc is one named plugin of the catalog and its current generation.
type pluginProc struct {
	name      string
	log       hclog.Logger
	instances []instanceSetup
	metrics   *metrics

	mu       sync.Mutex
	cfg      PluginConfig
	gen      *generation
	ready    chan struct{} // closed while gen is up
	state    string        // "starting", "up", "restarting", "failed", "stopped"
	lastErr  error
	restarts int
	lastSHA  string
	// image is the private copy of cfg's binary that starts and crash
	// restarts execute (swapMu): a restart runs the bytes already checked,
	// without reading the path again. A swap makes a new one.
	image *pluginBinary

	cur    atomic.Pointer[generation]
	swapMu sync.Mutex // one start/swap at a time
	stopCh chan struct{}
	wg     sync.WaitGroup
}

func newPluginProc(name string, cfg PluginConfig, log hclog.Logger, m *metrics) *pluginProc {
	return &pluginProc{name: name, cfg: cfg, log: log.Named("plugin").With("plugin", name), metrics: m,
		ready: make(chan struct{}), state: "starting", stopCh: make(chan struct{})}
}

// currentImage returns the private copy of p.cfg's binary for a start or a
// restart, making it when there is none yet. Call with swapMu held.
func (p *pluginProc) currentImage(cfg PluginConfig) (*pluginBinary, error) {
	if p.image != nil {
		return p.image, nil
	}
	bin, err := copyPluginBinary(p.name, cfg)
	if err != nil {
		return nil, fmt.Errorf("start plugin %q: %w", p.name, cfg.BinaryError(err))
	}
	p.image = bin
	return bin, nil
}

// launch starts a new generation from bin, the private copy of cfg's
// binary already checked against its pin: process start from that copy and
// handshake, describe, then configure and health-check every instance. A
// failure of the process (start, handshake, describe) kills it and returns
// the error; an instance's own failure does not: the instance answers its
// own error and the others serve (setUpInstances).
func (p *pluginProc) launch(ctx context.Context, cfg PluginConfig, bin *pluginBinary) (*generation, error) {
	if cfg.SHA256 == "" {
		p.log.Warn("plugin is not pinned (\"unpinned\": true): whatever binary is at its path runs; set sha256 outside development", "path", cfg.Path, "sha256", bin.sha256)
	}
	raw, err := hex.DecodeString(bin.sha256)
	if err != nil {
		return nil, fmt.Errorf("start plugin %q: %w", p.name, err)
	}
	// The host runs its private copy; go-plugin checks the copy against the
	// hash once more when it starts it (it needs a fresh hash.Hash per
	// client).
	secure := &plugin.SecureConfig{Checksum: raw, Hash: sha256.New()}
	cmd := exec.Command(bin.execPath)
	cmd.Args[0] = cfg.Path // what ps shows
	setParentDeathSignal(cmd)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.HandshakeConfig(),
		VersionedPlugins: sdk.VersionedPlugins(),
		Cmd:              cmd,
		SecureConfig:     secure,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		GRPCDialOptions:  sdk.GRPCDialOptions(),
		Logger:           p.log,
		// Secrets travel only in Configure: the plugin inherits none of the
		// host's environment (where env: secrets live).
		SkipHostEnv:  true,
		StartTimeout: 30 * time.Second,
	})
	g := &generation{client: client, sha256: bin.sha256, stopWatch: make(chan struct{}), dead: make(chan struct{})}
	fail := func(step string, err error) (*generation, error) {
		g.stop()
		return nil, fmt.Errorf("%s plugin %q: %w", step, p.name, err)
	}
	rpc, err := client.Client()
	if err != nil {
		if strings.Contains(err.Error(), "Incompatible API version") {
			err = fmt.Errorf("%w (host speaks protocol versions %v)", err, sortedVersions())
		}
		return fail("start", err)
	}
	g.protocol = client.NegotiatedVersion()
	if rc := client.ReattachConfig(); rc != nil {
		g.pid = rc.Pid
	}
	if g.prov, err = sdk.Dispense(rpc); err != nil {
		return fail("start", err)
	}
	if g.info, err = g.prov.Describe(ctx); err != nil {
		return fail("describe", err)
	}
	p.setUpInstances(ctx, g)
	return g, nil
}

// regression returns why g must not replace old: the new binary refuses
// the settings of an instance the running one accepted (the settings did
// not change, the binary did), or none of the instances serving on old
// serves on g. One instance failing its health check on g alone does not
// stop the swap: that is its distributor's state, not the binary's.
func regression(old, g *generation) error {
	if old == nil {
		return nil
	}
	serving, kept := 0, 0
	var lost error
	for name, was := range old.instances {
		now := g.instances[name]
		if now == nil {
			continue
		}
		if was.configured.Load() && !now.configured.Load() {
			if f := now.fault.Load(); f != nil && f.Code == sdk.CodeProviderCredentials {
				return fmt.Errorf("configure: instance %q: %s", name, f.Message)
			}
		}
		if was.fault.Load() != nil {
			continue
		}
		serving++
		if f := now.fault.Load(); f != nil {
			lost = fmt.Errorf("health: instance %q: %s", name, f.Message)
			continue
		}
		kept++
	}
	if serving > 0 && kept == 0 {
		return lost
	}
	return nil
}

func sortedVersions() []int {
	var vs []int
	for v := range sdk.VersionedPlugins() {
		vs = append(vs, v)
	}
	sort.Ints(vs)
	return vs
}

// start launches the first generation; on failure the plugin is left in the
// "failed" state and retried in the background with backoff.
func (p *pluginProc) start(ctx context.Context) error {
	p.swapMu.Lock()
	defer p.swapMu.Unlock()
	p.mu.Lock()
	cfg := p.cfg
	p.mu.Unlock()
	bin, err := p.currentImage(cfg)
	var g *generation
	if err == nil {
		g, err = p.launch(ctx, cfg, bin)
	}
	if err != nil {
		p.setDown("failed", err)
		p.log.Error("start failed", "error", err)
		p.scheduleRestart()
		return err
	}
	p.setUp(g)
	p.log.Info("started", "version", g.info.Version, "pid", g.pid, "sha256", g.sha256)
	return nil
}

// setUp makes g the current generation and watches it for a crash.
func (p *pluginProc) setUp(g *generation) {
	p.mu.Lock()
	p.gen = g
	p.cur.Store(g)
	p.state = "up"
	p.lastErr = nil
	p.lastSHA = g.sha256
	select {
	case <-p.ready:
	default:
		close(p.ready)
	}
	p.mu.Unlock()
	p.metrics.pluginUp(p.name, true)
	p.wg.Add(1)
	go p.watch(g)
}

// setDown marks the plugin down: calls wait on a fresh ready channel.
func (p *pluginProc) setDown(state string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen = nil
	p.cur.Store(nil)
	p.state = state
	p.lastErr = err
	select {
	case <-p.ready:
		p.ready = make(chan struct{})
	default:
	}
	p.metrics.pluginUp(p.name, false)
}

// watch notices that g's process exited without being stopped, and restarts
// the plugin. go-plugin offers no exit notification: on Linux a pidfd tells
// at once; elsewhere, and as a backstop, it polls.
func (p *pluginProc) watch(g *generation) {
	defer p.wg.Done()
	exited, release := exitNotifier(g.pid)
	defer release()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-g.stopWatch:
			return
		case <-p.stopCh:
			return
		case <-exited:
		case <-t.C:
			if !g.client.Exited() {
				continue
			}
		}
		break
	}
	g.markDead()
	if g.retired.Load() {
		return // stopped on purpose (swap or Close)
	}
	p.mu.Lock()
	current := p.gen == g
	p.mu.Unlock()
	if !current {
		return
	}
	p.log.Error("plugin process exited; restarting", "pid", g.pid)
	g.retired.Store(true)
	g.stop()
	p.setDown("restarting", errors.New("plugin process exited"))
	p.scheduleRestart()
}

// scheduleRestart retries the start in the background with capped
// exponential backoff and jitter: first retry within 100 ms, cap 30 s.
func (p *pluginProc) scheduleRestart() {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		b := newBackoff(50*time.Millisecond, 30*time.Second)
		for attempt := 0; ; attempt++ {
			select {
			case <-p.stopCh:
				return
			case <-time.After(b.next()):
			}
			p.swapMu.Lock()
			p.mu.Lock()
			cfg, up := p.cfg, p.gen != nil
			p.mu.Unlock()
			if up || p.stopping() { // a swap brought it back meanwhile, or the host closes
				p.swapMu.Unlock()
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			bin, err := p.currentImage(cfg)
			var g *generation
			if err == nil {
				g, err = p.launch(ctx, cfg, bin)
			}
			cancel()
			if err != nil {
				p.swapMu.Unlock()
				p.mu.Lock()
				p.lastErr = err
				p.mu.Unlock()
				p.log.Warn("restart failed", "attempt", attempt+1, "error", err)
				continue
			}
			p.mu.Lock()
			p.restarts++
			p.mu.Unlock()
			p.metrics.pluginRestart(p.name)
			select {
			case <-p.stopCh: // stopped while starting
				p.swapMu.Unlock()
				g.retired.Store(true)
				g.stop()
				return
			default:
			}
			p.setUp(g)
			p.swapMu.Unlock()
			p.log.Info("restarted", "version", g.info.Version, "pid", g.pid)
			return
		}
	}()
}

// acquire returns the current generation with a call registered on it. While
// the plugin restarts it waits, until ctx is done; a plugin whose start
// failed answers at once.
func (p *pluginProc) acquire(ctx context.Context) (*generation, error) {
	for {
		if g := p.cur.Load(); g != nil {
			if g.acquire() {
				return g, nil
			}
			continue
		}
		p.mu.Lock()
		ready, state, lastErr := p.ready, p.state, p.lastErr
		up := p.gen != nil
		p.mu.Unlock()
		if up {
			continue
		}
		if state == "failed" || state == "stopped" {
			msg := "plugin " + p.name + " is not running"
			if lastErr != nil {
				msg += ": " + lastErr.Error()
			}
			return nil, sdk.Errorf(sdk.CodePluginUnavailable, "%s", msg).WithRetryAfter(time.Second)
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, sdk.Errorf(sdk.CodePluginUnavailable, "plugin %s is restarting", p.name).WithRetryAfter(time.Second)
		}
	}
}

// swap makes a new generation from cfg and switches calls to it; the old one
// drains its in-flight calls (at most drainFor) and is stopped. A failure
// before the switch leaves the old one serving.
func (p *pluginProc) swap(ctx context.Context, cfg PluginConfig, drainFor time.Duration) (ReloadResult, error) {
	p.swapMu.Lock()
	defer p.swapMu.Unlock()
	if p.stopping() {
		return ReloadResult{}, fmt.Errorf("swap plugin %q: the host is closing", p.name)
	}
	bin, err := copyPluginBinary(p.name, cfg)
	if err != nil {
		err = fmt.Errorf("start plugin %q: %w", p.name, err)
		p.log.Error("swap refused; the running plugin keeps serving", "error", err)
		return ReloadResult{}, err
	}
	g, err := p.launch(ctx, cfg, bin)
	if err != nil {
		bin.remove()
		p.log.Error("swap refused; the running plugin keeps serving", "error", err)
		return ReloadResult{}, err
	}
	p.mu.Lock()
	old := p.gen
	p.mu.Unlock()
	if err := regression(old, g); err != nil {
		g.stop()
		bin.remove()
		err = fmt.Errorf("swap plugin %q: %w", p.name, err)
		p.log.Error("swap refused; the running plugin keeps serving", "error", err)
		return ReloadResult{}, err
	}
	// The old copy goes once the old process is stopped (below): crash
	// restarts from now on run the new one.
	oldImage := p.image
	defer oldImage.remove()
	p.image = bin
	p.mu.Lock()
	p.cfg = cfg
	p.mu.Unlock()
	res := ReloadResult{Plugin: p.name, New: PluginVersion{Version: g.info.Version, SHA256: g.sha256, PID: g.pid}}
	if old != nil {
		res.Old = PluginVersion{Version: old.info.Version, SHA256: old.sha256, PID: old.pid}
		// Retire first so the crash watch does not take the kill for a crash.
		old.retired.Store(true)
	}
	p.setUp(g)
	if old != nil {
		if !old.drain(drainFor) {
			p.log.Warn("drain timed out; stopping with calls in flight", "pid", old.pid)
		}
		old.stop()
	}
	p.log.Info("swapped", "old_version", res.Old.Version, "new_version", res.New.Version, "pid", g.pid)
	return res, nil
}

// stop ends the plugin: no restart, current generation drained and killed.
func (p *pluginProc) stop(drainFor time.Duration) {
	p.mu.Lock()
	select {
	case <-p.stopCh:
		p.mu.Unlock()
		return
	default:
		close(p.stopCh)
	}
	p.mu.Unlock()
	p.swapMu.Lock()
	p.mu.Lock()
	g := p.gen
	p.mu.Unlock()
	p.setDown("stopped", errors.New("host closed"))
	if g != nil {
		g.drain(drainFor)
		g.stop()
	}
	img := p.image
	p.image = nil
	p.swapMu.Unlock()
	p.wg.Wait()
	img.remove()
}

// status reports the plugin for /v1/providers.
func (p *pluginProc) status() (PluginStatus, sdk.Info) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := PluginStatus{Name: p.name, Restarts: p.restarts, SHA256: p.lastSHA, Pinned: p.cfg.SHA256 != ""}
	if p.lastErr != nil {
		s.Error = p.lastErr.Error()
	}
	if p.gen == nil {
		return s, sdk.Info{}
	}
	s.Version = p.gen.info.Version
	s.Protocol = p.gen.protocol
	s.SHA256 = p.gen.sha256
	s.PID = p.gen.pid
	s.Up = true
	return s, p.gen.info
}

// instanceFault is instance's own answer while it does not serve on the
// current generation, or nil (also while the plugin is down: the plugin's
// state answers then).
func (p *pluginProc) instanceFault(instance string) error {
	if g := p.cur.Load(); g != nil {
		return g.instanceFault(instance)
	}
	return nil
}

// stopping reports whether stop has begun.
func (p *pluginProc) stopping() bool {
	select {
	case <-p.stopCh:
		return true
	default:
		return false
	}
}

// isReady reports whether the plugin is up.
func (p *pluginProc) isReady() bool {
	return p.cur.Load() != nil
}
