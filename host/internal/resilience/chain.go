package resilience

import (
	"context"

	"github.com/lendgate/lendgate/sdk"
)

// Call is one operation on a plugin.
type Call func(ctx context.Context, p sdk.Provider) error

// Endpoint runs a Call; a Middleware wraps an Endpoint in one layer of
// resilience (go-kit's shape).
type Endpoint func(ctx context.Context, c Call) error

// Middleware is one layer around an Endpoint.
type Middleware func(Endpoint) Endpoint

// Chain wraps e in the middlewares, the first one outermost.
func Chain(e Endpoint, outerFirst ...Middleware) Endpoint {
	for i := len(outerFirst) - 1; i >= 0; i-- {
		e = outerFirst[i](e)
	}
	return e
}

// Metrics receives what the layers count. The host's implementation keeps
// the Prometheus series of api.md §6 on its own registry.
type Metrics interface {
	// Limited counts a call of instance refused by its rate limiter.
	Limited(instance string)
	// BreakerState records instance's breaker state: 0 closed, 1
	// half-open, 2 open.
	BreakerState(instance string, state int)
}
