package host

import (
	"strconv"
	"unicode/utf8"

	"github.com/lendgate/lendgate/sdk"
)

// What an outsider sends must not grow the logs or the metrics (api.md §7
// "Outsiders grow nothing"): every caller-supplied string is clipped before
// it is logged, and metric labels take their values from closed sets only.

const (
	// maxLoggedText bounds one caller-supplied string in a log line
	// (provider names, loan ids, error texts).
	maxLoggedText = 120
	// unknownLabel is the provider label of a name that is not a configured
	// instance.
	unknownLabel = "unknown"
)

// clip returns s cut to at most n bytes on a rune boundary, marking the cut
// with the original length, so that a log line stays short whatever a caller
// sent.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

// providerLabel is provider if it names a configured instance, else
// unknownLabel: label values come only from the configuration.
func (h *Host) providerLabel(provider string) string {
	if _, ok := h.instances[provider]; ok {
		return provider
	}
	return unknownLabel
}

// logProvider is how a provider name appears in a log line: as configured,
// or clipped when it is a caller's invention.
func (h *Host) logProvider(provider string) string {
	if _, ok := h.instances[provider]; ok {
		return provider
	}
	return clip(provider, maxLoggedText)
}

// codeLabel is the outcome label of a call: "ok", or a code of the unified
// table; anything else (which sdk already maps, but a Go embedder's
// Authenticator could return) reads as provider_error.
func codeLabel(c sdk.Code) string {
	switch {
	case c == "":
		return "ok"
	case c.Known():
		return string(c)
	}
	return string(sdk.CodeProviderError)
}
