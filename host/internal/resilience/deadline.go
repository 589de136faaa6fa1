package resilience

import (
	"context"
	"time"
)

// Deadline bounds a call by the instance's timeout; the deadline rides the
// context into the plugin and on into its outbound request.
func Deadline(timeout time.Duration) Middleware {
	return func(next Endpoint) Endpoint {
		return func(ctx context.Context, c Call) error {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			return next(ctx, c)
		}
	}
}
