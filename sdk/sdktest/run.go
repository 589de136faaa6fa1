package sdktest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// kit is one run of the conformance checks against one plugin.
type kit struct {
	c       Config
	p       sdk.Provider // the host's side of the wire, through typed
	typed   *typedWatch  // answers that were not an *sdk.Error
	w       *watch       // the plugin's side, in Provider mode only
	log     *pluginLog   // the plugin's log: its stderr, or sdk.Logger in Provider mode
	panics  panicSource  // the panics the plugin raised
	secrets *secretWatch
	sim     *Server // Config.Faults when it is Simulator's server
	stop    func()  // stops a binary once every call is made (its log is then whole)
	info    sdk.Info
	run     string // makes loan ids unique across runs against one simulator
	seq     atomic.Int64
}

// panicSource tells the panics a plugin raised: its log (Binary mode) or
// the watch around it (Provider mode).
type panicSource interface {
	panicOf(ctx context.Context, method string) (panicRecord, bool)
	allPanics() []panicRecord
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
	k := &kit{c: c, run: rand.Text()[:8], secrets: newSecretWatch(), stop: func() {}}
	k.secrets.addSettings(c.Settings, nil)
	if c.Access.Password != "" {
		k.secrets.add("Config.Access.Password (the patron's password)", c.Access.Password)
	}
	k.sim, _ = c.Faults.(*Server)

	if c.Binary != "" {
		k.log = newPluginLog(k.secrets, "the plugin's log (its stderr)")
		p, hs, err := startBinary(t, c.Binary, k.log)
		if !k.sub(t, "handshake", func(t *testing.T) { k.checkHandshake(t, hs, err) }) {
			return
		}
		k.p, k.stop, k.panics = p, hs.stop, k.log
	} else {
		k.w = newWatch(c.Provider)
		k.log = newPluginLog(k.secrets, "the plugin's log (sdk.Logger)")
		p, err := serveInProcess(t, k.w, k.log)
		if err != nil {
			t.Fatalf("sdktest: serving the provider: %v", err)
		}
		k.p, k.panics = p, k.w
	}
	k.typed = newTypedWatch(k.p, k.secrets)
	k.p = k.typed

	if !k.sub(t, "describe", k.checkDescribe) || !k.sub(t, "configure", k.checkConfigure) {
		return
	}
	k.checkCapabilities(t)
	k.checkClaims(t)
	k.sub(t, "effects", k.checkEffects)
	k.checkUndeclared(t)
	for _, ec := range c.ErrorCases {
		k.sub(t, "error_case/"+ec.Name, func(t *testing.T) { k.checkErrorCase(t, ec) })
	}
	// The deadline check reads the plugin's log for its own call's late
	// return: it runs before the fault checks leave late returns of
	// their own in the log.
	k.sub(t, "deadline", k.checkDeadline)
	k.checkFaults(t)
	k.sub(t, "transport_failure", k.checkTransportFailure)
	k.sub(t, "unknown_instance", k.checkUnknownInstance)
	k.sub(t, "concurrent_checkouts", k.checkConcurrentCheckouts)
	k.sub(t, "panic_recovery", checkPanicRecovery)
	k.sub(t, "typed_errors", k.checkTypedErrors)
	// Every call is made: a binary is stopped so that its log is whole.
	k.stop()
	k.sub(t, "secrets", k.checkSecrets)
	if k.w != nil {
		k.sub(t, "unified_codes", k.checkUnifiedCodes)
	} else {
		k.sub(t, "races", k.checkRaces)
	}
	k.sub(t, "no_panics", k.checkNoPanics)
}

// checkClaims checks what the plugin declares about its distributor.
func (k *kit) checkClaims(t *testing.T) {
	if !k.info.Has(sdk.CapCheckout) {
		return
	}
	if k.info.DedupesCheckout {
		k.sub(t, "claim/dedupes_checkout", k.checkDedupesCheckout)
	}
	if k.info.DedupesRenew && k.info.Has(sdk.CapRenew) {
		k.sub(t, "claim/dedupes_renew", k.checkDedupesRenew)
	}
	if k.info.DedupesReturn && k.info.Has(sdk.CapReturn) {
		k.sub(t, "claim/dedupes_return", k.checkDedupesReturn)
	}
}

// instance2 is the second instance the kit configures.
func (k *kit) instance2() string { return k.c.Instance + "-2" }

// panicLogWait bounds how long a check waits for the log line of a panic
// it met: the line comes over a pipe and may trail the call's answer.
const panicLogWait = 2 * time.Second

// explain renders an error as describeErr does, and a recovered panic as
// the panic itself, with the first frame of the plugin's code.
func (k *kit) explain(t *testing.T, err error) string {
	if !recoveredPanic(err) || k.panics == nil {
		return describeErr(err)
	}
	method := strings.TrimSpace(strings.TrimPrefix(sdk.AsError(err).Message, panicMessage))
	ctx, cancel := context.WithTimeout(t.Context(), panicLogWait)
	defer cancel()
	if p, ok := k.panics.panicOf(ctx, method); ok {
		return fmt.Sprintf("%s (sdk.Serve recovered it and answered %s)", p, sdk.CodeProviderError)
	}
	return describeErr(err) + " (a panic; its log line did not come)"
}

// simMark is the point in the simulator's answers before a call (0 without
// the kit's Server).
func (k *kit) simMark() answerMark {
	if k.sim == nil {
		return 0
	}
	return k.sim.mark()
}

// simAnswers names the simulator's answers since m, for a failure's
// message ("" without the kit's Server).
func (k *kit) simAnswers(m answerMark) string {
	if k.sim == nil {
		return ""
	}
	as := k.sim.since(m)
	if len(as) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("; the simulator answered")
	for i, a := range as {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %s %s → %d", a.method, a.path, a.status)
		if a.code != "" {
			fmt.Fprintf(&b, " %s", a.code)
		}
	}
	return b.String()
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
