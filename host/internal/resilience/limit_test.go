package resilience

import (
	"testing"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

func TestLimiterBurstThenRefusal(t *testing.T) {
	const burst, extra = 5, 3
	l := newLimiter(Rate{PerSecond: 2, Burst: burst, MaxWait: 100 * time.Millisecond})
	now := time.Unix(1_700_000_000, 0)
	for i := range burst + extra {
		delay, err := l.admit(now)
		switch {
		case i < burst:
			if err != nil || delay != 0 {
				t.Fatalf("call %d: delay %v err %v, want admitted at once", i, delay, err)
			}
		default:
			e := sdk.AsError(err)
			if e == nil || e.Code != sdk.CodeRateLimited {
				t.Fatalf("call %d: %v, want rate_limited", i, err)
			}
			// The bucket is empty and refills at 2/s: the next token is 500 ms away.
			if e.RetryAfter != 500*time.Millisecond {
				t.Errorf("call %d: Retry-After %v, want 500ms", i, e.RetryAfter)
			}
		}
	}
	// Refused calls gave their reservations back: half a second later one
	// token is there, not fewer.
	if d, err := l.admit(now.Add(500 * time.Millisecond)); err != nil || d != 0 {
		t.Fatalf("after 500ms: delay %v err %v", d, err)
	}
}

func TestLimiterWaitsWithinMaxWait(t *testing.T) {
	l := newLimiter(Rate{PerSecond: 10, Burst: 1, MaxWait: 250 * time.Millisecond})
	now := time.Unix(1_700_000_000, 0)
	if d, err := l.admit(now); d != 0 || err != nil {
		t.Fatalf("first: %v %v", d, err)
	}
	// 100 ms per token: the next two calls wait 100 and 200 ms, the third
	// would wait 300 ms > max_wait and is refused.
	for i, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond} {
		if d, err := l.admit(now); d != want || err != nil {
			t.Fatalf("call %d: delay %v err %v, want %v", i+2, d, err, want)
		}
	}
	if _, err := l.admit(now); sdk.CodeOf(err) != sdk.CodeRateLimited {
		t.Fatalf("third waiting call: %v, want rate_limited", err)
	}
}

func TestLimiterPauseFromDistributor(t *testing.T) {
	l := newLimiter(Rate{PerSecond: 100, Burst: 100, MaxWait: time.Second})
	now := time.Unix(1_700_000_000, 0)
	l.now = func() time.Time { return now }
	l.pause(10 * time.Second)
	_, err := l.admit(now.Add(time.Second))
	if e := sdk.AsError(err); e == nil || e.Code != sdk.CodeTryLater || e.RetryAfter != 9*time.Second {
		t.Fatalf("during the pause: %v, want try_later with 9s left", err)
	}
	// Near the end of the pause the call waits out the rest.
	if d, err := l.admit(now.Add(9500 * time.Millisecond)); err != nil || d != 500*time.Millisecond {
		t.Fatalf("end of the pause: delay %v err %v", d, err)
	}
	if d, err := l.admit(now.Add(11 * time.Second)); err != nil || d != 0 {
		t.Fatalf("after the pause: delay %v err %v", d, err)
	}
}

// countingMetrics counts what the layers report.
type countingMetrics struct {
	limited int
	states  []int
}

func (m *countingMetrics) Limited(string)               { m.limited++ }
func (m *countingMetrics) BreakerState(_ string, s int) { m.states = append(m.states, s) }

func newLimiter(r Rate) *Limiter { return NewLimiter("p", r, nil, &countingMetrics{}, nil) }
