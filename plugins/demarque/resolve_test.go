package main

import (
	"context"
	"net/http"
	"testing"

	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
	"github.com/lendgate/lendgate/sdk"
)

// A loan the warehouse made is placed, with a fresh link; one it never made
// is not; a warehouse failure cannot tell. Asking creates nothing.
func TestResolve(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.checkout("ln_placed")
	if _, err := e.p.Checkout(ctx, r); err != nil {
		t.Fatal(err)
	}
	ref := sdk.LoanRef{ID: r.LoanID, Item: r.Item, Patron: r.Patron, Format: "epub", Options: r.Options}
	res, err := e.p.Resolve(ctx, sdk.ResolveRequest{Instance: testInstance, Loan: ref, Days: 21})
	if err != nil || !res.Placed || len(res.Loan.Links) != 1 || res.Loan.ProviderRef[refTransaction] != "ln_placed" {
		t.Fatalf("Resolve of a made loan = %+v, %v", res, err)
	}
	if l, _ := e.sim.Loan("ln_placed"); l.Regenerations != 1 {
		t.Errorf("the warehouse saw %d regenerations, want 1", l.Regenerations)
	}

	never := ref
	never.ID = "ln_never"
	res, err = e.p.Resolve(ctx, sdk.ResolveRequest{Instance: testInstance, Loan: never, Days: 21})
	if err != nil || res.Placed {
		t.Fatalf("Resolve of a loan never made = %+v, %v", res, err)
	}
	if len(e.sim.Loans()) != 1 {
		t.Errorf("resolving created a loan: %+v", e.sim.Loans())
	}

	e.sim.SetFaults(demarquesim.Faults{Status: http.StatusInternalServerError})
	if _, err := e.p.Resolve(ctx, sdk.ResolveRequest{Instance: testInstance, Loan: ref}); sdk.CodeOf(err) != sdk.CodeProviderError {
		t.Errorf("Resolve while the warehouse fails: %v, want provider_error", err)
	}
}

// The warehouse keys a loan by transaction_id: the same checkout sent again
// makes no second loan (what DedupesCheckout declares).
func TestCheckoutSentTwiceMakesOneLoan(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	info, _ := e.p.Describe(ctx)
	if !info.DedupesCheckout || !info.Has(sdk.CapResolve) {
		t.Fatalf("Describe %+v, want DedupesCheckout and resolve", info)
	}
	for range 2 {
		if _, err := e.p.Checkout(ctx, e.checkout("ln_twice")); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.sim.Loans()); n != 1 {
		t.Errorf("the warehouse holds %d loans, want 1", n)
	}
}
