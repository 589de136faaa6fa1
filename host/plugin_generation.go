package host

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lendgate/lendgate/internal/launch"
	"github.com/lendgate/lendgate/sdk"
)

// generation is one running plugin process. A plugin has at most one current
// generation; start, restart and swap each launch a new one (a go-plugin
// Client cannot be restarted).
type generation struct {
	proc *launch.Plugin
	prov sdk.Provider
	info sdk.Info
	// instances is each provider instance's state on this process; the
	// keys are fixed once the generation is launched.
	instances map[string]*instanceState

	inflight  atomic.Int64
	retired   atomic.Bool
	idle      chan struct{} // closed once retired with no call in flight
	idleOnce  sync.Once
	stopWatch chan struct{} // closed by stop: the instances' re-checks end
	stopOnce  sync.Once
	dead      <-chan struct{} // closed once the process is gone
	gone      chan struct{}   // closed once g is no longer the current generation
	goneOnce  sync.Once
}

func newGeneration(proc *launch.Plugin) *generation {
	return &generation{proc: proc, prov: proc.Provider, dead: proc.Exited(),
		idle: make(chan struct{}), stopWatch: make(chan struct{}), gone: make(chan struct{})}
}

// acquire registers a call on g; false when g is retired (swapped or
// stopped) and the caller must pick the current generation again.
func (g *generation) acquire() bool {
	g.inflight.Add(1)
	if g.retired.Load() || g.exited() {
		g.release()
		return false
	}
	return true
}

// exited reports whether g's process is gone (before the host has noticed
// and replaced g, a call must not be sent to it).
func (g *generation) exited() bool {
	select {
	case <-g.dead:
		return true
	default:
		return false
	}
}

// markGone records that g is no longer the current generation: callers
// that found it retired or exited pick the current one again.
func (g *generation) markGone() { g.goneOnce.Do(func() { close(g.gone) }) }

// release ends a call acquired on g. The last call of a retired generation
// wakes its drain: retire stores before it loads the count, release counts
// down before it loads retired, so one of the two sees the other.
func (g *generation) release() {
	if g.inflight.Add(-1) == 0 && g.retired.Load() {
		g.idleOnce.Do(func() { close(g.idle) })
	}
}

// retire refuses new calls on g; those in flight go on.
func (g *generation) retire() {
	g.retired.Store(true)
	if g.inflight.Load() == 0 {
		g.idleOnce.Do(func() { close(g.idle) })
	}
}

// drain retires g and waits, at most max, for its calls in flight to end.
func (g *generation) drain(max time.Duration) bool {
	g.retire()
	t := time.NewTimer(max)
	defer t.Stop()
	select {
	case <-g.idle:
		return true
	case <-t.C:
		return false
	}
}

// instanceFault is instance's own answer while it does not serve on g, or
// nil.
func (g *generation) instanceFault(instance string) error {
	if st := g.instances[instance]; st != nil {
		return st.answer(time.Now())
	}
	return nil
}

// stop ends g's instance re-checks and kills its process.
func (g *generation) stop() {
	g.stopOnce.Do(func() { close(g.stopWatch) })
	g.proc.Kill()
}

// version is what a reload reports of g.
func (g *generation) version() PluginVersion {
	return PluginVersion{Version: g.info.Version, SHA256: g.proc.SHA256, PID: g.proc.PID}
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
