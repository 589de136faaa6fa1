package sdktest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"

	"github.com/lendgate/lendgate/sdk"
)

// kit is one run of the conformance checks against one plugin.
type kit struct {
	c        Config
	p        sdk.Provider // the host's side of the wire, through typed
	typed    *typedWatch  // answers that were not an *sdk.Error
	w        *watch       // the plugin's side, in Provider mode only
	overruns *overrunLog  // the plugin's log of late returns, in Binary mode only
	info     sdk.Info
	run      string // makes loan ids unique across runs against one simulator
	seq      atomic.Int64
}

// Run checks the plugin that c names; see the package doc for the checks.
// Each check is a subtest; Run stops early only when the plugin cannot be
// started, described or configured, since every other check needs that.
func Run(t *testing.T, c Config) {
	t.Helper()
	c, err := c.withDefaults()
	if err != nil {
		t.Fatalf("sdktest: %v", err)
	}
	k := &kit{c: c, run: rand.Text()[:8]}

	if c.Binary != "" {
		p, hs, err := startBinary(t, c.Binary)
		if !k.sub(t, "handshake", func(t *testing.T) { k.checkHandshake(t, hs, err) }) {
			return
		}
		k.p, k.overruns = p, hs.overruns
	} else {
		k.w = newWatch(c.Provider)
		p, err := serveInProcess(t, k.w)
		if err != nil {
			t.Fatalf("sdktest: serving the provider: %v", err)
		}
		k.p = p
	}
	k.typed = newTypedWatch(k.p)
	k.p = k.typed

	if !k.sub(t, "describe", k.checkDescribe) || !k.sub(t, "configure", k.checkConfigure) {
		return
	}
	k.checkCapabilities(t)
	k.sub(t, "effects", k.checkEffects)
	k.checkUndeclared(t)
	for _, ec := range c.ErrorCases {
		k.sub(t, "error_case/"+ec.Name, func(t *testing.T) { k.checkErrorCase(t, ec) })
	}
	k.sub(t, "deadline", k.checkDeadline)
	k.sub(t, "transport_failure", k.checkTransportFailure)
	k.sub(t, "unknown_instance", k.checkUnknownInstance)
	k.sub(t, "concurrent_checkouts", k.checkConcurrentCheckouts)
	k.sub(t, "panic_recovery", checkPanicRecovery)
	k.sub(t, "typed_errors", k.checkTypedErrors)
	if k.w != nil {
		k.sub(t, "unified_codes", k.checkUnifiedCodes)
		k.sub(t, "no_panics", k.checkNoPanics)
	}
}

// callCtx is the context of one call: the host's per-instance timeout.
func (k *kit) callCtx(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), k.c.CallTimeout)
}

// loanID is a fresh host loan id.
func (k *kit) loanID() string {
	return fmt.Sprintf("ln_sdktest_%s_%d", k.run, k.seq.Add(1))
}

// checkout is the Checkout sample for the configured instance with a fresh
// loan id.
func (k *kit) checkout() sdk.CheckoutRequest {
	r := k.c.Checkout
	r.Instance, r.LoanID = k.c.Instance, k.loanID()
	return r
}

// loanRef is the host's record of the loan that r made, as the host hands it
// back to the plugin.
func loanRef(r sdk.CheckoutRequest, l sdk.Loan) sdk.LoanRef {
	format := l.Format
	if format == "" {
		format = r.Format
	}
	return sdk.LoanRef{ID: r.LoanID, Item: r.Item, Patron: r.Patron, PatronName: r.PatronName, Format: format,
		ExpiresAt: l.ExpiresAt, ProviderRef: l.ProviderRef, Options: r.Options}
}

// checkHandshake checks what go-plugin negotiated, and that the binary
// refuses to run without the host.
func (k *kit) checkHandshake(t *testing.T, hs handshake, startErr error) {
	if startErr != nil {
		t.Fatalf("the plugin did not start over go-plugin (gRPC, AutoMTLS, protocol %d): %v", sdk.ProtocolVersion, startErr)
	}
	if hs.version != sdk.ProtocolVersion {
		t.Errorf("negotiated protocol version %d, want %d", hs.version, sdk.ProtocolVersion)
	}
	if hs.transport != "grpc" {
		t.Errorf("negotiated transport %q, want %q", hs.transport, "grpc")
	}

	// Run by hand (no magic cookie), a plugin must say so and exit, not
	// wait for a host that will never come.
	ctx, cancel := k.callCtx(t)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.c.Binary)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	switch {
	case ctx.Err() != nil:
		t.Errorf("run without the host's magic cookie, the binary did not exit within %s", k.c.CallTimeout)
	case err == nil:
		t.Errorf("run without the host's magic cookie, the binary exited 0; want a refusal (output %q)", out)
	}
}
