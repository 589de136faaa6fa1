package host

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/internal/launch"
	"github.com/lendgate/lendgate/sdk"
)

// The plugin lifecycle, in the verbs of the code: start launches the first
// generation; launch is one generation's process start (internal/launch),
// describe, configure and health of every instance; a generation that exits
// by itself is restarted (scheduleRestart, with backoff); swap launches a new
// generation from a new binary and drains the old one; stop drains and stops
// the current one for good. Calls acquire the current generation and release
// it when done.

// Test hooks of the private copy (launch.CopyOptions).
var (
	afterPluginHash func(path string)
	memfdImages     = true
)

// instanceSetup is what a plugin needs to configure one provider instance.
type instanceSetup struct {
	name     string
	settings map[string]string
}

// pluginState is where a plugin is in its lifecycle.
type pluginState int

const (
	stateStarting   pluginState = iota // first start under way
	stateUp                            // a generation serves
	stateRestarting                    // its process exited; restarting with backoff
	stateFailed                        // its start failed; retried with backoff
	stateStopped                       // the host closed it
)

// refusing reports whether calls are answered at once rather than waiting
// for a generation.
func (s pluginState) refusing() bool { return s == stateFailed || s == stateStopped }

// pluginProc is one named plugin of the catalog and its current generation.
type pluginProc struct {
	name      string
	log       hclog.Logger
	instances []instanceSetup
	metrics   *metrics

	// cur is the current generation, nil while the plugin is down: the one
	// source of truth, read without a lock by every call. It changes only
	// under mu, together with state, ready and lastErr.
	cur atomic.Pointer[generation]

	mu       sync.Mutex
	cfg      PluginConfig
	ready    chan struct{} // closed while a generation is up
	state    pluginState
	lastErr  error
	restarts int
	lastSHA  string
	// image is the private copy of cfg's binary that starts and crash
	// restarts execute (swapMu): a restart runs the bytes already checked,
	// without reading the path again. A swap makes a new one.
	image *launch.Image

	swapMu sync.Mutex // one start/swap at a time
	stopCh chan struct{}
	wg     sync.WaitGroup
}

func newPluginProc(name string, cfg PluginConfig, log hclog.Logger, m *metrics) *pluginProc {
	return &pluginProc{name: name, cfg: cfg, log: log.Named("plugin").With("plugin", name), metrics: m,
		ready: make(chan struct{}), state: stateStarting, stopCh: make(chan struct{})}
}

// copyBinary makes the private copy of cfg's binary, checked against its pin.
func (p *pluginProc) copyBinary(cfg PluginConfig) (*launch.Image, error) {
	return launch.Copy(p.name, cfg.Path, cfg.SHA256, launch.CopyOptions{AfterHash: afterPluginHash, NoMemfd: !memfdImages})
}

// currentImage returns the private copy of p.cfg's binary for a start or a
// restart, making it when there is none yet. Call with swapMu held.
func (p *pluginProc) currentImage(cfg PluginConfig) (*launch.Image, error) {
	if p.image != nil {
		return p.image, nil
	}
	bin, err := p.copyBinary(cfg)
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
func (p *pluginProc) launch(ctx context.Context, cfg PluginConfig, bin *launch.Image) (*generation, error) {
	if cfg.SHA256 == "" {
		p.log.Warn("plugin is not pinned (\"unpinned\": true): whatever binary is at its path runs; set sha256 outside development", "path", cfg.Path, "sha256", bin.SHA256())
	}
	proc, err := launch.Start(ctx, launch.Config{Image: bin, Args0: cfg.Path, Logger: p.log})
	if err != nil {
		return nil, fmt.Errorf("start plugin %q: %w", p.name, err)
	}
	g := newGeneration(proc)
	if g.info, err = g.prov.Describe(ctx); err != nil {
		g.stop()
		return nil, fmt.Errorf("describe plugin %q: %w", p.name, err)
	}
	p.setUpInstances(ctx, g)
	return g, nil
}

// start launches the first generation; on failure the plugin is left in the
// failed state and restarted in the background with backoff.
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
		p.setDown(stateFailed, err)
		p.log.Error("start failed", "error", err)
		p.scheduleRestart()
		return err
	}
	p.setUp(g)
	p.log.Info("started", "version", g.info.Version, "pid", g.proc.PID, "sha256", g.proc.SHA256)
	return nil
}

// setUp makes g the current generation and watches it for a crash.
func (p *pluginProc) setUp(g *generation) {
	p.mu.Lock()
	if old := p.cur.Swap(g); old != nil && old != g {
		old.markGone()
	}
	p.state = stateUp
	p.lastErr = nil
	p.lastSHA = g.proc.SHA256
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

// setDown marks the plugin down: calls wait on a fresh ready channel, or
// are refused at once when state says so.
func (p *pluginProc) setDown(state pluginState, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if old := p.cur.Swap(nil); old != nil {
		old.markGone()
	}
	p.state = state
	p.lastErr = err
	select {
	case <-p.ready:
		p.ready = make(chan struct{})
	default:
	}
	p.metrics.pluginUp(p.name, false)
}

// watch restarts the plugin when g's process exits while g is current and
// was not stopped on purpose.
func (p *pluginProc) watch(g *generation) {
	defer p.wg.Done()
	select {
	case <-g.stopWatch:
		return
	case <-p.stopCh:
		return
	case <-g.dead:
	}
	if g.retired.Load() || p.cur.Load() != g {
		return // stopped on purpose (swap or Close)
	}
	p.log.Error("plugin process exited; restarting", "pid", g.proc.PID)
	g.retire()
	g.stop()
	p.setDown(stateRestarting, errors.New("plugin process exited"))
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
			if p.restart(attempt) {
				return
			}
		}
	}()
}

// restart is one attempt of scheduleRestart; true when there is nothing
// more to do (the plugin is up again, or the host closes).
func (p *pluginProc) restart(attempt int) bool {
	p.swapMu.Lock()
	defer p.swapMu.Unlock()
	p.mu.Lock()
	cfg := p.cfg
	p.mu.Unlock()
	if p.cur.Load() != nil || p.stopping() { // a swap brought it back meanwhile, or the host closes
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bin, err := p.currentImage(cfg)
	var g *generation
	if err == nil {
		g, err = p.launch(ctx, cfg, bin)
	}
	if err != nil {
		p.mu.Lock()
		p.lastErr = err
		p.mu.Unlock()
		p.log.Warn("restart failed", "attempt", attempt+1, "error", err)
		return false
	}
	p.mu.Lock()
	p.restarts++
	p.mu.Unlock()
	p.metrics.pluginRestart(p.name)
	if p.stopping() { // stopped while starting
		g.retire()
		g.stop()
		return true
	}
	p.setUp(g)
	p.log.Info("restarted", "version", g.info.Version, "pid", g.proc.PID)
	return true
}

// acquire returns the current generation with a call registered on it. While
// the plugin restarts it waits, until ctx is done; a plugin whose start
// failed, or that is stopped, answers at once.
func (p *pluginProc) acquire(ctx context.Context) (*generation, error) {
	for {
		if g := p.cur.Load(); g != nil {
			if g.acquire() {
				return g, nil
			}
			// Retired by a swap, or its process exited and the watch has
			// not replaced it yet: wait until it is no longer current.
			select {
			case <-g.gone:
			case <-ctx.Done():
				return nil, sdk.Errorf(sdk.CodePluginUnavailable, "plugin %s is restarting", p.name).WithRetryAfter(time.Second)
			}
			continue
		}
		p.mu.Lock()
		ready, state, lastErr := p.ready, p.state, p.lastErr
		up := p.cur.Load() != nil
		p.mu.Unlock()
		if up {
			continue
		}
		if state.refusing() {
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

// swap launches a new generation from cfg and switches calls to it; the old
// one drains its calls in flight (at most drainFor) and is stopped. A
// failure before the switch leaves the old one serving.
func (p *pluginProc) swap(ctx context.Context, cfg PluginConfig, drainFor time.Duration) (ReloadResult, error) {
	p.swapMu.Lock()
	defer p.swapMu.Unlock()
	if p.stopping() {
		return ReloadResult{}, fmt.Errorf("swap plugin %q: the host is closing", p.name)
	}
	refuse := func(err error) (ReloadResult, error) {
		p.log.Error("swap refused; the running plugin keeps serving", "error", err)
		return ReloadResult{}, err
	}
	bin, err := p.copyBinary(cfg)
	if err != nil {
		return refuse(fmt.Errorf("start plugin %q: %w", p.name, err))
	}
	g, err := p.launch(ctx, cfg, bin)
	if err != nil {
		bin.Remove()
		return refuse(err)
	}
	old := p.cur.Load()
	if err := regression(old, g); err != nil {
		g.stop()
		bin.Remove()
		return refuse(fmt.Errorf("swap plugin %q: %w", p.name, err))
	}
	// The old copy goes once the old process is stopped (below): crash
	// restarts from now on run the new one.
	oldImage := p.image
	defer oldImage.Remove()
	p.image = bin
	p.mu.Lock()
	p.cfg = cfg
	p.mu.Unlock()
	res := ReloadResult{Plugin: p.name, New: g.version()}
	if old != nil {
		res.Old = old.version()
		// Retire first so the crash watch does not take the kill for a crash.
		old.retire()
	}
	p.setUp(g)
	if old != nil {
		if !old.drain(drainFor) {
			p.log.Warn("drain timed out; stopping with calls in flight", "pid", old.proc.PID)
		}
		old.stop()
	}
	p.log.Info("swapped", "old_version", res.Old.Version, "new_version", res.New.Version, "pid", g.proc.PID)
	return res, nil
}

// stop ends the plugin: no restart, current generation drained and stopped.
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
	g := p.cur.Load()
	p.setDown(stateStopped, errors.New("host closed"))
	if g != nil {
		g.drain(drainFor)
		g.stop()
	}
	img := p.image
	p.image = nil
	p.swapMu.Unlock()
	p.wg.Wait()
	img.Remove()
}

// status reports the plugin for /v1/providers.
func (p *pluginProc) status() (PluginStatus, sdk.Info) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := PluginStatus{Name: p.name, Restarts: p.restarts, SHA256: p.lastSHA, Pinned: p.cfg.SHA256 != ""}
	if p.lastErr != nil {
		s.Error = p.lastErr.Error()
	}
	g := p.cur.Load()
	if g == nil {
		return s, sdk.Info{}
	}
	s.Version = g.info.Version
	s.Protocol = g.proc.Version
	s.SHA256 = g.proc.SHA256
	s.PID = g.proc.PID
	s.Up = true
	return s, g.info
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
