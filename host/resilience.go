package host

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/sdk"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/time/rate"
)

// providerCall is one operation on a plugin.
type providerCall func(ctx context.Context, p sdk.Provider) error

// endpoint runs a providerCall; middleware wraps an endpoint in one layer of
// resilience (go-kit's shape). An instance's chain is, outermost first:
// limit, break, deadline, plugin.
type endpoint func(ctx context.Context, c providerCall) error

type middleware func(endpoint) endpoint

func chain(e endpoint, outerFirst ...middleware) endpoint {
	for i := len(outerFirst) - 1; i >= 0; i-- {
		e = outerFirst[i](e)
	}
	return e
}

// limiter is an instance's token bucket plus the pause a distributor can ask
// for about the whole instance (its HTTP 429, or 503 with Retry-After). An
// answer about one request (CB's EBS-10060: no price for this title yet)
// carries sdk.ScopeRequest and pauses nothing (api.md §7).
type limiter struct {
	provider    string
	lim         *rate.Limiter
	maxWait     time.Duration
	pausedUntil atomic.Int64 // unix nanoseconds
	now         func() time.Time
	metrics     *metrics
	// shared, when set, is the instance's bucket in Redis; the local bucket
	// serves while Redis is unreachable.
	shared *sharedLimit
	log    hclog.Logger
}

func newLimiter(provider string, c RateConfig, m *metrics) *limiter {
	return &limiter{provider: provider, lim: rate.NewLimiter(rate.Limit(c.PerSecond), c.Burst),
		maxWait: time.Duration(c.MaxWait), now: time.Now, metrics: m}
}

// admit decides at now whether a call may go ahead, and after what delay. A
// call that would wait past maxWait is refused at once with rate_limited and
// its reservation is given back.
func (l *limiter) admit(now time.Time) (time.Duration, error) {
	if until := l.pausedUntil.Load(); until > now.UnixNano() {
		left := time.Duration(until - now.UnixNano())
		if left > l.maxWait {
			return 0, sdk.Errorf(sdk.CodeTryLater, "the distributor asked for a pause").WithRetryAfter(left)
		}
	}
	r := l.lim.ReserveN(now, 1)
	if !r.OK() {
		l.metrics.limited(l.provider)
		return 0, sdk.Errorf(sdk.CodeRateLimited, "rate limit of this provider instance reached")
	}
	delay := r.DelayFrom(now)
	if until := l.pausedUntil.Load(); until > now.UnixNano() {
		delay = max(delay, time.Duration(until-now.UnixNano()))
	}
	if delay > l.maxWait {
		r.CancelAt(now)
		l.metrics.limited(l.provider)
		return 0, sdk.Errorf(sdk.CodeRateLimited, "rate limit of this provider instance reached").WithRetryAfter(delay)
	}
	return delay, nil
}

// pause holds calls until now+d, because the distributor asked for it.
func (l *limiter) pause(d time.Duration) {
	until := l.now().Add(d).UnixNano()
	for {
		cur := l.pausedUntil.Load()
		if cur >= until || l.pausedUntil.CompareAndSwap(cur, until) {
			return
		}
	}
}

func (l *limiter) middleware(next endpoint) endpoint {
	return func(ctx context.Context, c providerCall) error {
		if err := l.take(ctx); err != nil {
			return err
		}
		err := next(ctx, c)
		if pausesInstance(err) {
			l.pause(sdk.BoundRetryAfter(sdk.AsError(err).RetryAfter))
		}
		return err
	}
}

// pausesInstance reports whether err is the distributor asking every caller
// of the instance to wait: try_later with a Retry-After and the instance
// scope. A try_later about one request answers that request only.
func pausesInstance(err error) bool {
	if err == nil {
		return false
	}
	e := sdk.AsError(err)
	return e.Code == sdk.CodeTryLater && e.RetryAfter > 0 && e.Scope == sdk.ScopeInstance
}

// take admits a call through the shared bucket when there is one, else the
// local one, waiting within max_wait.
func (l *limiter) take(ctx context.Context) error {
	if l.shared != nil {
		if until := l.pausedUntil.Load(); until > l.now().UnixNano() {
			if _, err := l.admit(l.now()); err != nil { // the pause answers as locally
				return err
			}
		}
		err := l.shared.admit(ctx)
		if err == nil || sdk.CodeOf(err) == sdk.CodeRateLimited {
			if err != nil {
				l.metrics.limited(l.provider)
			}
			return err
		}
		l.log.Warn("shared rate limit unreachable; using this node's", "provider", l.provider, "error", err)
	}
	delay, err := l.admit(l.now())
	if err != nil || delay <= 0 {
		return err
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return sdk.Wrap(sdk.CodeRateLimited, ctx.Err(), "canceled while waiting for the rate limiter")
	}
}

// breakerCounts reports whether a breaker counts err as a failure (api.md §3).
func breakerCounts(err error) bool { return sdk.CodeOf(err).CountsForBreaker() }

// breaker is an instance's circuit breaker.
type breaker struct {
	cb       *gobreaker.CircuitBreaker[struct{}]
	openFor  time.Duration
	openedAt atomic.Int64
	now      func() time.Time
	// shared, when set, carries the open state to and from other nodes.
	shared *sharedBreaker
}

func newBreaker(provider string, c BreakerConfig, log hclog.Logger, m *metrics) *breaker {
	b := &breaker{openFor: time.Duration(c.OpenFor), now: time.Now}
	b.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        provider,
		MaxRequests: c.HalfOpenRequests,
		Timeout:     time.Duration(c.OpenFor),
		ReadyToTrip: func(counts gobreaker.Counts) bool {
			return counts.ConsecutiveFailures >= c.ConsecutiveFailures
		},
		IsSuccessful: func(err error) bool { return err == nil || !breakerCounts(err) },
		// A caller that gave up says nothing about the distributor, a
		// plugin crash is the restart logic's business, and an instance
		// that does not serve (its Configure or Health failed) asked
		// nothing of the distributor: none counts.
		IsExcluded: func(err error) bool {
			return errors.Is(err, context.Canceled) || errors.Is(err, errPluginCrashed) || errors.Is(err, errInstanceFault)
		},
		OnStateChange: func(name string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				now := b.now()
				b.openedAt.Store(now.UnixNano())
				if b.shared != nil {
					go b.shared.opened(now)
				}
			}
			if to == gobreaker.StateClosed && b.shared != nil {
				go b.shared.closed()
			}
			log.Warn("breaker state change", "provider", name, "from", stateName(from), "to", stateName(to))
			m.breakerState(name, int(to))
		},
	})
	m.breakerState(provider, 0)
	return b
}

func stateName(s gobreaker.State) string {
	switch s {
	case gobreaker.StateClosed:
		return "closed"
	case gobreaker.StateHalfOpen:
		return "half-open"
	default:
		return "open"
	}
}

func (b *breaker) middleware(next endpoint) endpoint {
	return func(ctx context.Context, c providerCall) error {
		if b.shared != nil && b.cb.State() == gobreaker.StateClosed {
			if left := b.shared.openLeft(ctx, b.now()); left > 0 {
				return sdk.Errorf(sdk.CodeCircuitOpen, "the circuit breaker of this provider instance is open (on another node)").WithRetryAfter(max(left, time.Second))
			}
		}
		_, err := b.cb.Execute(func() (struct{}, error) { return struct{}{}, next(ctx, c) })
		switch {
		case errors.Is(err, gobreaker.ErrOpenState):
			left := time.Duration(b.openedAt.Load()+b.openFor.Nanoseconds()-b.now().UnixNano()) * time.Nanosecond
			left = time.Duration(math.Max(float64(left), float64(time.Second)))
			return sdk.Errorf(sdk.CodeCircuitOpen, "the circuit breaker of this provider instance is open").WithRetryAfter(left)
		case errors.Is(err, gobreaker.ErrTooManyRequests):
			return sdk.Errorf(sdk.CodeCircuitOpen, "the circuit breaker of this provider instance is half-open and probing").WithRetryAfter(time.Second)
		}
		return err
	}
}

func (b *breaker) status() BreakerStatus {
	st := BreakerStatus{State: stateName(b.cb.State()), Failures: b.cb.Counts().ConsecutiveFailures}
	if b.shared != nil && st.State == "closed" && b.shared.openLeft(context.Background(), b.now()) > 0 {
		st.State = "open"
	}
	return st
}

// deadline bounds a call by the instance's timeout; the deadline rides the
// context into the plugin and on into its outbound request.
func deadline(timeout time.Duration) middleware {
	return func(next endpoint) endpoint {
		return func(ctx context.Context, c providerCall) error {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			return next(ctx, c)
		}
	}
}

// errPluginCrashed marks the failure of a call that was in flight when its
// plugin process died.
var errPluginCrashed = errors.New("plugin process exited during the call")

// crashWait bounds how long a failed call waits to learn whether its plugin
// process died (the exit watch reports within microseconds on Linux).
const crashWait = 200 * time.Millisecond

// pluginEndpoint runs the call for instance on the plugin's current
// generation, waiting for a restarting plugin until the deadline. An
// instance that does not serve on that generation answers its own error.
func pluginEndpoint(p *pluginProc, instance string) endpoint {
	return func(ctx context.Context, c providerCall) error {
		g, err := p.acquire(ctx)
		if err != nil {
			return err
		}
		defer g.release()
		if err := g.instanceFault(instance); err != nil {
			return err
		}
		err = c(ctx, g.prov)
		if sdk.CodeOf(err) == sdk.CodePluginUnavailable && !errors.Is(err, context.Canceled) {
			t := time.NewTimer(crashWait)
			defer t.Stop()
			select {
			case <-g.dead:
				return sdk.Wrap(sdk.CodePluginUnavailable, errPluginCrashed, "plugin %s stopped during the call; it is being restarted", p.name).WithRetryAfter(time.Second)
			case <-t.C:
			}
		}
		return err
	}
}
