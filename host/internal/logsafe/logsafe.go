// Package logsafe keeps what an outsider sends from growing the logs or the
// metrics (api.md §7 "Outsiders grow nothing"): every caller-supplied string
// is clipped before it is logged, and metric labels take their values from
// closed sets only.
//
// Decisions:
//   - A metric's provider label is a configured instance or "unknown" (so no
//     instance should be named "unknown"), op is the host's own constant and
//     code "ok" or a unified code. A call at an unknown provider is counted
//     but not timed: one series per operation and code, no histogram.
//   - Every caller-supplied string in a log line (provider, loan id, error
//     text) is clipped to 120 bytes; a failed request logs its route
//     pattern, never its path (which holds tokens).
//   - What a caller sent and an answer shows (a problem's detail, provider
//     or loan) is Echo'd: at most 120 bytes in all, the mark of the cut
//     included, so a client may rely on the bound.
package logsafe

import (
	"strconv"
	"unicode/utf8"

	"github.com/lendgate/lendgate/sdk"
)

const (
	// MaxText bounds one caller-supplied string in a log line (provider
	// names, loan ids, error texts).
	MaxText = 120
	// UnknownLabel is the provider label of a name that is not a configured
	// instance.
	UnknownLabel = "unknown"
)

// Clip returns s cut to at most n bytes on a rune boundary, marking the cut
// with the original length, so that a log line stays short whatever a caller
// sent.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

// Echo returns s for an answer: unchanged when it has at most MaxText
// bytes, else cut on a rune boundary and marked with its length so that
// the whole, mark included, has at most MaxText bytes.
func Echo(s string) string {
	if len(s) <= MaxText {
		return s
	}
	mark := "…(" + strconv.Itoa(len(s)) + " bytes)"
	cut := MaxText - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// CodeLabel is the outcome label of a call: "ok", or a code of the unified
// table; anything else (which sdk already maps, but a Go embedder's
// Authenticator could return) reads as provider_error.
func CodeLabel(c sdk.Code) string {
	switch {
	case c == "":
		return "ok"
	case c.Known():
		return string(c)
	}
	return string(sdk.CodeProviderError)
}
