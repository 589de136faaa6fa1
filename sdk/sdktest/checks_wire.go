package sdktest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
		_, err = k.typed.Resolve(ctx, sdk.ResolveRequest{Instance: instance, Loan: ref})
	case sdk.CapAvailability:
		_, err = k.typed.Availability(ctx, sdk.AvailabilityRequest{Instance: instance, Item: ref.Item})
	case sdk.CapReconcile:
		_, err = k.typed.Reconcile(ctx, sdk.ReconcileRequest{Instance: instance})
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
	mark := k.simMark()
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
		t.Errorf("code: want %q, got %s%s", ec.Code, k.explain(t, err), k.simAnswers(mark))
	}
	if ec.ProviderCode != "" && e.ProviderCode != ec.ProviderCode {
		t.Errorf("provider code: want %q, got %s", ec.ProviderCode, describeErr(err))
	}
	if ec.RetryAfter > 0 && e.RetryAfter != ec.RetryAfter {
		t.Errorf("retry after: want %s, got %s", ec.RetryAfter, describeErr(err))
	}
	if e.RetryAfter > 0 && e.Scope != ec.Scope {
		t.Errorf("the retry-after pauses the %s, want the %s (ErrorCase.Scope): a distributor's answer about one request pauses that "+
			"request only (sdk.ScopeRequest: e.ForRequest(), or ErrorTable.PerRequest), a signal about the whole account (its 429) the "+
			"instance (sdk.ScopeInstance, the zero value)", scopeName(e.Scope), scopeName(ec.Scope))
	}
	k.checkRefusal(t, err, mark)
}

// checkRefusal fails an answer of provider_error to a call during which
// the distributor refused with a 4xx: the distributor answered, and said
// why, so the plugin's error table misses a code (a PATRON_LIMIT read as
// a distributor failure counts against the breaker and tells the library
// nothing). Needs the kit's Server, which sees the simulator's answers.
func (k *kit) checkRefusal(t *testing.T, err error, mark answerMark) {
	t.Helper()
	if k.sim == nil || sdk.CodeOf(err) != sdk.CodeProviderError || recoveredPanic(err) {
		return
	}
	for _, a := range k.sim.since(mark) {
		if a.status < 400 || a.status > 499 || a.status == http.StatusRequestTimeout || a.status == http.StatusTooManyRequests {
			continue
		}
		code := a.code
		if code == "" {
			code = fmt.Sprintf("HTTP %d", a.status)
		}
		t.Errorf("the distributor refused with %d %s and the plugin answered %s: a refusal is the distributor's answer, not its failure. "+
			"Fix: map %q in the plugin's error table (sdk.ErrorTable.Codes, or Statuses for the HTTP status) to the unified code that says why "+
			"(limit_reached, not_available, patron_rejected, …)%s", a.status, code, describeErr(err), code, k.simAnswers(mark))
		return
	}
}

// checkDeadline gives Slow a short deadline. The host's side of the wire
// returns at the deadline whatever the plugin does; what matters is that the
// plugin gives up too, or every timed-out call leaves work behind in the
// plugin and at the distributor. In Provider mode the kit sees the plugin's
// method return; with a binary it reads when the method returned from the
// plugin's log (sdk.OverrunMessage, which sdk.Serve writes).
func (k *kit) checkDeadline(t *testing.T) {
	slow := k.c.Slow
	if slow == nil && k.c.Faults != nil && k.info.Has(sdk.CapCheckout) {
		restore := k.inject(t, FaultSlow)
		defer restore()
		slow = func(ctx context.Context, p sdk.Provider, instance string) error {
			r := k.checkoutFor("slow")
			r.Instance = instance
			_, err := p.Checkout(ctx, r)
			return err
		}
	}
	if slow == nil {
		t.Skip("neither Config.Slow nor Config.Faults is set: give the kit a call slower than a short deadline (e.g. with simulator latency) to check deadlines")
	}
	mark := 0
	if k.w == nil {
		mark = k.log.mark()
	}
	ctx, cancel := context.WithTimeout(t.Context(), k.c.Deadline)
	defer cancel()
	start := time.Now()
	var err error
	if !k.bound(t, "Config.Slow", func() { err = slow(ctx, k.p, k.c.Instance) }) {
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
	case elapsed >= k.c.Deadline: // Binary mode; an answer before the deadline was the plugin's own
		// The line comes over a pipe: allow it a moment past the slack.
		wait, cancel := context.WithDeadline(t.Context(), start.Add(k.c.Deadline+k.c.Slack+250*time.Millisecond))
		defer cancel()
		ov, ok := k.log.next(wait, mark)
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

// checkConcurrentCheckouts makes Concurrency checkouts at once, spread over
// the kit's two instances, each with its own loan id and its own patron
// (the sample's patron with "-<n>" appended, so that distributors refusing
// a second loan of an item to one patron still lend), while both instances
// are configured again, as on a swap: every checkout answers a loan or a
// unified code, and none fails the transport (a plugin that serialises
// badly, deadlocks or crashes under load does). A plugin built with the
// race detector reports here what per-instance state it shares without a
// lock (see races).
func (k *kit) checkConcurrentCheckouts(t *testing.T) {
	if !k.info.Has(sdk.CapCheckout) {
		t.Skip("the plugin does not declare checkout")
	}
	n := k.c.Concurrency
	errs := make([]error, n)
	instances := []string{k.c.Instance, k.instance2()}
	reconfigured := make([]error, len(instances))
	var wg sync.WaitGroup
	for i := range n {
		r := k.checkout()
		r.Instance = instances[i%len(instances)]
		r.Patron = fmt.Sprintf("%s-%d", r.Patron, i+1)
		wg.Go(func() {
			ctx, cancel := k.callCtx(t)
			defer cancel()
			_, errs[i] = k.p.Checkout(ctx, r)
		})
		if i == n/2 {
			for j, in := range instances {
				wg.Go(func() {
					ctx, cancel := k.callCtx(t)
					defer cancel()
					reconfigured[j] = k.p.Configure(ctx, in, k.c.Settings)
				})
			}
		}
	}
	wg.Wait()
	for j, err := range reconfigured {
		if err != nil {
			t.Errorf("Configure(%q) again while checkouts ran: %s", instances[j], k.explain(t, err))
		}
	}
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !sdk.CodeOf(err).Known():
			t.Errorf("checkout %d of %d: %q is not a unified code", i+1, n, sdk.CodeOf(err))
		case transportFailure(err):
			t.Errorf("checkout %d of %d failed the transport (did the plugin crash? a concurrent map write does): %s", i+1, n, describeErr(err))
		case recoveredPanic(err):
			t.Errorf("checkout %d of %d: %s", i+1, n, k.explain(t, err))
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
	p, _, err := startBinary(t, bin, newPluginLog(nil, "the kit's panicking plugin's log"))
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
	for _, b := range k.w.badCodeReport() {
		t.Errorf("the plugin returned a code outside the unified vocabulary (the host sees provider_error): %s", b)
	}
}

// checkNoPanics reports every panic the plugin raised during the run,
// including ones that other checks saw only as provider_error, each with
// the first frame of the plugin's own code (from the plugin's log with a
// binary, from the watch around it in Provider mode).
func (k *kit) checkNoPanics(t *testing.T) {
	seen := map[string]int{}
	var order []string
	for _, p := range k.panics.allPanics() {
		s := p.String()
		if seen[s] == 0 {
			order = append(order, s)
		}
		seen[s]++
	}
	for _, s := range order {
		t.Errorf("the plugin panicked (%d×): %s. sdk.Serve recovers a panic into %s, but the call failed and the library saw a "+
			"distributor error; fix the code at that line (a nil map or pointer, an index out of range on a distributor's answer)", seen[s], s, sdk.CodeProviderError)
	}
}
