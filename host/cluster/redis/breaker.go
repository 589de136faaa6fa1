package redis

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lendgate/lendgate/host/cluster"
	goredis "github.com/redis/go-redis/v9"
)

// breaker publishes an instance's open breaker to every node: the node
// whose breaker opens writes "open until" to Redis; every node checks it
// (cached for breakerRefresh) before a call.
type breaker struct {
	c       *conn
	key     string
	openFor time.Duration

	mu        sync.Mutex
	checked   time.Time
	openUntil time.Time
	fetching  atomic.Bool
}

const breakerRefresh = 50 * time.Millisecond

// Breaker returns instance's shared breaker state.
func (c *conn) Breaker(instance string, openFor time.Duration) cluster.Breaker {
	return &breaker{c: c, key: "lendgate:breaker:" + instance, openFor: openFor}
}

// Opened records that this node's breaker opened at now.
func (s *breaker) Opened(now time.Time) {
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

// Closed records that this node's breaker closed again (a probe succeeded).
func (s *breaker) Closed() {
	s.mu.Lock()
	s.openUntil = time.Time{}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.c.rdb.Del(ctx, s.key).Err(); err != nil {
		s.c.log.Warn("publishing closed breaker failed", "key", s.key, "error", err)
	}
}

// OpenLeft is how long the breaker stays open cluster-wide (0: not open).
func (s *breaker) OpenLeft(ctx context.Context, now time.Time) time.Duration {
	s.mu.Lock()
	stale := now.Sub(s.checked) >= breakerRefresh
	until := s.openUntil
	s.mu.Unlock()
	if stale && s.fetching.CompareAndSwap(false, true) {
		defer s.fetching.Store(false)
		v, err := s.c.rdb.Get(ctx, s.key).Result()
		switch {
		case errors.Is(err, goredis.Nil):
			until = time.Time{}
		case err != nil:
			s.c.log.Warn("reading shared breaker failed", "key", s.key, "error", err)
		default:
			if n, perr := strconv.ParseInt(v, 10, 64); perr == nil {
				until = time.Unix(0, n)
			}
		}
		if err == nil || errors.Is(err, goredis.Nil) {
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
