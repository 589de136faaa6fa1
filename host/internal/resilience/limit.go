package resilience

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/sdk"
	"golang.org/x/time/rate"
)

// Rate is an instance's token bucket (golang.org/x/time/rate): PerSecond
// tokens a second, Burst at most, and the longest a call waits for one.
type Rate struct {
	PerSecond float64
	Burst     int
	MaxWait   time.Duration
}

// SharedLimit is a token bucket shared with other nodes (package cluster's
// Limit). Admit refuses with an sdk rate_limited error; any other error
// means the shared bucket is unreachable.
type SharedLimit interface {
	Admit(ctx context.Context) error
}

// Limiter is an instance's token bucket plus the pause a distributor can ask
// for about the whole instance (its HTTP 429, or 503 with Retry-After). An
// answer about one request (CB's EBS-10060: no price for this title yet)
// carries sdk.ScopeRequest and pauses nothing (api.md §7).
type Limiter struct {
	instance    string
	lim         *rate.Limiter
	maxWait     time.Duration
	pausedUntil atomic.Int64 // unix nanoseconds
	now         func() time.Time
	metrics     Metrics
	log         hclog.Logger
	// shared, when set, is the instance's bucket on every node; the local
	// bucket serves while it is unreachable.
	shared SharedLimit
}

// NewLimiter returns instance's limiter; shared may be nil (per-node limits
// only).
func NewLimiter(instance string, r Rate, shared SharedLimit, m Metrics, log hclog.Logger) *Limiter {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Limiter{instance: instance, lim: rate.NewLimiter(rate.Limit(r.PerSecond), r.Burst),
		maxWait: r.MaxWait, now: time.Now, metrics: m, log: log, shared: shared}
}

// admit decides at now whether a call may go ahead, and after what delay. A
// call that would wait past maxWait is refused at once with rate_limited and
// its reservation is given back.
func (l *Limiter) admit(now time.Time) (time.Duration, error) {
	if until := l.pausedUntil.Load(); until > now.UnixNano() {
		left := time.Duration(until - now.UnixNano())
		if left > l.maxWait {
			return 0, sdk.Errorf(sdk.CodeTryLater, "the distributor asked for a pause").WithRetryAfter(left)
		}
	}
	r := l.lim.ReserveN(now, 1)
	if !r.OK() {
		l.metrics.Limited(l.instance)
		return 0, sdk.Errorf(sdk.CodeRateLimited, "rate limit of this provider instance reached")
	}
	delay := r.DelayFrom(now)
	if until := l.pausedUntil.Load(); until > now.UnixNano() {
		delay = max(delay, time.Duration(until-now.UnixNano()))
	}
	if delay > l.maxWait {
		r.CancelAt(now)
		l.metrics.Limited(l.instance)
		return 0, sdk.Errorf(sdk.CodeRateLimited, "rate limit of this provider instance reached").WithRetryAfter(delay)
	}
	return delay, nil
}

// pause holds calls until now+d, because the distributor asked for it.
func (l *Limiter) pause(d time.Duration) {
	until := l.now().Add(d).UnixNano()
	for {
		cur := l.pausedUntil.Load()
		if cur >= until || l.pausedUntil.CompareAndSwap(cur, until) {
			return
		}
	}
}

// Middleware admits each call through the limiter, and pauses the instance
// when the distributor's answer asks for it.
func (l *Limiter) Middleware(next Endpoint) Endpoint {
	return func(ctx context.Context, c Call) error {
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
func (l *Limiter) take(ctx context.Context) error {
	if l.shared != nil {
		if until := l.pausedUntil.Load(); until > l.now().UnixNano() {
			if _, err := l.admit(l.now()); err != nil { // the pause answers as locally
				return err
			}
		}
		err := l.shared.Admit(ctx)
		if err == nil || sdk.CodeOf(err) == sdk.CodeRateLimited {
			if err != nil {
				l.metrics.Limited(l.instance)
			}
			return err
		}
		l.log.Warn("shared rate limit unreachable; using this node's", "provider", l.instance, "error", err)
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
