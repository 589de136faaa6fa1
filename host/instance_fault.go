package host

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// One instance's fault stays its own (api.md §7). A plugin process serves
// several provider instances; when its Configure or Health fails for one of
// them, only that instance answers, with its own reason, and the process
// and its other instances go on serving.

// errInstanceFault marks the answer of an instance whose Configure or
// Health failed. The breaker does not count it: nothing was asked of the
// distributor.
var errInstanceFault = errors.New("provider instance is not serving")

// Health re-checks of an unhealthy instance: capped exponential backoff.
// Variables so that tests need not wait.
var (
	healthRetryFirst = time.Second
	healthRetryMax   = time.Minute
	// afterRecheck, when set (tests only), is told each re-check's outcome.
	afterRecheck func(instance string, fault *sdk.Error)
)

// instanceState is one instance on one generation: nil fault while it
// serves.
type instanceState struct {
	fault atomic.Pointer[sdk.Error]
	// configured is set once the plugin accepted the instance's settings.
	configured atomic.Bool
	// nextCheck is when a failed instance is checked again (unix ns): the
	// Retry-After of its answers.
	nextCheck atomic.Int64
}

// answer returns the instance's fault for one call (a copy: callers may
// change it), or nil.
func (s *instanceState) answer(now time.Time) error {
	f := s.fault.Load()
	if f == nil {
		return nil
	}
	e := *f
	if e.Code == sdk.CodePluginUnavailable {
		e.RetryAfter = max(time.Second, time.Duration(s.nextCheck.Load()-now.UnixNano()).Round(time.Second))
	}
	return &e
}

// permanentConfigure reports whether a refused Configure will be refused
// again as long as neither the settings nor the binary change: the plugin
// judged the settings. A Configure that did not get an answer (timeout,
// plugin gone) is not permanent.
func permanentConfigure(err error) bool {
	switch sdk.CodeOf(err) {
	case sdk.CodeProviderTimeout, sdk.CodePluginUnavailable, sdk.CodeTryLater:
		return false
	}
	return !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled)
}

// configureFault is the answer of an instance whose settings its plugin
// refused: a configuration fault, named for this instance only.
func configureFault(instance string, err error) *sdk.Error {
	e := sdk.AsError(err)
	f := sdk.Wrap(sdk.CodeProviderCredentials, errInstanceFault, "provider %s is not configured: its plugin refused the settings: %s", instance, e.Message)
	f.ProviderCode = e.ProviderCode
	return f
}

// healthFault is the answer of an instance that failed its health check:
// provider_credentials when the distributor refused the credentials, else
// plugin_unavailable until a later check succeeds.
func healthFault(instance, step string, err error) *sdk.Error {
	e := sdk.AsError(err)
	code := sdk.CodePluginUnavailable
	if e.Code == sdk.CodeProviderCredentials {
		code = sdk.CodeProviderCredentials
	}
	f := sdk.Wrap(code, errInstanceFault, "provider %s failed its %s: %s", instance, step, e.Message)
	f.ProviderCode = e.ProviderCode
	return f
}

// setUpInstances configures every instance on g, then health-checks those
// configured. Failures are recorded per instance, never returned: they do
// not fail the generation. An instance whose settings the plugin refused is
// not retried in a loop: only a new generation (reload, swap, or a restart
// after a crash) configures it again. Any other failure is checked again
// with capped backoff.
func (p *pluginProc) setUpInstances(ctx context.Context, g *generation) {
	g.instances = make(map[string]*instanceState, len(p.instances))
	for _, in := range p.instances {
		g.instances[in.name] = &instanceState{}
	}
	for _, in := range p.instances {
		st := g.instances[in.name]
		fault, permanent := p.checkInstance(ctx, g, in, st)
		if fault == nil {
			continue
		}
		st.fault.Store(fault)
		if permanent {
			p.log.Error("provider instance refused by its plugin; it answers provider_credentials until the plugin is reloaded", "provider", in.name, "error", fault.Message)
			continue
		}
		p.log.Warn("provider instance is not serving; it is checked again with backoff", "provider", in.name, "error", fault.Message)
		st.nextCheck.Store(time.Now().Add(healthRetryFirst).UnixNano())
		p.wg.Add(1)
		go p.recheck(g, in, st)
	}
}

// recheck checks a failed instance again with capped backoff until it
// serves, its generation ends, or its plugin refuses its settings.
func (p *pluginProc) recheck(g *generation, in instanceSetup, st *instanceState) {
	defer p.wg.Done()
	b := newBackoff(healthRetryFirst, healthRetryMax)
	for {
		d := b.next()
		st.nextCheck.Store(time.Now().Add(d).UnixNano())
		t := time.NewTimer(d)
		select {
		case <-g.stopWatch:
			t.Stop()
			return
		case <-g.dead:
			t.Stop()
			return
		case <-p.stopCh:
			t.Stop()
			return
		case <-t.C:
		}
		if !g.acquire() { // swapped or stopped meanwhile
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		fault, permanent := p.checkInstance(ctx, g, in, st)
		cancel()
		g.release()
		st.fault.Store(fault)
		if afterRecheck != nil {
			afterRecheck(in.name, fault)
		}
		switch {
		case fault == nil:
			p.log.Info("provider instance serves again", "provider", in.name)
			return
		case permanent:
			p.log.Error("provider instance refused by its plugin; it answers provider_credentials until the plugin is reloaded", "provider", in.name, "error", fault.Message)
			return
		}
	}
}

// checkInstance configures the instance if the plugin has not accepted it
// yet on g, then checks its health. permanent is true when the plugin
// refused the settings.
func (p *pluginProc) checkInstance(ctx context.Context, g *generation, in instanceSetup, st *instanceState) (fault *sdk.Error, permanent bool) {
	if !st.configured.Load() {
		if err := g.prov.Configure(ctx, in.name, in.settings); err != nil {
			if permanentConfigure(err) {
				return configureFault(in.name, err), true
			}
			return healthFault(in.name, "configuration", err), false
		}
		st.configured.Store(true)
	}
	if err := g.prov.Health(ctx, in.name); err != nil {
		return healthFault(in.name, "health check", err), false
	}
	return nil, false
}
