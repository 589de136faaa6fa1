package host

import "github.com/lendgate/lendgate/host/internal/logsafe"

// maxLoggedText bounds one caller-supplied string in a log line
// (internal/logsafe).
const maxLoggedText = logsafe.MaxText

// clip cuts a caller-supplied string for a log line (internal/logsafe).
func clip(s string, n int) string { return logsafe.Clip(s, n) }

// echo cuts a caller-supplied string for an answer (internal/logsafe):
// at most 120 bytes in all.
func echo(s string) string { return logsafe.Echo(s) }

// isInstance reports whether provider names a configured instance: only
// those reach a metric label or a log line unclipped.
func (h *Host) isInstance(provider string) bool {
	_, ok := h.instances[provider]
	return ok
}
