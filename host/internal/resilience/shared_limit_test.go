package resilience

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

type sharedAnswer struct{ err error }

func (s sharedAnswer) Admit(context.Context) error { return s.err }

// With a shared bucket, its refusal answers (and is counted); a bucket that
// cannot be reached leaves the node's own bucket in charge.
func TestSharedLimit(t *testing.T) {
	r := Rate{PerSecond: 1, Burst: 1, MaxWait: time.Millisecond}
	t.Run("refused by the shared bucket", func(t *testing.T) {
		m := &countingMetrics{}
		l := NewLimiter("p", r, sharedAnswer{sdk.Errorf(sdk.CodeRateLimited, "full").WithRetryAfter(time.Second)}, m, nil)
		err := l.Middleware(answering(nil))(context.Background(), nil)
		if sdk.CodeOf(err) != sdk.CodeRateLimited || m.limited != 1 {
			t.Fatalf("%v, counted %d: want rate_limited counted once", err, m.limited)
		}
	})
	t.Run("shared bucket unreachable", func(t *testing.T) {
		m := &countingMetrics{}
		l := NewLimiter("p", r, sharedAnswer{errors.New("connection refused")}, m, nil)
		call := l.Middleware(answering(nil))
		if err := call(context.Background(), nil); err != nil {
			t.Fatalf("first call on the node's bucket: %v", err)
		}
		if err := call(context.Background(), nil); sdk.CodeOf(err) != sdk.CodeRateLimited {
			t.Fatalf("second call: %v, want the node's own rate_limited", err)
		}
	})
}
