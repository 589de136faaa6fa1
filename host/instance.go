package host

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/sdk"
)

// instance is one provider instance: a distributor account, its plugin, and
// the resilience state that belongs to it (and survives restarts and swaps).
type instance struct {
	name    string
	cfg     ProviderConfig
	plugin  *pluginProc
	limiter *limiter
	breaker *breaker
	call    endpoint
	patrons *pseudonymizer
}

func newInstance(name string, cfg ProviderConfig, p *pluginProc, log hclog.Logger, m *metrics, cl *cluster) *instance {
	cfg = cfg.withDefaults()
	in := &instance{name: name, cfg: cfg, plugin: p,
		limiter: newLimiter(name, cfg.Rate, m),
		breaker: newBreaker(name, cfg.Breaker, log, m),
	}
	in.limiter.log = log
	if cl != nil {
		in.limiter.shared = newSharedLimit(cl, name, cfg.Rate)
		in.breaker.shared = newSharedBreaker(cl, name, time.Duration(cfg.Breaker.OpenFor))
	}
	in.call = chain(pluginEndpoint(p, name), in.limiter.middleware, in.breaker.middleware, deadline(time.Duration(cfg.Timeout)))
	return in
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

func (in *instance) do(ctx context.Context, c providerCall) error {
	return in.call(ctx, func(ctx context.Context, p sdk.Provider) error { return c(ctx, in.guarded(p)) })
}

// lease bounds how long one call to this instance can run: the limiter's
// longest wait, the deadline, and a margin for the journal. A claim on an
// Idempotency-Key older than this belongs to a node that died.
func (in *instance) lease() time.Duration {
	return time.Duration(in.cfg.Rate.MaxWait) + time.Duration(in.cfg.Timeout) + 5*time.Second
}
