package main

import (
	"context"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/odl/odlsim"
	"github.com/lendgate/lendgate/sdk"
)

// TestFulfill: the LSD's licence link (and manifest, for an audiobook),
// read afresh; a loan no longer running is loan_not_found.
func TestFulfill(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r, l := e.lend(t, "ln_1", odlsim.ISBNAvailable)
	statusReads := e.sim.CallsTo(odlsim.EndpointStatus)
	f, err := e.p.Fulfill(ctx, sdk.FulfillRequest{Instance: testInstance, Loan: loanRef(r, l)})
	if err != nil || len(f.Links) != 1 || f.Links[0] != l.Links[0] || e.sim.CallsTo(odlsim.EndpointStatus) != statusReads+1 {
		t.Fatalf("fulfill: %v %+v", err, f)
	}
	_, err = e.p.Fulfill(ctx, sdk.FulfillRequest{Instance: testInstance, Loan: loanRef(r, l), Format: formatAudiobook})
	wantError(t, err, sdk.CodeNotAvailable, "")

	ar, al := e.lend(t, "ln_audio", odlsim.ISBNAudiobook)
	f, err = e.p.Fulfill(ctx, sdk.FulfillRequest{Instance: testInstance, Loan: loanRef(ar, al)})
	if err != nil || al.Format != formatAudiobook || len(f.Links) != 2 || f.Links[1].Rel != sdk.RelManifest || f.Links[1].Type != sdk.MediaTypeAudiobookManifest {
		t.Errorf("audiobook fulfill: %v %+v", err, f.Links)
	}

	if err := e.sim.Revoke("ln_1"); err != nil {
		t.Fatal(err)
	}
	_, err = e.p.Fulfill(ctx, sdk.FulfillRequest{Instance: testInstance, Loan: loanRef(r, l)})
	wantError(t, err, sdk.CodeLoanNotFound, "revoked")
	// An LSD the distributor no longer has.
	ref := loanRef(r, l)
	ref.ProviderRef = map[string]string{refLSD: e.srv.URL + "/loans/nope/status"}
	_, err = e.p.Fulfill(ctx, sdk.FulfillRequest{Instance: testInstance, Loan: ref})
	wantError(t, err, sdk.CodeLoanNotFound, "HTTP 404")
	// No reference at all.
	ref.ProviderRef = nil
	_, err = e.p.Fulfill(ctx, sdk.FulfillRequest{Instance: testInstance, Loan: ref})
	wantError(t, err, sdk.CodeLoanNotFound, "")
}

// TestRenew: the loan's end moves by the days asked; a renewal the
// distributor answers without moving the end is not_available; a renew
// link for people only is unsupported_operation.
func TestRenew(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.checkout("ln_1", odlsim.ISBNOneCopy) // potential end: 14 days
	r.Days = 7
	l, err := e.p.Checkout(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	ref := loanRef(r, l)
	got, err := e.p.Renew(ctx, sdk.RenewRequest{Instance: testInstance, Loan: ref, Days: 5})
	want := start.Add(12 * 24 * time.Hour)
	if err != nil || !got.ExpiresAt.Equal(want) || !e.sim.Renewed("ln_1") {
		t.Fatalf("renew: %v, expires %s want %s", err, got.ExpiresAt, want)
	}
	if sl, _ := e.sim.Loan("ln_1"); !sl.End.Equal(want) {
		t.Errorf("the distributor's loan ends %s", sl.End)
	}
	ref.ExpiresAt = got.ExpiresAt
	// 12 + 5 days is past the 14-day potential end: 200, end unchanged.
	_, err = e.p.Renew(ctx, sdk.RenewRequest{Instance: testInstance, Loan: ref, Days: 5})
	if e := wantError(t, err, sdk.CodeNotAvailable, ""); sdk.OutcomeOf(e) != sdk.OutcomeDefinitive {
		t.Errorf("unmoved end: outcome %s", sdk.OutcomeOf(e))
	}
	_, err = e.p.Renew(ctx, sdk.RenewRequest{Instance: testInstance, Loan: ref, Days: 0})
	wantError(t, err, sdk.CodeInvalidRequest, "")

	nr, nl := e.lend(t, "ln_html", odlsim.ISBNNoRenew)
	calls := e.sim.CallsTo(odlsim.EndpointRenew)
	_, err = e.p.Renew(ctx, sdk.RenewRequest{Instance: testInstance, Loan: loanRef(nr, nl), Days: 3})
	wantError(t, err, sdk.CodeUnsupportedOperation, "")
	if e.sim.CallsTo(odlsim.EndpointRenew) != calls {
		t.Errorf("a renewal for people only was PUT")
	}

	// Untemplated renew link: PUT as it is, the distributor picks the end.
	u := newEnv(t, odlsim.WithUntemplatedLinks(), odlsim.WithArrayRels())
	ur, ul := u.lend(t, "ln_plain", odlsim.ISBNAvailable)
	got, err = u.p.Renew(ctx, sdk.RenewRequest{Instance: testInstance, Loan: loanRef(ur, ul), Days: 30})
	if want := ul.ExpiresAt.Add(odlsim.DefaultRenewPeriod); err != nil || !got.ExpiresAt.Equal(want) {
		t.Errorf("untemplated renew: %v, expires %s want %s", err, got.ExpiresAt, want)
	}
	if q := u.requestsTo(odlsim.EndpointRenew)[0].Query; len(q) != 0 {
		t.Errorf("untemplated renew sent %v", q)
	}
}

// TestReturn: the return link, PUT; a return sent again answers the
// returned loan without a call; no return link is unsupported_operation;
// an expired loan is loan_not_found.
func TestReturn(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r, l := e.lend(t, "ln_1", odlsim.ISBNOneCopy)
	got, err := e.p.Return(ctx, sdk.ReturnRequest{Instance: testInstance, Loan: loanRef(r, l)})
	if err != nil || !e.sim.Returned("ln_1") || got.ProviderRef[refLSD] != l.ProviderRef[refLSD] || len(got.Links) != 0 {
		t.Fatalf("return: %v %+v", err, got)
	}
	if q := e.requestsTo(odlsim.EndpointReturn)[0].Query; q.Get("name") != returnName {
		t.Errorf("return sent %v", q)
	}
	if _, running, _ := e.sim.License(odlsim.LicenseOneCopy); running != 0 {
		t.Errorf("the copy is not free after the return")
	}
	puts := e.sim.CallsTo(odlsim.EndpointReturn)
	if _, err := e.p.Return(ctx, sdk.ReturnRequest{Instance: testInstance, Loan: loanRef(r, l)}); err != nil || e.sim.CallsTo(odlsim.EndpointReturn) != puts {
		t.Errorf("return sent again: %v, %d PUTs", err, e.sim.CallsTo(odlsim.EndpointReturn)-puts)
	}

	// return/already from the PUT itself (the LSD said active just before).
	r2, l2 := e.lend(t, "ln_2", odlsim.ISBNAvailable)
	e.sim.SetFaults(odlsim.Faults{Endpoints: []odlsim.Endpoint{odlsim.EndpointReturn}, Times: 1, Status: 403, Problem: odlsim.TypeReturnAlready})
	if _, err := e.p.Return(ctx, sdk.ReturnRequest{Instance: testInstance, Loan: loanRef(r2, l2)}); err != nil {
		t.Errorf("return/already: %v", err)
	}

	nr, nl := e.lend(t, "ln_keep", odlsim.ISBNNoReturn)
	_, err = e.p.Return(ctx, sdk.ReturnRequest{Instance: testInstance, Loan: loanRef(nr, nl)})
	wantError(t, err, sdk.CodeUnsupportedOperation, "")

	xr, xl := e.lend(t, "ln_exp", odlsim.ISBNAvailable)
	e.clock.Advance(15 * 24 * time.Hour)
	_, err = e.p.Return(ctx, sdk.ReturnRequest{Instance: testInstance, Loan: loanRef(xr, xl)})
	wantError(t, err, sdk.CodeLoanNotFound, "expired")

	// A ready loan returned is cancelled: returned for the library.
	rd := newEnv(t, odlsim.WithReadyLoans())
	rr, rl := rd.lend(t, "ln_ready", odlsim.ISBNAvailable)
	if _, err := rd.p.Return(ctx, sdk.ReturnRequest{Instance: testInstance, Loan: loanRef(rr, rl)}); err != nil || !rd.sim.Returned("ln_ready") {
		t.Errorf("return of a ready loan: %v", err)
	}
}

// TestResolve: a checkout whose answer was lost is found placed, through
// the licence it went to, the active lists or a repeated POST; a checkout
// that never reached the distributor is placed by the repeat; none that
// every licence refuses is not placed.
func TestResolve(t *testing.T) {
	ctx := context.Background()
	resolve := func(e *env, loanID, item string) (sdk.Resolution, error) {
		return e.p.Resolve(ctx, sdk.ResolveRequest{Instance: testInstance, Days: 14, NotifyURL: testNotify,
			Loan: sdk.LoanRef{ID: loanID, Item: item, Patron: testPatron}})
	}
	e := newEnv(t)
	e.sim.SetFaults(odlsim.Faults{Endpoints: []odlsim.Endpoint{odlsim.EndpointCheckout}, Times: 1, BadGatewayAfter: true})
	_, err := e.p.Checkout(ctx, e.checkout("ln_lost", odlsim.ISBNOneCopy))
	wantError(t, err, sdk.CodeProviderError, "HTTP 502")
	res, err := resolve(e, "ln_lost", odlsim.ISBNOneCopy)
	sl, _ := e.sim.Loan("ln_lost")
	if err != nil || !res.Placed || res.Loan.ProviderRef[refLSDID] != sl.ID || e.sim.LoansOf("ln_lost") != 1 {
		t.Fatalf("resolve of a lost answer: %v %+v", err, res)
	}

	// A fresh plugin (nothing remembered): the active list names it.
	fresh := newEnv(t)
	fresh.sim.SetFaults(odlsim.Faults{Endpoints: []odlsim.Endpoint{odlsim.EndpointCheckout}, Times: 1, DropAfter: true})
	fresh.p.Checkout(ctx, fresh.checkout("ln_x", odlsim.ISBNOneCopy))
	fresh.configure(t, nil) // a new instance: forgets where ln_x went
	posts := fresh.sim.CallsTo(odlsim.EndpointCheckout)
	res, err = resolve(fresh, "ln_x", odlsim.ISBNOneCopy)
	if err != nil || !res.Placed || fresh.sim.CallsTo(odlsim.EndpointCheckout) != posts {
		t.Errorf("resolve through the active list: %v %+v, %d POSTs", err, res, fresh.sim.CallsTo(odlsim.EndpointCheckout)-posts)
	}

	// Never reached the distributor: the repeat places it, once.
	res, err = resolve(e, "ln_never", odlsim.ISBNAvailable)
	if err != nil || !res.Placed || e.sim.LoansOf("ln_never") != 1 {
		t.Errorf("resolve of a checkout that never arrived: %v %+v", err, res)
	}
	// Every licence refuses: not placed.
	res, err = resolve(e, "ln_refused", odlsim.ISBNExhausted)
	if err != nil || res.Placed {
		t.Errorf("resolve where every licence refuses: %v %+v", err, res)
	}
	// The distributor fails: cannot tell.
	e.sim.SetFaults(odlsim.Faults{Status: 500})
	_, err = resolve(e, "ln_fail", odlsim.ISBNAvailable)
	wantError(t, err, sdk.CodeProviderError, "")
	e.sim.SetFaults(odlsim.Faults{})
}
