package sdk

import (
	"context"
	"io"
	"log/slog"
)

// newPluginLogger is the logger Serve uses when the author gives none: JSON
// lines on w in hclog's shape (@level, @message, @timestamp), which is what
// go-plugin on the host's side parses, so that a plugin's lines reach the
// host's log with their level and fields.
func newPluginLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: slog.LevelDebug - 4, // hclog's trace: the host filters by its own level
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				// go-plugin reads exactly this layout, or drops the fields.
				return slog.String("@timestamp", a.Value.Time().Format("2006-01-02T15:04:05.000000Z07:00"))
			case slog.LevelKey:
				return slog.String("@level", hclogLevel(a.Value.Any()))
			case slog.MessageKey:
				return slog.String("@message", a.Value.String())
			}
			return a
		},
	}))
}

// hclogLevel names an slog level as hclog does.
func hclogLevel(v any) string {
	l, ok := v.(slog.Level)
	if !ok {
		return "info"
	}
	switch {
	case l < slog.LevelDebug:
		return "trace"
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	}
	return "error"
}

// loggerKey carries Serve's logger in the context of every call it serves.
type loggerKey struct{}

// Logger returns the logger of the call ctx belongs to: the one Serve was
// given (WithLogger) or made, with which a plugin's lines reach the host's
// log. Outside a served call (a unit test calling a method directly) it is
// slog.Default().
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
