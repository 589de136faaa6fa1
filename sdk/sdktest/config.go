package sdktest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Config names the plugin to check and gives the kit what it needs to
// exercise it. Zero values take the defaults below.
type Config struct {
	// Binary is the path of a built plugin binary, started over go-plugin as
	// the host starts it (see Build).
	Binary string
	// Provider is a Provider value, served in this process over the same
	// gRPC wire by sdk.Serve (sdk.WithListener: the SDK's size limits and
	// panic recovery, as in a plugin process). Set exactly one of Binary and
	// Provider.
	Provider sdk.Provider

	// Instance is the provider instance the kit configures (default
	// "sdktest").
	Instance string
	// Settings are the instance's settings, as the host would pass them
	// (include sdk.SettingAllowInsecureHTTP for a plain-http simulator).
	Settings map[string]string

	// Checkout is a checkout the simulator accepts. The kit sets Instance
	// and a fresh LoanID on every use. Required when the plugin declares
	// checkout; fulfill, renew, return and notifications run on its loan.
	Checkout sdk.CheckoutRequest
	// RenewDays is the renewal asked for when renew is declared (default 7).
	RenewDays int
	// Download is a download the simulator accepts (the kit sets Instance).
	// Required when the plugin declares download.
	Download sdk.DownloadRequest
	// Access is an access check the simulator answers (the kit sets
	// Instance). Required when the plugin declares access_check.
	Access sdk.AccessRequest
	// Notification returns a callback the distributor would send about loan
	// (the loan made by the Checkout sample). The kit fills Instance, and
	// Loan when its ID is empty. Required when the plugin declares
	// notifications.
	Notification func(loan sdk.LoanRef) sdk.Notification

	// ErrorCases are calls that the simulator refuses, with the error each
	// must answer across the wire.
	ErrorCases []ErrorCase

	// Effects tell the kit whether an operation reached the distributor:
	// each hook asks the simulator whether it recorded the effect (the
	// order, the renewal, the return, the sale), so that a declared
	// operation implemented as a stub that answers success without calling
	// the distributor fails the kit. With no hook at all, effects are not
	// checked (the effects subtest is skipped and says so); once any hook is
	// set, every declared operation with an effect needs its hook.
	Effects Effects

	// Faults makes the distributor fail in each way the kit knows (see
	// Fault): the kit drives every one through checkout, renew and return
	// (those declared) and checks the unified code and outcome class of
	// the answer, whether or not ErrorCases list it. Give it the Server
	// of Simulator (it makes every fault itself), or a FaultFunc over your
	// simulator's own fault switches. Without it the fault checks are
	// skipped, and say so.
	Faults FaultInjector

	// Slow, when set, makes a call that takes far longer than Deadline
	// (e.g. with simulator latency); it must pass ctx to the plugin. Left
	// nil, the deadline check makes a checkout of the sample under
	// FaultSlow when Faults is set, and is skipped otherwise.
	Slow func(ctx context.Context, p sdk.Provider, instance string) error
	// Deadline is the deadline given to Slow (default 300ms).
	Deadline time.Duration
	// Slack is how long after Deadline the plugin's method may still run
	// before the kit calls the deadline ignored (default 1s). With a Binary
	// the kit reads how late the method returned from the plugin's log
	// (sdk.OverrunMessage, written by sdk.Serve); with a Provider it sees
	// the method return.
	Slack time.Duration

	// CallTimeout bounds every other call, as the host's per-instance
	// timeout does (default 10s).
	CallTimeout time.Duration
	// CheckTimeout bounds each callback the kit runs for a check (an error
	// case's Call, Slow, Notification, an effects hook): one that does not
	// return in time fails its check, named, instead of holding the whole
	// run (default 30s).
	CheckTimeout time.Duration
	// Concurrency is the number of simultaneous checkouts (default 32),
	// spread over two instances that the kit configures again meanwhile.
	Concurrency int
	// ExpiryTolerance is how far past the days asked a loan's expiry may
	// fall (a distributor that rounds to the end of a day; default 1 day).
	ExpiryTolerance time.Duration
}

// ErrorCase is a call the simulator refuses and the error it must answer.
type ErrorCase struct {
	// Name names the subtest (error_case/<Name>).
	Name string
	// Call makes the call against p for the configured instance. It may
	// change the simulator (inject a fault) and must put it back.
	Call func(ctx context.Context, p sdk.Provider, instance string) error
	// Code is the unified code the error must carry.
	Code sdk.Code
	// ProviderCode, when set, is the distributor's code the error must carry.
	ProviderCode string
	// RetryAfter, when positive, is the retry-after the error must carry (the
	// wire keeps whole milliseconds).
	RetryAfter time.Duration
	// Scope is what the error's retry-after must pause, when it carries
	// one: sdk.ScopeInstance (the zero value: the distributor asked every
	// caller to wait, as its 429 does) or sdk.ScopeRequest (an answer
	// about this request only, such as a title that is not out yet).
	Scope sdk.Scope
}

// The defaults of Config.
const (
	DefaultInstance     = "sdktest"
	DefaultRenewDays    = 7
	DefaultDeadline     = 300 * time.Millisecond
	DefaultSlack        = time.Second
	DefaultCallTimeout  = 10 * time.Second
	DefaultCheckTimeout = 30 * time.Second
	DefaultConcurrency  = 32
	// DefaultExpiryTolerance allows for a distributor that ends loans at
	// the end of a day.
	DefaultExpiryTolerance = 24 * time.Hour
)

// withDefaults checks c and fills its zero values.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.Binary == "" && c.Provider == nil:
		return c, errors.New("set Config.Binary (a plugin binary) or Config.Provider (a Provider value)")
	case c.Binary != "" && c.Provider != nil:
		return c, errors.New("set only one of Config.Binary and Config.Provider")
	}
	for i, ec := range c.ErrorCases {
		if ec.Name == "" || ec.Call == nil || ec.Code == "" {
			return c, fmt.Errorf("ErrorCases[%d] needs a Name, a Call and a Code", i)
		}
		if !ec.Code.Known() {
			return c, fmt.Errorf("ErrorCases[%d] %q: %q is not a unified code", i, ec.Name, ec.Code)
		}
		if ec.Scope != sdk.ScopeInstance && ec.Scope != sdk.ScopeRequest {
			return c, fmt.Errorf("ErrorCases[%d] %q: scope %d is neither sdk.ScopeInstance nor sdk.ScopeRequest", i, ec.Name, ec.Scope)
		}
	}
	c.Instance = cmp.Or(c.Instance, DefaultInstance)
	c.RenewDays = positiveOr(c.RenewDays, DefaultRenewDays)
	c.Deadline = positiveOr(c.Deadline, DefaultDeadline)
	c.Slack = positiveOr(c.Slack, DefaultSlack)
	c.CallTimeout = positiveOr(c.CallTimeout, DefaultCallTimeout)
	c.CheckTimeout = positiveOr(c.CheckTimeout, DefaultCheckTimeout)
	c.Concurrency = positiveOr(c.Concurrency, DefaultConcurrency)
	c.ExpiryTolerance = positiveOr(c.ExpiryTolerance, DefaultExpiryTolerance)
	return c, nil
}

// positiveOr is v, or def when v is not positive (unset or nonsense).
func positiveOr[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
