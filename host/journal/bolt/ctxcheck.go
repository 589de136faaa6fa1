package bolt

import "context"

// ctxEvery is how many records a read's loop takes between two looks at
// its context.
const ctxEvery = 64

// ctxCheck lets a read's loop stop soon after its context ends (a caller
// gone, a deadline passed) without looking at the context for every
// record.
type ctxCheck struct {
	ctx   context.Context
	n     int
	ended bool
}

// done reports whether the context ended, looking every ctxEvery calls
// (and at the first); once it has ended, every call says so.
func (c *ctxCheck) done() bool {
	c.n++
	if !c.ended && c.n%ctxEvery == 1 {
		c.ended = c.ctx.Err() != nil
	}
	return c.ended
}
