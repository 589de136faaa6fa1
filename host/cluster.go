package host

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/sdk"
	"github.com/redis/go-redis/v9"
)

// cluster shares each instance's rate limit and breaker state across host
// nodes through Redis (config cluster.redis). Without it both are per
// process.
type cluster struct {
	rdb  *redis.Client
	rate *redis_rate.Limiter
	log  hclog.Logger
}

// dialCluster connects to Redis at addr and checks it answers.
func dialCluster(ctx context.Context, addr string, log hclog.Logger) (*cluster, error) {
	opt := &redis.Options{Addr: addr, DialTimeout: 2 * time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second}
	if u, err := redis.ParseURL(addr); err == nil {
		opt = u
	}
	rdb := redis.NewClient(opt)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("cluster.redis %s: %w", opt.Addr, err)
	}
	return &cluster{rdb: rdb, rate: redis_rate.NewLimiter(rdb), log: log.Named("cluster")}, nil
}

func (c *cluster) close() error { return c.rdb.Close() }

// sharedLimit is an instance's token bucket in Redis (GCRA, redis_rate):
// the same per_second and burst hold across every node.
type sharedLimit struct {
	c       *cluster
	key     string
	limit   redis_rate.Limit
	maxWait time.Duration
}

func newSharedLimit(c *cluster, provider string, r RateConfig) *sharedLimit {
	// redis_rate counts whole events per period: a period of 1000 s keeps
	// three decimals of per_second.
	n := int(math.Max(1, math.Round(r.PerSecond*1000)))
	return &sharedLimit{c: c, key: "lendgate:rate:" + provider,
		limit: redis_rate.Limit{Rate: n, Period: 1000 * time.Second, Burst: r.Burst}, maxWait: time.Duration(r.MaxWait)}
}

// admit takes a token, waiting up to maxWait for one. Redis being
// unreachable is reported as an error so the caller can fall back to the
// node's own limiter.
func (s *sharedLimit) admit(ctx context.Context) error {
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

// sharedBreaker publishes an instance's open breaker to every node: the
// node whose breaker opens writes "open until" to Redis; every node checks
// it (cached for breakerRefresh) before a call. Calls are never wrapped in
// a cluster-wide lock (gobreaker's DistributedCircuitBreaker would
// serialise them), so nodes still call one instance in parallel.
type sharedBreaker struct {
	c       *cluster
	key     string
	openFor time.Duration

	mu        sync.Mutex
	checked   time.Time
	openUntil time.Time
	fetching  atomic.Bool
}

const breakerRefresh = 50 * time.Millisecond

func newSharedBreaker(c *cluster, provider string, openFor time.Duration) *sharedBreaker {
	return &sharedBreaker{c: c, key: "lendgate:breaker:" + provider, openFor: openFor}
}

// opened records that this node's breaker opened at now.
func (s *sharedBreaker) opened(now time.Time) {
	until := now.Add(s.openFor)
	s.mu.Lock()
	s.openUntil, s.checked = until, now
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.c.rdb.Set(ctx, s.key, until.UnixNano(), s.openFor).Err(); err != nil {
		s.c.log.Warn("publishing open breaker failed", "key", s.key, "error", err)
	}
}

// closed records that this node's breaker closed again (a probe succeeded).
func (s *sharedBreaker) closed() {
	s.mu.Lock()
	s.openUntil = time.Time{}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.c.rdb.Del(ctx, s.key).Err(); err != nil {
		s.c.log.Warn("publishing closed breaker failed", "key", s.key, "error", err)
	}
}

// openLeft is how long the breaker stays open cluster-wide (0: not open).
func (s *sharedBreaker) openLeft(ctx context.Context, now time.Time) time.Duration {
	s.mu.Lock()
	stale := now.Sub(s.checked) >= breakerRefresh
	until := s.openUntil
	s.mu.Unlock()
	if stale && s.fetching.CompareAndSwap(false, true) {
		defer s.fetching.Store(false)
		v, err := s.c.rdb.Get(ctx, s.key).Result()
		switch {
		case errors.Is(err, redis.Nil):
			until = time.Time{}
		case err != nil:
			s.c.log.Warn("reading shared breaker failed", "key", s.key, "error", err)
		default:
			if n, perr := strconv.ParseInt(v, 10, 64); perr == nil {
				until = time.Unix(0, n)
			}
		}
		if err == nil || errors.Is(err, redis.Nil) {
			s.mu.Lock()
			s.openUntil, s.checked = until, now
			s.mu.Unlock()
		}
	}
	if until.After(now) {
		return until.Sub(now)
	}
	return 0
}
