package resilience

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

var errNotAsked = errors.New("instance not serving")

func newTestBreaker(shared SharedBreaker, m Metrics) *Breaker {
	return NewBreaker("p", BreakerSettings{ConsecutiveFailures: 2, OpenFor: time.Minute, HalfOpenRequests: 1,
		Excluded: func(err error) bool { return errors.Is(err, errNotAsked) }}, shared, m, nil)
}

func answering(err error) Endpoint {
	return func(context.Context, Call) error { return err }
}

// The breaker counts what sdk's code table counts, ignores what the host
// excludes and what a caller abandoned, and answers circuit_open with the
// time it has left once open.
func TestBreakerCountsByTheCodeTable(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		opens bool
	}{
		{"provider_error counts", sdk.Errorf(sdk.CodeProviderError, "500"), true},
		{"provider_timeout counts", sdk.Errorf(sdk.CodeProviderTimeout, "slow"), true},
		{"a refusal does not", sdk.Errorf(sdk.CodeNotAvailable, "no copies"), false},
		{"a caller that gave up does not", sdk.Wrap(sdk.CodeProviderTimeout, context.Canceled, "gone"), false},
		{"the host's exclusion does not", sdk.Wrap(sdk.CodePluginUnavailable, errNotAsked, "down"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &countingMetrics{}
			b := newTestBreaker(nil, m)
			call := b.Middleware(answering(tt.err))
			for range 2 {
				_ = call(context.Background(), nil)
			}
			err := call(context.Background(), nil)
			if opened := sdk.CodeOf(err) == sdk.CodeCircuitOpen; opened != tt.opens {
				t.Fatalf("third call: %v; open %v, want %v", err, opened, tt.opens)
			}
			state, _ := b.State()
			if want := map[bool]string{true: "open", false: "closed"}[tt.opens]; state != want {
				t.Errorf("state %q, want %q", state, want)
			}
			if tt.opens {
				if ra := sdk.AsError(err).RetryAfter; ra < 59*time.Second || ra > time.Minute {
					t.Errorf("Retry-After %v, want the minute of open_for", ra)
				}
				if got := m.states; len(got) != 2 || got[0] != 0 || got[1] != 2 {
					t.Errorf("breaker states reported %v, want [0 2]", got)
				}
			}
		})
	}
}

// fakeShared is another node's view of the breaker.
type fakeShared struct {
	mu     sync.Mutex
	left   time.Duration
	opened chan time.Time
}

func (f *fakeShared) Opened(now time.Time) { f.opened <- now }
func (f *fakeShared) Closed()              {}
func (f *fakeShared) OpenLeft(context.Context, time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.left
}

// A breaker opened on another node answers here without calling, and shows
// as open; one opened here is published.
func TestBreakerSharesItsOpenState(t *testing.T) {
	shared := &fakeShared{left: 30 * time.Second, opened: make(chan time.Time, 1)}
	b := newTestBreaker(shared, &countingMetrics{})
	called := false
	err := b.Middleware(func(context.Context, Call) error { called = true; return nil })(context.Background(), nil)
	if called || sdk.CodeOf(err) != sdk.CodeCircuitOpen || sdk.AsError(err).RetryAfter != 30*time.Second {
		t.Fatalf("open on another node: called %v, %v; want circuit_open after 30s without a call", called, err)
	}
	if state, _ := b.State(); state != "open" {
		t.Errorf("state %q, want open", state)
	}

	shared.mu.Lock()
	shared.left = 0
	shared.mu.Unlock()
	call := b.Middleware(answering(sdk.Errorf(sdk.CodeProviderError, "500")))
	for range 2 {
		_ = call(context.Background(), nil)
	}
	select {
	case <-shared.opened:
	case <-time.After(5 * time.Second):
		t.Fatal("the breaker opened here but was not published")
	}
}
