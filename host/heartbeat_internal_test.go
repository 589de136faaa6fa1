package host

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/memory"
)

// beatCounter is a store that reports each heartbeat of a claim.
type beatCounter struct {
	journal.Store
	beats chan struct{}
}

func (s *beatCounter) RefreshIdempotency(ctx context.Context, scope, key string, at time.Time) (bool, error) {
	ok, err := s.Store.RefreshIdempotency(ctx, scope, key, at)
	select {
	case s.beats <- struct{}{}:
	default:
	}
	return ok, err
}

// node is a host reduced to what idempotent uses: two of them on one store
// are two nodes of a cluster.
func node(s journal.Store) *Host {
	return &Host{store: newStore(s), flights: newFlights(), log: hclog.NewNullLogger()}
}

// Issue 10 point 12: a call that outlasts its lease is not taken over while
// its owner beats; the other node's retry waits and gets its answer.
func TestHeartbeatKeepsASlowClaim(t *testing.T) {
	s := &beatCounter{Store: memory.New(), beats: make(chan struct{}, 1)}
	a, b := node(s), node(s)
	const lease = 200 * time.Millisecond
	ctx := t.Context()

	started, finish := make(chan struct{}), make(chan struct{})
	firstDone := make(chan string, 1)
	go func() {
		out, _, _ := idempotent(ctx, a, "checkout/x", "K", "fp", lease, func(c claim) (string, error) {
			close(started)
			<-finish
			return c.ref, nil
		})
		firstDone <- out
	}()
	<-started

	secondRan := make(chan struct{}, 1)
	type result struct {
		out      string
		replayed bool
		err      error
	}
	secondDone := make(chan result, 1)
	go func() {
		out, replayed, err := idempotent(ctx, b, "checkout/x", "K", "fp", lease, func(claim) (string, error) {
			secondRan <- struct{}{}
			return "second", nil
		})
		secondDone <- result{out, replayed, err}
	}()
	// Twelve beats at lease/4 are three leases: long stale by its start.
	for range 3 * heartbeatsPerLease {
		select {
		case <-s.beats:
		case <-secondRan:
			t.Fatal("the other node took over a claim whose owner was still beating")
		}
	}
	close(finish)
	first := <-firstDone
	second := <-secondDone
	if second.err != nil || !second.replayed || second.out != first {
		t.Errorf("the other node's retry = %+v, want the first answer %q replayed", second, first)
	}
	select {
	case <-secondRan:
		t.Error("the other node ran the call too")
	default:
	}
}
