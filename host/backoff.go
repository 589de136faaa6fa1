package host

import (
	"math/rand/v2"
	"time"
)

// backoff is capped exponential backoff with full jitter in the upper half:
// each delay is between d/2 and d, d doubling from first to max.
type backoff struct {
	d, max time.Duration
}

func newBackoff(first, max time.Duration) *backoff { return &backoff{d: first, max: max} }

func (b *backoff) next() time.Duration {
	d := b.d
	b.d *= 2
	if b.d > b.max {
		b.d = b.max
	}
	return d/2 + rand.N(d/2+1)
}
