package resilience

import (
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host/internal/logsafe"
	"github.com/lendgate/lendgate/sdk"
)

// CallMetrics counts calls by instance, operation and outcome.
type CallMetrics interface {
	// Observe counts one call: provider is a configured instance or
	// logsafe.UnknownLabel, op a constant of the host, code "ok" or a
	// unified code.
	Observe(provider, op, code string, d time.Duration)
}

// Observer writes the one log line per call of api.md §6 and records its
// metrics. It is the outermost layer of an operation, around the instance's
// chain and around what the operation checks before it: a call at a name
// that is no instance, or refused by validation, is logged and counted too
// (api.md §7), so it cannot live inside an instance's chain. Secrets never
// reach it: only names, ids and the outcome code.
type Observer struct {
	Log     hclog.Logger
	Metrics CallMetrics
	// IsInstance reports whether a provider name is a configured instance;
	// any other name is labelled "unknown" and clipped in the log.
	IsInstance func(provider string) bool
}

// Done logs and counts the call of op at provider that started at start
// and ended with err; loan is the loan it concerns, if any.
func (o Observer) Done(provider, op, loan string, start time.Time, err error) {
	d := time.Since(start)
	code := logsafe.CodeLabel(sdk.CodeOf(err))
	label, logged := provider, provider
	if !o.IsInstance(provider) {
		label, logged = logsafe.UnknownLabel, logsafe.Clip(provider, logsafe.MaxText)
	}
	o.Metrics.Observe(label, op, code, d)
	level := hclog.Info
	// A caller's mistake or a distributor's refusal is business as usual;
	// failures of the distributor, the plugin or the host are not.
	if err != nil && sdk.CodeOf(err).Retryable() {
		level = hclog.Warn
	}
	if o.Log.GetLevel() > level {
		return // nothing to format
	}
	args := []any{"provider", logged, "op", op, "loan", logsafe.Clip(loan, logsafe.MaxText), "code", code, "duration", d.String()}
	if err != nil {
		if e := sdk.AsError(err); e.ProviderCode != "" {
			args = append(args, "provider_code", logsafe.Clip(e.ProviderCode, logsafe.MaxText))
		}
	}
	o.Log.Log(level, "call", args...)
}
