package resilience

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Chain applies its middlewares outermost first.
func TestChainOrder(t *testing.T) {
	var trace []string
	layer := func(name string) Middleware {
		return func(next Endpoint) Endpoint {
			return func(ctx context.Context, c Call) error {
				trace = append(trace, name)
				return next(ctx, c)
			}
		}
	}
	e := Chain(func(ctx context.Context, c Call) error { return c(ctx, nil) }, layer("limit"), layer("break"), layer("deadline"))
	_ = e(context.Background(), func(context.Context, sdk.Provider) error { trace = append(trace, "plugin"); return nil })
	if got := strings.Join(trace, " "); got != "limit break deadline plugin" {
		t.Fatalf("order %q", got)
	}
}

// Deadline bounds the call's context by the timeout.
func TestDeadlineRidesTheContext(t *testing.T) {
	e := Deadline(time.Minute)(func(ctx context.Context, _ Call) error {
		d, ok := ctx.Deadline()
		if !ok || time.Until(d) > time.Minute || time.Until(d) < 59*time.Second {
			t.Errorf("deadline %v (set %v), want a minute from now", d, ok)
		}
		return nil
	})
	_ = e(context.Background(), nil)
}
