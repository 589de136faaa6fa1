package sdktest

import (
	"context"
	"time"
)

// The deadline check in Binary mode reads sdk.OverrunMessage from the
// plugin's log (pluginLog): how long after its call had ended a method
// returned. The host's side of the wire returns at the deadline whatever
// the plugin does, so the plugin's own line is the only witness.

// overrun is one sdk.OverrunMessage line.
type overrun struct {
	method string
	late   time.Duration
}

// mark is the number of overruns seen so far.
func (l *pluginLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.overruns)
}

// next waits for the first overrun after mark, until ctx ends.
func (l *pluginLog) next(ctx context.Context, mark int) (overrun, bool) {
	var ov overrun
	ok := l.wait(ctx, func() bool {
		if len(l.overruns) > mark {
			ov = l.overruns[mark]
			return true
		}
		return false
	})
	return ov, ok
}
