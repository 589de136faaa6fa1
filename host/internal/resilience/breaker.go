package resilience

import (
	"context"
	"errors"
	"time"

	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/sdk"
	"github.com/sony/gobreaker/v2"
)

// BreakerSettings are an instance's breaker thresholds (sony/gobreaker v2).
type BreakerSettings struct {
	// ConsecutiveFailures counted failures in a row open the breaker.
	ConsecutiveFailures uint32
	// OpenFor is how long it stays open before probing.
	OpenFor time.Duration
	// HalfOpenRequests probes may run at once while half-open.
	HalfOpenRequests uint32
	// Excluded, when set, marks errors that neither count nor reset the
	// count, beside context.Canceled (see the package doc).
	Excluded func(error) bool
}

// SharedBreaker carries an instance's open breaker to and from other nodes
// (package cluster's Breaker).
type SharedBreaker interface {
	Opened(now time.Time)
	Closed()
	OpenLeft(ctx context.Context, now time.Time) time.Duration
}

// Breaker is an instance's circuit breaker.
type Breaker struct {
	cb       *gobreaker.CircuitBreaker[struct{}]
	openFor  time.Duration
	openedAt atomic.Int64
	now      func() time.Time
	// shared, when set, carries the open state to and from other nodes.
	shared SharedBreaker
}

// counts reports whether a breaker counts err as a failure (api.md §3),
// as sdk's code table says.
func counts(err error) bool { return sdk.CodeOf(err).CountsForBreaker() }

// NewBreaker returns instance's breaker; shared may be nil (per-node state
// only).
func NewBreaker(instance string, s BreakerSettings, shared SharedBreaker, m Metrics, log hclog.Logger) *Breaker {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	b := &Breaker{openFor: s.OpenFor, now: time.Now, shared: shared}
	b.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        instance,
		MaxRequests: s.HalfOpenRequests,
		Timeout:     s.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= s.ConsecutiveFailures
		},
		IsSuccessful: func(err error) bool { return err == nil || !counts(err) },
		IsExcluded: func(err error) bool {
			return errors.Is(err, context.Canceled) || (s.Excluded != nil && s.Excluded(err))
		},
		OnStateChange: func(name string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				now := b.now()
				b.openedAt.Store(now.UnixNano())
				if b.shared != nil {
					go b.shared.Opened(now)
				}
			}
			if to == gobreaker.StateClosed && b.shared != nil {
				go b.shared.Closed()
			}
			log.Warn("breaker state change", "provider", name, "from", stateName(from), "to", stateName(to))
			m.BreakerState(name, int(to))
		},
	})
	m.BreakerState(instance, 0)
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

// Middleware runs each call through the breaker; an open breaker answers
// circuit_open with the time it has left (at least a second).
func (b *Breaker) Middleware(next Endpoint) Endpoint {
	return func(ctx context.Context, c Call) error {
		if b.shared != nil && b.cb.State() == gobreaker.StateClosed {
			if left := b.shared.OpenLeft(ctx, b.now()); left > 0 {
				return sdk.Errorf(sdk.CodeCircuitOpen, "the circuit breaker of this provider instance is open (on another node)").WithRetryAfter(max(left, time.Second))
			}
		}
		_, err := b.cb.Execute(func() (struct{}, error) { return struct{}{}, next(ctx, c) })
		switch {
		case errors.Is(err, gobreaker.ErrOpenState):
			left := time.Duration(b.openedAt.Load() + b.openFor.Nanoseconds() - b.now().UnixNano())
			return sdk.Errorf(sdk.CodeCircuitOpen, "the circuit breaker of this provider instance is open").WithRetryAfter(max(left, time.Second))
		case errors.Is(err, gobreaker.ErrTooManyRequests):
			return sdk.Errorf(sdk.CodeCircuitOpen, "the circuit breaker of this provider instance is half-open and probing").WithRetryAfter(time.Second)
		}
		return err
	}
}

// State is the breaker's state as GET /v1/providers shows it ("closed",
// "half-open" or "open"; open too while another node holds it open) and
// its consecutive failures.
func (b *Breaker) State() (state string, failures uint32) {
	state, failures = stateName(b.cb.State()), b.cb.Counts().ConsecutiveFailures
	if b.shared != nil && state == "closed" && b.shared.OpenLeft(context.Background(), b.now()) > 0 {
		state = "open"
	}
	return state, failures
}
