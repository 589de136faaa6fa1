package sdk

import (
	"context"
	"log/slog"
	"time"
)

// OverrunMessage is the log message with which a plugin records a method
// that returned after its call had ended (its deadline passed or the host
// hung up), with the keys "method" (the gRPC method) and "overrun_ms" (how
// long after the deadline, 0 when it returned before). The host's side of
// the wire gave up at the deadline; this line shows how long the plugin
// kept working, and its distributor kept serving a caller who had left. The
// conformance kit reads it from a plugin binary's log to check deadlines.
const OverrunMessage = "call returned after its context ended"

// overrunWarning is how late a method may return before the line is a
// warning rather than a debug line.
const overrunWarning = time.Second

// noteOverrun logs OverrunMessage when the call's context had ended (the
// deadline, or the host's cancel that the deadline causes on its side)
// before the method returned.
func noteOverrun(ctx context.Context, log *slog.Logger, method string) {
	dl, ok := ctx.Deadline()
	if !ok || ctx.Err() == nil {
		return
	}
	over := max(time.Since(dl), 0)
	level := slog.LevelDebug
	if over > overrunWarning {
		level = slog.LevelWarn
	}
	log.Log(ctx, level, OverrunMessage, "method", method, "overrun_ms", over.Milliseconds())
}
