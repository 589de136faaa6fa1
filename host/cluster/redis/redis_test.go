package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/cluster"
	_ "github.com/lendgate/lendgate/host/cluster/redis"
	"github.com/lendgate/lendgate/internal/testserver"
	"github.com/lendgate/lendgate/sdk"
)

func open(t *testing.T, addr string) cluster.Cluster {
	t.Helper()
	c, err := cluster.Open(context.Background(), "redis", addr, nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Two nodes share one instance's bucket and its open breaker.
func TestTwoNodesShareLimitAndBreaker(t *testing.T) {
	addr := testserver.Redis(t)
	a, b := open(t, addr), open(t, addr)
	ctx := context.Background()

	r := cluster.Rate{PerSecond: 1, Burst: 3, MaxWait: time.Millisecond}
	la, lb := a.Limit("cb", r), b.Limit("cb", r)
	for i, l := range []cluster.Limit{la, lb, la} {
		if err := l.Admit(ctx); err != nil {
			t.Fatalf("call %d within the shared burst: %v", i, err)
		}
	}
	err := lb.Admit(ctx)
	if e := sdk.AsError(err); sdk.CodeOf(err) != sdk.CodeRateLimited || e.RetryAfter <= 0 {
		t.Fatalf("fourth call across the nodes: %v, want rate_limited with Retry-After", err)
	}
	if err := b.Limit("other", r).Admit(ctx); err != nil {
		t.Fatalf("another instance's bucket: %v", err)
	}

	ba, bb := a.Breaker("cb", time.Minute), b.Breaker("cb", time.Minute)
	now := time.Now()
	if left := bb.OpenLeft(ctx, now); left != 0 {
		t.Fatalf("open before any node opened it: %v", left)
	}
	ba.Opened(now)
	// Past the read cache of node b.
	if left := bb.OpenLeft(ctx, now.Add(time.Second)); left < 58*time.Second || left > 59*time.Second {
		t.Fatalf("node b after node a opened: open for %v, want 59s", left)
	}
	ba.Closed()
	if left := bb.OpenLeft(ctx, now.Add(2*time.Second)); left != 0 {
		t.Fatalf("node b after node a closed: open for %v", left)
	}
}

// An address where no Redis answers fails Open with the address.
func TestOpenUnreachable(t *testing.T) {
	_, err := cluster.Open(context.Background(), "redis", "127.0.0.1:1", nil)
	if err == nil || !strings.Contains(err.Error(), "cluster.redis: 127.0.0.1:1") {
		t.Fatalf("open of a closed port: %v", err)
	}
}
