package sdktest

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// overrunLog reads a plugin binary's stderr (hclog JSON, as sdk.Serve
// writes it) for sdk.OverrunMessage: how long after its call had ended a
// method returned. It is how the kit checks deadlines in Binary mode,
// where the host's side of the wire returns at the deadline whatever the
// plugin does.
type overrunLog struct {
	mu      sync.Mutex
	partial []byte
	seen    []overrun
	changed chan struct{} // closed and replaced on every new overrun
}

// overrun is one sdk.OverrunMessage line.
type overrun struct {
	method string
	late   time.Duration
}

func newOverrunLog() *overrunLog { return &overrunLog{changed: make(chan struct{})} }

// Write takes stderr as go-plugin copies it (a line, then its newline).
func (o *overrunLog) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.partial = append(o.partial, p...)
	for {
		i := bytes.IndexByte(o.partial, '\n')
		if i < 0 {
			break
		}
		line := o.partial[:i]
		o.partial = append([]byte(nil), o.partial[i+1:]...)
		var entry struct {
			Message   string  `json:"@message"`
			Method    string  `json:"method"`
			OverrunMS float64 `json:"overrun_ms"`
		}
		if json.Unmarshal(line, &entry) != nil || entry.Message != sdk.OverrunMessage {
			continue
		}
		o.seen = append(o.seen, overrun{method: entry.Method, late: time.Duration(entry.OverrunMS) * time.Millisecond})
		close(o.changed)
		o.changed = make(chan struct{})
	}
	if len(o.partial) > 1<<20 { // a runaway line without a newline
		o.partial = nil
	}
	return len(p), nil
}

// mark is the number of overruns seen so far.
func (o *overrunLog) mark() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.seen)
}

// next waits for the first overrun after mark, until ctx ends.
func (o *overrunLog) next(ctx context.Context, mark int) (overrun, bool) {
	for {
		o.mu.Lock()
		if len(o.seen) > mark {
			ov := o.seen[mark]
			o.mu.Unlock()
			return ov, true
		}
		changed := o.changed
		o.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return overrun{}, false
		}
	}
}
