package sdktest

import (
	"context"
	"fmt"
	"testing"

	"github.com/lendgate/lendgate/sdk"
)

// The fault checks drive every Fault through each declared operation that
// changes something at the distributor (checkout, renew, return), whether
// or not the author's error cases list it, and check the unified code and
// the outcome class of the answer: the host keeps a loan whose outcome is
// unknown and never orders again under its key, so a failure after which
// the request may have acted must say so (api.md §7).

// faultOps are the operations the faults are driven through.
var faultOps = []sdk.Capability{sdk.CapCheckout, sdk.CapRenew, sdk.CapReturn}

// checkFaults runs fault/<op>/<fault> for every declared operation.
func (k *kit) checkFaults(t *testing.T) {
	if k.c.Faults == nil {
		k.sub(t, "faults", func(t *testing.T) {
			t.Skip("Config.Faults is not set: serve the simulator with sdktest.Simulator and set Faults to its server, so that the kit " +
				"can check the answers to a 502, a 429, garbage, a cut connection and a slow answer (each also after the distributor acted)")
		})
		return
	}
	if !k.info.Has(sdk.CapCheckout) || k.c.Checkout.Item == "" {
		k.sub(t, "faults", func(t *testing.T) {
			t.Skip("the faults are driven through checkout and the loans it makes: the plugin declares no checkout, or Config.Checkout is not set")
		})
		return
	}
	for _, op := range faultOps {
		if !k.info.Has(op) {
			continue
		}
		for _, f := range faultOrder {
			k.sub(t, fmt.Sprintf("fault/%s/%s", op, f), func(t *testing.T) { k.checkFault(t, op, f) })
		}
	}
}

// inject makes f; false (and t skipped) when the hook does not offer it.
func (k *kit) inject(t *testing.T, f Fault) func() {
	t.Helper()
	var restore func()
	if !k.bound(t, "Config.Faults.Inject("+f.String()+")", func() { restore = k.c.Faults.Inject(f) }) {
		t.FailNow()
	}
	if restore == nil {
		t.Skipf("Config.Faults does not offer %s (its Inject answered a nil restore)", f)
	}
	return restore
}

// checkFault drives f through op on a loan of its own.
func (k *kit) checkFault(t *testing.T, op sdk.Capability, f Fault) {
	var (
		r   sdk.CheckoutRequest
		ref sdk.LoanRef
		rid = k.loanID()
	)
	if op == sdk.CapCheckout {
		r = k.checkoutFor("fault")
	} else {
		var loan sdk.Loan
		r, loan = k.freshLoan(t, "fault")
		ref = loanRef(r, loan)
	}
	timeout := k.c.CallTimeout
	if f.base() == FaultSlow {
		timeout = k.c.Deadline
	}
	restore := k.inject(t, f)
	mark := k.simMark()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	var err error
	switch op {
	case sdk.CapCheckout:
		_, err = k.p.Checkout(ctx, r)
	case sdk.CapRenew:
		_, err = k.p.Renew(ctx, sdk.RenewRequest{Instance: k.c.Instance, Loan: ref, Days: k.c.RenewDays, RenewalID: rid})
	case sdk.CapReturn:
		_, err = k.p.Return(ctx, sdk.ReturnRequest{Instance: k.c.Instance, Loan: ref})
	}
	cancel()
	restore()
	k.checkFaultAnswer(t, op, f, err, mark)
	if t.Failed() {
		return
	}
	switch op {
	case sdk.CapCheckout:
		k.afterCheckoutFault(t, f, r)
	case sdk.CapRenew:
		k.afterRenewFault(t, f, ref, rid)
	case sdk.CapReturn:
		k.afterReturnFault(t, f, ref)
	}
}

// checkFaultAnswer checks the code and outcome class of op's answer under f.
func (k *kit) checkFaultAnswer(t *testing.T, op sdk.Capability, f Fault, err error, mark answerMark) {
	t.Helper()
	wantCode, wantOutcome := f.want()
	switch {
	case err == nil && f.base() == FaultGarbage && op != sdk.CapCheckout:
		// A renewal or return may need no more than the status.
		t.Logf("%s answered success under %s: it reads no more of the answer than its status", op, faultWords(f))
		return
	case err == nil:
		t.Fatalf("%s answered success under %s", op, faultWords(f))
	}
	e := sdk.AsError(err)
	if e.Code != wantCode && !sdk.Untyped(err) {
		t.Errorf("%s under %s: want %s, got %s%s", op, faultWords(f), wantCode, k.explain(t, err), k.simAnswers(mark))
	}
	switch got := sdk.OutcomeOf(err); {
	case got == wantOutcome:
	case wantOutcome == sdk.OutcomeUnknown:
		t.Errorf("%s under %s: outcome %s, want %s: the request went out and no answer came back, so it may have acted; "+
			"the host would take the %s as not having happened and a retry would act twice. Fix: leave the error's Outcome "+
			"unset (provider_error and provider_timeout read as unknown) or set sdk.OutcomeUnknown; sdk.Exchange does",
			op, faultWords(f), got, wantOutcome, op)
	default:
		t.Errorf("%s under %s: outcome %s, want %s: the distributor answered and nothing took effect", op, faultWords(f), got, wantOutcome)
	}
	if f.base() == FaultRateLimited && e.Code == sdk.CodeTryLater {
		if e.RetryAfter != FaultRetryAfter {
			t.Errorf("%s under a 429 with Retry-After: %d: retry after %s, want %s (sdk.RetryAfter reads the header; sdk.Exchange does it)",
				op, int(FaultRetryAfter.Seconds()), e.RetryAfter, FaultRetryAfter)
		}
		if e.Scope != sdk.ScopeInstance {
			t.Errorf("%s under a 429 with Retry-After: the pause is scoped to the %s, want the instance: a 429 asks every caller to wait, "+
				"and the host pauses the whole instance only for sdk.ScopeInstance. Fix: keep ForRequest (and ErrorTable.PerRequest) for "+
				"answers about one request, such as a title not out yet", op, scopeName(e.Scope))
		}
	}
}

// afterCheckoutFault checks, once a checkout's answer was lost, what the
// simulator holds and what a resend and Resolve make of it.
func (k *kit) afterCheckoutFault(t *testing.T, f Fault, r sdk.CheckoutRequest) {
	if f.base() == FaultRateLimited {
		return
	}
	count := k.c.Effects.Checkouts
	held := -1 // unknown without the hook
	if count != nil {
		if !k.bound(t, "Config.Effects.Checkouts", func() { held = count(r.LoanID) }) {
			return
		}
		switch {
		case held > 1:
			t.Fatalf("the simulator holds %d loans under loan id %q after one checkout", held, r.LoanID)
		case f.AfterActing() && held == 0:
			t.Logf("the simulator holds no loan under %q though %s let it act: the fault hit a request that does not place the loan "+
				"(the resend and Resolve checks are left out)", r.LoanID, f)
			return
		}
	}
	if k.info.DedupesCheckout && (f.AfterActing() || held >= 0) {
		ctx, cancel := k.callCtx(t)
		_, err := k.p.Checkout(ctx, r)
		cancel()
		if err != nil && sdk.CodeOf(err) != sdk.CodeDuplicateReference {
			t.Errorf("the checkout re-sent under its loan id after %s (the host does so, since the plugin declares DedupesCheckout): %s; "+
				"want the loan, or %s", faultWords(f), k.explain(t, err), sdk.CodeDuplicateReference)
		}
		if count != nil {
			k.wantLoans(t, r.LoanID, 1, "after a checkout whose answer was lost and its resend")
		}
		return
	}
	if k.info.Has(sdk.CapResolve) && (f.AfterActing() || count != nil) {
		k.resolveAfterFault(t, f, r, count)
	}
}

// resolveAfterFault resolves a checkout whose answer was lost: placed
// when the simulator acted, and, with the Checkouts hook, placed exactly
// when the simulator holds the loan afterwards (a Resolve may place the
// order itself, as CB's does).
func (k *kit) resolveAfterFault(t *testing.T, f Fault, r sdk.CheckoutRequest, count func(string) int) {
	ctx, cancel := k.callCtx(t)
	defer cancel()
	res, err := k.p.(sdk.Resolver).Resolve(ctx, resolveRef(r))
	if err != nil {
		t.Errorf("Resolve of a checkout whose answer was lost (%s): %s; the host asks again later, but the distributor is up", faultWords(f), k.explain(t, err))
		return
	}
	if f.AfterActing() && !res.Placed {
		t.Errorf("Resolve of a checkout that the simulator placed before its answer was lost (%s) answered not placed: the host would revoke a live loan", faultWords(f))
	}
	if count == nil {
		return
	}
	var held int
	if !k.bound(t, "Config.Effects.Checkouts", func() { held = count(r.LoanID) }) {
		return
	}
	switch {
	case held > 1:
		t.Errorf("after Resolve the simulator holds %d loans under loan id %q: resolving ordered again", held, r.LoanID)
	case res.Placed != (held == 1):
		t.Errorf("Resolve answered placed=%t, and the simulator holds %d loans under loan id %q", res.Placed, held, r.LoanID)
	}
}

// afterRenewFault re-sends a renewal whose answer was lost after the
// simulator acted, when the plugin declares that its distributor
// deduplicates renewals.
func (k *kit) afterRenewFault(t *testing.T, f Fault, ref sdk.LoanRef, rid string) {
	if !f.AfterActing() || !k.info.DedupesRenew {
		return
	}
	ctx, cancel := k.callCtx(t)
	defer cancel()
	_, err := k.p.Renew(ctx, sdk.RenewRequest{Instance: k.c.Instance, Loan: ref, Days: k.c.RenewDays, RenewalID: rid})
	if err != nil && sdk.CodeOf(err) != sdk.CodeDuplicateReference {
		t.Errorf("the renewal re-sent under its renewal id after %s (the plugin declares DedupesRenew): %s; want the renewed loan, or %s",
			faultWords(f), k.explain(t, err), sdk.CodeDuplicateReference)
	}
	if k.c.Effects.Renewals != nil {
		k.wantRenewals(t, ref, rid, "after a renewal whose answer was lost and its resend")
	}
}

// afterReturnFault re-sends a return whose answer was lost after the
// simulator acted, when the plugin declares that its distributor answers a
// repeated return.
func (k *kit) afterReturnFault(t *testing.T, f Fault, ref sdk.LoanRef) {
	if !f.AfterActing() || !k.info.DedupesReturn {
		return
	}
	ctx, cancel := k.callCtx(t)
	defer cancel()
	if _, err := k.p.Return(ctx, sdk.ReturnRequest{Instance: k.c.Instance, Loan: ref}); err != nil {
		t.Errorf("the return re-sent after %s (the plugin declares DedupesReturn): %s; want the returned loan", faultWords(f), k.explain(t, err))
	}
}

// faultWords says what f did, for a failure's message.
func faultWords(f Fault) string {
	var s string
	switch f.base() {
	case FaultServerError:
		s = "a gateway's 502 without the distributor's error body"
	case FaultRateLimited:
		s = fmt.Sprintf("a 429 with Retry-After: %d", int(FaultRetryAfter.Seconds()))
	case FaultGarbage:
		s = "a 200 whose body is not the API's answer"
	case FaultCut:
		s = "a connection cut before the answer"
	case FaultSlow:
		s = "no answer before the deadline"
	}
	if f.AfterActing() {
		s += ", once the distributor had acted"
	}
	return s + " (" + f.String() + ")"
}

// scopeName names a pause's scope.
func scopeName(s sdk.Scope) string {
	switch s {
	case sdk.ScopeInstance:
		return "instance"
	case sdk.ScopeRequest:
		return "request"
	}
	return fmt.Sprintf("scope %d", int(s))
}
