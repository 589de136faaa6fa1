package sdktest

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// call makes the call of capability c for instance with the samples (or
// minimal requests where there is no sample), for the checks that only look
// at the error.
func (k *kit) call(ctx context.Context, c sdk.Capability, instance string, ref sdk.LoanRef) error {
	var err error
	switch c {
	case sdk.CapCheckout:
		r := k.checkout()
		r.Instance = instance
		_, err = k.p.Checkout(ctx, r)
	case sdk.CapFulfill:
		_, err = k.p.Fulfill(ctx, sdk.FulfillRequest{Instance: instance, Loan: ref})
	case sdk.CapRenew:
		_, err = k.p.Renew(ctx, sdk.RenewRequest{Instance: instance, Loan: ref, Days: k.c.RenewDays, RenewalID: k.loanID()})
	case sdk.CapReturn:
		_, err = k.p.Return(ctx, sdk.ReturnRequest{Instance: instance, Loan: ref})
	case sdk.CapDownload:
		r := k.c.Download
		r.Instance = instance
		_, err = k.p.Download(ctx, r)
	case sdk.CapAccessCheck:
		r := k.c.Access
		r.Instance = instance
		_, err = k.p.CheckAccess(ctx, r)
	case sdk.CapNotifications:
		n := sdk.Notification{Method: "POST", Body: []byte("{}")}
		if k.c.Notification != nil {
			n = k.c.Notification(ref)
		}
		n.Instance, n.Loan = instance, ref
		_, err = k.p.HandleNotification(ctx, n)
	case sdk.CapResolve:
		rv, ok := k.p.(sdk.Resolver)
		if !ok {
			return sdk.Errorf(sdk.CodeUnsupportedOperation, "the client does not resolve")
		}
		_, err = rv.Resolve(ctx, sdk.ResolveRequest{Instance: instance, Loan: ref})
	default:
		err = fmt.Errorf("sdktest: no call for capability %q", c)
	}
	return err
}

// describeErr renders an error with everything that crossed the wire.
func describeErr(err error) string {
	if err == nil {
		return "success"
	}
	e := sdk.AsError(err)
	untyped := ""
	if sdk.Untyped(err) {
		untyped = " (the plugin returned an error that is not an *sdk.Error; see typed_errors)"
	}
	return fmt.Sprintf("code %q, provider code %q, retry after %s, message %q%s", e.Code, e.ProviderCode, e.RetryAfter, e.Message, untyped)
}

// transportFailure reports whether err is the host's own failure (the call
// never got a plugin's answer) rather than a plugin's error.
func transportFailure(err error) bool {
	return sdk.CodeOf(err) == sdk.CodePluginUnavailable
}

// recoveredPanic reports whether err is a panic that the SDK turned into
// provider_error.
func recoveredPanic(err error) bool {
	e := sdk.AsError(err)
	return e != nil && e.Code == sdk.CodeProviderError && strings.HasPrefix(e.Message, panicMessage)
}

func (k *kit) checkErrorCase(t *testing.T, ec ErrorCase) {
	ctx, cancel := k.callCtx(t)
	defer cancel()
	var err error
	if !k.bound(t, "ErrorCase "+ec.Name+": Call", func() { err = ec.Call(ctx, k.p, k.c.Instance) }) {
		return
	}
	if err == nil {
		t.Fatalf("want %s, got success", ec.Code)
	}
	var e *sdk.Error
	if !errors.As(err, &e) {
		t.Fatalf("want an *sdk.Error %s, got %T %v", ec.Code, err, err)
	}
	if e.Code != ec.Code {
		t.Errorf("code: want %q, got %s", ec.Code, describeErr(err))
	}
	if ec.ProviderCode != "" && e.ProviderCode != ec.ProviderCode {
		t.Errorf("provider code: want %q, got %s", ec.ProviderCode, describeErr(err))
	}
	if ec.RetryAfter > 0 && e.RetryAfter != ec.RetryAfter {
		t.Errorf("retry after: want %s, got %s", ec.RetryAfter, describeErr(err))
	}
}

// checkDeadline gives Slow a short deadline. The host's side of the wire
// returns at the deadline whatever the plugin does; what matters is that the
// plugin gives up too, or every timed-out call leaves work behind in the
// plugin and at the distributor. In Provider mode the kit sees the plugin's
// method return; with a binary it reads when the method returned from the
// plugin's log (sdk.OverrunMessage, which sdk.Serve writes).
func (k *kit) checkDeadline(t *testing.T) {
	if k.c.Slow == nil {
		t.Skip("Config.Slow is not set: give the kit a call slower than a short deadline (e.g. with simulator latency) to check deadlines")
	}
	mark := 0
	if k.overruns != nil {
		mark = k.overruns.mark()
	}
	ctx, cancel := context.WithTimeout(t.Context(), k.c.Deadline)
	defer cancel()
	start := time.Now()
	var err error
	if !k.bound(t, "Config.Slow", func() { err = k.c.Slow(ctx, k.p, k.c.Instance) }) {
		return
	}
	elapsed := time.Since(start)
	// An untyped answer that beat the host's side of the wire to the
	// deadline is typed_errors' finding (the plugin gave up in time but
	// said so with a plain error), not this check's.
	if got := sdk.CodeOf(err); got != sdk.CodeProviderTimeout && !sdk.Untyped(err) {
		t.Errorf("a call past its %s deadline: want %s, got %s", k.c.Deadline, sdk.CodeProviderTimeout, describeErr(err))
	}
	if limit := k.c.Deadline + k.c.Slack; elapsed > limit {
		t.Errorf("a call with a %s deadline answered after %s (more than %s)", k.c.Deadline, elapsed.Round(time.Millisecond), limit)
	}
	const fix = "pass the call's ctx on to every outbound request and every wait (no time.Sleep: select on ctx.Done())"
	switch {
	case k.w != nil:
		wait, cancel := context.WithTimeout(t.Context(), k.c.Slack)
		defer cancel()
		if !k.w.waitIdle(wait) {
			t.Errorf("the plugin's method was still running %s after its %s deadline: %s", k.c.Slack, k.c.Deadline, fix)
		}
	case k.overruns != nil && elapsed >= k.c.Deadline: // an answer before the deadline was the plugin's own
		// The line comes over a pipe: allow it a moment past the slack.
		wait, cancel := context.WithDeadline(t.Context(), start.Add(k.c.Deadline+k.c.Slack+250*time.Millisecond))
		defer cancel()
		ov, ok := k.overruns.next(wait, mark)
		switch {
		case !ok:
			t.Errorf("the plugin's method was still running %s after its %s deadline (its log has no %q line): %s",
				k.c.Slack, k.c.Deadline, sdk.OverrunMessage, fix)
		case ov.late > k.c.Slack:
			t.Errorf("the plugin's %s returned %s after its %s deadline (more than the %s slack): %s",
				ov.method, ov.late, k.c.Deadline, k.c.Slack, fix)
		}
	}
}

// firstCapability is the first operation the plugin declares, in the order
// of capabilities; t is skipped when it declares none.
func (k *kit) firstCapability(t *testing.T) sdk.Capability {
	for _, x := range capabilities {
		if k.info.Has(x) {
			return x
		}
	}
	t.Skip("the plugin declares no capability")
	return ""
}

// checkUnknownInstance calls the first declared operation for an instance
// the host never configured: the plugin has no settings for it, so it must
// refuse with a unified code, and neither lend on some default account nor
// crash on a missing map entry.
func (k *kit) checkUnknownInstance(t *testing.T) {
	c := k.firstCapability(t)
	instance := "sdktest-unconfigured-" + k.run
	ref := sdk.LoanRef{ID: k.loanID(), Item: k.c.Checkout.Item, Patron: k.c.Checkout.Patron, Format: k.c.Checkout.Format,
		ExpiresAt: time.Now().Add(24 * time.Hour), Options: k.c.Checkout.Options}
	ctx, cancel := k.callCtx(t)
	defer cancel()
	err := k.call(ctx, c, instance, ref)
	code := sdk.CodeOf(err)
	switch {
	case err == nil:
		t.Errorf("%s for unconfigured instance %q succeeded; want an error", c, instance)
	case !code.Known():
		t.Errorf("%s for an unconfigured instance: %q is not a unified code (%s)", c, code, describeErr(err))
	case transportFailure(err):
		t.Errorf("%s for an unconfigured instance broke the transport: %s", c, describeErr(err))
	case recoveredPanic(err):
		t.Errorf("%s for an unconfigured instance panicked: %s", c, describeErr(err))
	}
}

// checkConcurrentCheckouts makes Concurrency checkouts at once, each with its
// own loan id and its own patron (the sample's patron with "-<n>" appended,
// so that distributors refusing a second loan of an item to one patron
// still lend): every one answers a loan or a unified code, and none fails
// the transport (a plugin that serialises badly, deadlocks or crashes under
// load does).
func (k *kit) checkConcurrentCheckouts(t *testing.T) {
	if !k.info.Has(sdk.CapCheckout) {
		t.Skip("the plugin does not declare checkout")
	}
	n := k.c.Concurrency
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		r := k.checkout()
		r.Patron = fmt.Sprintf("%s-%d", r.Patron, i+1)
		wg.Go(func() {
			ctx, cancel := k.callCtx(t)
			defer cancel()
			_, errs[i] = k.p.Checkout(ctx, r)
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !sdk.CodeOf(err).Known():
			t.Errorf("checkout %d of %d: %q is not a unified code", i+1, n, sdk.CodeOf(err))
		case transportFailure(err):
			t.Errorf("checkout %d of %d failed the transport: %s", i+1, n, describeErr(err))
		case recoveredPanic(err):
			t.Errorf("checkout %d of %d panicked: %s", i+1, n, describeErr(err))
		}
	}
	t.Logf("%d of %d concurrent checkouts lent", ok, n)
	if ok == 0 {
		t.Errorf("none of %d concurrent checkouts lent, though the sample checkout does", n)
	}
	ctx, cancel := k.callCtx(t)
	defer cancel()
	if _, err := k.p.Describe(ctx); err != nil {
		t.Errorf("after %d concurrent checkouts, Describe: %v", n, err)
	}
}

// panicPluginPkg is the kit's own plugin whose Checkout panics.
const panicPluginPkg = "github.com/lendgate/lendgate/sdk/sdktest/internal/panicplugin"

// checkPanicRecovery builds the kit's panicking plugin against the SDK this
// module requires, runs it as a real process over go-plugin and checks that
// sdk.Serve turns the panic into provider_error and keeps serving. The kit
// cannot make an arbitrary plugin panic, but every plugin gets its recovery
// from sdk.Serve, so this is the recovery the checked plugin has too.
func checkPanicRecovery(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is needed to build the kit's panicking plugin")
	}
	bin, err := build(t.Context(), t.TempDir(), panicPluginPkg)
	if err != nil {
		t.Fatalf("building the kit's panicking plugin (needs %s in the module graph, not vendored away): %v", panicPluginPkg, err)
	}
	p, _, err := startBinary(t, bin)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		ctx, cancel := context.WithTimeout(t.Context(), DefaultCallTimeout)
		_, err := p.Checkout(ctx, sdk.CheckoutRequest{Instance: "panic", LoanID: fmt.Sprintf("ln_panic_%d", i), Item: "1", Patron: "p"})
		cancel()
		if !recoveredPanic(err) {
			t.Fatalf("call %d to a method that panics: want %s from the SDK's recovery, got %s", i+1, sdk.CodeProviderError, describeErr(err))
		}
		ctx, cancel = context.WithTimeout(t.Context(), DefaultCallTimeout)
		_, err = p.Describe(ctx)
		cancel()
		if err != nil {
			t.Fatalf("after a panic, the plugin no longer answers: %v", err)
		}
	}
}

// checkUnifiedCodes (Provider mode) reports codes outside the unified
// vocabulary: the wire turns them into provider_error, so the host would
// see a distributor failure where the plugin meant something else.
func (k *kit) checkUnifiedCodes(t *testing.T) {
	_, bad := k.w.report()
	for _, b := range bad {
		t.Errorf("the plugin returned a code outside the unified vocabulary (the host sees provider_error): %s", b)
	}
}

// checkNoPanics (Provider mode) reports every panic the plugin raised during
// the run, including ones that other checks saw only as provider_error.
func (k *kit) checkNoPanics(t *testing.T) {
	panics, _ := k.w.report()
	for _, p := range panics {
		t.Errorf("the plugin panicked: %s", p)
	}
}
