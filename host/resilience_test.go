package host

import (
	"testing"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

func TestLimiterBurstThenRefusal(t *testing.T) {
	const burst, extra = 5, 3
	l := newLimiter("p", RateConfig{PerSecond: 2, Burst: burst, MaxWait: Duration(100 * time.Millisecond)}, newMetrics())
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
	l := newLimiter("p", RateConfig{PerSecond: 10, Burst: 1, MaxWait: Duration(250 * time.Millisecond)}, newMetrics())
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
	l := newLimiter("p", RateConfig{PerSecond: 100, Burst: 100, MaxWait: Duration(time.Second)}, newMetrics())
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

func TestBackoffIsCappedAndJittered(t *testing.T) {
	b := newBackoff(50*time.Millisecond, time.Second)
	first := b.next()
	if first < 25*time.Millisecond || first > 50*time.Millisecond {
		t.Errorf("first retry after %v, want 25-50ms (≤ 100 ms)", first)
	}
	var last time.Duration
	for range 20 {
		last = b.next()
		if last > time.Second {
			t.Fatalf("backoff %v beyond the cap", last)
		}
	}
	if last < 500*time.Millisecond {
		t.Errorf("capped backoff %v, want between cap/2 and cap", last)
	}
}
