package cluster

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Cluster is an open connection to the state the nodes share.
type Cluster interface {
	// Limit is the token bucket that instance shares with every node.
	Limit(instance string, r Rate) Limit
	// Breaker is the open state of instance's breaker on every node.
	Breaker(instance string, openFor time.Duration) Breaker
	// Close releases the connection.
	Close() error
}

// Rate is an instance's token bucket: per_second, burst and max_wait of
// config.md.
type Rate struct {
	PerSecond float64
	Burst     int
	MaxWait   time.Duration
}

// Limit admits calls through a token bucket shared by the nodes.
type Limit interface {
	// Admit takes a token, waiting up to the bucket's MaxWait for one. A
	// refusal is an sdk rate_limited error with its Retry-After; any other
	// error means the shared state is unreachable (the caller falls back
	// to its own bucket).
	Admit(ctx context.Context) error
}

// Breaker carries an instance's open breaker to and from the other nodes.
type Breaker interface {
	// Opened records that this node's breaker opened at now.
	Opened(now time.Time)
	// Closed records that this node's breaker closed again.
	Closed()
	// OpenLeft is how long the breaker stays open cluster-wide (0: not
	// open). It answers from a short cache and never fails: an unreachable
	// state reads as what was last known.
	OpenLeft(ctx context.Context, now time.Time) time.Duration
}

// Driver opens a Cluster at an address of its own syntax.
type Driver interface {
	Open(ctx context.Context, addr string, log hclog.Logger) (Cluster, error)
}
