package host

import (
	"testing"
	"time"
)

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
