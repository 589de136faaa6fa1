package resilience

import (
	"context"
	"testing"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// TestPauseHasTheScopeOfItsCause runs the limiter's middleware over answers
// of both scopes: only an instance-scoped try_later pauses the next call.
func TestPauseHasTheScopeOfItsCause(t *testing.T) {
	tests := []struct {
		name   string
		answer *sdk.Error
		paused bool
	}{
		{"request scope (CB EBS-10060)", sdk.Errorf(sdk.CodeTryLater, "no price yet").WithRetryAfter(time.Hour).ForRequest(), false},
		{"instance scope (HTTP 429)", sdk.Errorf(sdk.CodeTryLater, "slow down").WithRetryAfter(time.Hour), true},
		{"no Retry-After", sdk.Errorf(sdk.CodeTryLater, "later"), false},
		{"another code", sdk.Errorf(sdk.CodeProviderError, "broken").WithRetryAfter(time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimiter(Rate{PerSecond: 100, Burst: 100, MaxWait: time.Second})
			first := true
			call := l.Middleware(func(context.Context, Call) error {
				if first {
					first = false
					return tt.answer
				}
				return nil
			})
			if err := call(context.Background(), nil); sdk.CodeOf(err) != tt.answer.Code {
				t.Fatalf("first call: %v", err)
			}
			err := call(context.Background(), nil)
			if paused := sdk.CodeOf(err) == sdk.CodeTryLater; paused != tt.paused {
				t.Fatalf("next call: %v; paused %v, want %v", err, paused, tt.paused)
			}
			if tt.paused && sdk.AsError(err).RetryAfter <= 59*time.Minute {
				t.Fatalf("paused for %v, want about an hour", sdk.AsError(err).RetryAfter)
			}
		})
	}
}
