package redis

import (
	"context"
	"math"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/lendgate/lendgate/host/cluster"
	"github.com/lendgate/lendgate/sdk"
)

// limit is an instance's token bucket in Redis (GCRA, redis_rate): the same
// per_second and burst hold across every node.
type limit struct {
	c       *conn
	key     string
	limit   redis_rate.Limit
	maxWait time.Duration
}

// Limit returns instance's shared bucket.
func (c *conn) Limit(instance string, r cluster.Rate) cluster.Limit {
	// redis_rate counts whole events per period: a period of 1000 s keeps
	// three decimals of per_second.
	n := int(math.Max(1, math.Round(r.PerSecond*1000)))
	return &limit{c: c, key: "lendgate:rate:" + instance,
		limit: redis_rate.Limit{Rate: n, Period: 1000 * time.Second, Burst: r.Burst}, maxWait: r.MaxWait}
}

// Admit takes a token, waiting up to maxWait for one. Redis being
// unreachable is reported as an error so the caller can fall back to the
// node's own limiter.
func (s *limit) Admit(ctx context.Context) error {
	deadline := time.Now().Add(s.maxWait)
	for {
		res, err := s.c.rate.Allow(ctx, s.key, s.limit)
		if err != nil {
			return err
		}
		if res.Allowed > 0 {
			return nil
		}
		if time.Now().Add(res.RetryAfter).After(deadline) {
			return sdk.Errorf(sdk.CodeRateLimited, "rate limit of this provider instance reached").WithRetryAfter(res.RetryAfter)
		}
		t := time.NewTimer(res.RetryAfter)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return sdk.Wrap(sdk.CodeRateLimited, ctx.Err(), "canceled while waiting for the rate limiter")
		}
	}
}
