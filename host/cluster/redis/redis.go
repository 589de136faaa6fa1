package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host/cluster"
	goredis "github.com/redis/go-redis/v9"
)

func init() { cluster.Register("redis", driver{}) }

type driver struct{}

// Open connects to Redis at addr and checks it answers.
func (driver) Open(ctx context.Context, addr string, log hclog.Logger) (cluster.Cluster, error) {
	opt := &goredis.Options{Addr: addr, DialTimeout: 2 * time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second}
	if u, err := goredis.ParseURL(addr); err == nil {
		opt = u
	}
	rdb := goredis.NewClient(opt)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("%s: %w", opt.Addr, err)
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &conn{rdb: rdb, rate: redis_rate.NewLimiter(rdb), log: log.Named("cluster")}, nil
}

// conn is one node's connection to the shared state.
type conn struct {
	rdb  *goredis.Client
	rate *redis_rate.Limiter
	log  hclog.Logger
}

func (c *conn) Close() error { return c.rdb.Close() }

var _ cluster.Cluster = (*conn)(nil)
