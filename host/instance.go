package host

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host/cluster"
	"github.com/lendgate/lendgate/host/internal/resilience"
	"github.com/lendgate/lendgate/sdk"
)

// Decisions where the contract is silent:
//   - An instance whose Configure is refused (any answer of the plugin
//     other than a timeout or plugin_unavailable) answers
//     provider_credentials with the plugin's reason until a new process is
//     configured (reload, SIGHUP, crash restart): settings that were refused
//     are refused again, so there is no retry loop. An instance whose
//     Health fails (or whose Configure got no answer) answers
//     plugin_unavailable, Retry-After = the next check, and is checked again
//     with capped backoff (1 s doubling to 1 min); a Health answering
//     provider_credentials answers that code. These answers do not count
//     towards the breaker (they asked nothing of the distributor) and do
//     not hold /readyz, which stays about the plugin processes: one
//     misconfigured account must not take its neighbours out of a load
//     balancer. GET /v1/providers shows such an instance with health "down"
//     and its "error".

// instance is one provider instance: a distributor account, its plugin, and
// the resilience state that belongs to it (and survives restarts and swaps).
type instance struct {
	name    string
	cfg     ProviderConfig
	plugin  *pluginProc
	breaker *resilience.Breaker
	call    resilience.Endpoint
	patrons *pseudonymizer
	log     hclog.Logger
	metrics *metrics
	// guard checks the plugin's answers (guard.go); guardedGen is the
	// provider of the generation last called seen through it, made once
	// per generation rather than once per call. (After a swap it holds the
	// retired generation until the instance's next call: one at most.)
	guard      *pluginGuard
	guardedGen atomic.Pointer[guardedOn]
}

// newInstance builds the instance's call once: limit, break, deadline, then
// its plugin. cl, when set, shares the limit and the breaker's open state
// with the other nodes.
func newInstance(name string, cfg ProviderConfig, p *pluginProc, log hclog.Logger, m *metrics, cl cluster.Cluster) *instance {
	cfg = cfg.WithDefaults()
	r := resilience.Rate{PerSecond: cfg.Rate.PerSecond, Burst: cfg.Rate.Burst, MaxWait: time.Duration(cfg.Rate.MaxWait)}
	var (
		sharedLimit   resilience.SharedLimit
		sharedBreaker resilience.SharedBreaker
	)
	if cl != nil {
		sharedLimit = cl.Limit(name, cluster.Rate(r))
		sharedBreaker = cl.Breaker(name, time.Duration(cfg.Breaker.OpenFor))
	}
	lim := resilience.NewLimiter(name, r, sharedLimit, m, log)
	in := &instance{name: name, cfg: cfg, plugin: p, log: log, metrics: m,
		guard: &pluginGuard{provider: name, log: log, metrics: m},
		breaker: resilience.NewBreaker(name, resilience.BreakerSettings{
			ConsecutiveFailures: cfg.Breaker.ConsecutiveFailures,
			OpenFor:             time.Duration(cfg.Breaker.OpenFor),
			HalfOpenRequests:    cfg.Breaker.HalfOpenRequests,
			Excluded:            notCounted,
		}, sharedBreaker, m, log),
	}
	in.call = resilience.Chain(pluginEndpoint(p, name, in.guardedOn), lim.Middleware, in.breaker.Middleware, resilience.Deadline(time.Duration(cfg.Timeout)))
	return in
}

// breakerStatus is the instance's breaker as GET /v1/providers shows it.
func (in *instance) breakerStatus() BreakerStatus {
	state, failures := in.breaker.State()
	return BreakerStatus{State: state, Failures: failures}
}

// settings are what the plugin's Configure receives: the instance's
// settings plus the host-level switches the plugin must honour.
func (in *instance) settings() map[string]string {
	s := cloneMap(in.cfg.Settings)
	if s == nil {
		s = map[string]string{}
	}
	if in.cfg.AllowInsecureHTTP {
		s[sdk.SettingAllowInsecureHTTP] = "true"
	}
	return s
}

// info is what the running plugin declared; ok is false while it is down.
func (in *instance) info() (sdk.Info, bool) {
	g := in.plugin.cur.Load()
	if g == nil {
		return sdk.Info{}, false
	}
	return g.info, true
}

// requireCapability refuses an operation the plugin did not declare. While
// the plugin is down it lets the call through, to wait for it or answer
// plugin_unavailable.
func (in *instance) requireCapability(c sdk.Capability) error {
	info, ok := in.info()
	if ok && !info.Has(c) {
		return sdk.Errorf(sdk.CodeUnsupportedOperation, "provider %s does not offer %s", in.name, c)
	}
	return nil
}

func (in *instance) do(ctx context.Context, c resilience.Call) error {
	return in.call(ctx, c)
}

// lease bounds how long one call to this instance can run: the limiter's
// longest wait, the deadline, and a margin for the journal. A claim on an
// Idempotency-Key older than this belongs to a node that died.
func (in *instance) lease() time.Duration {
	return time.Duration(in.cfg.Rate.MaxWait) + time.Duration(in.cfg.Timeout) + 5*time.Second
}
