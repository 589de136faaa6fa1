package main

import (
	"net/http"
	"testing"

	"github.com/lendgate/lendgate/plugins/cb/cbsim"
	"github.com/lendgate/lendgate/sdk"
)

func resolveReq(item, loanID, patron string) sdk.ResolveRequest {
	return sdk.ResolveRequest{Instance: "cb-test", Days: 14, Loan: sdk.LoanRef{ID: loanID, Item: item, Patron: patron}}
}

// Resolve places the same order again: EBS-10005 means the first stands, an
// answer means this one is the loan, a refusal of the order means none was
// placed, a failure cannot tell.
func TestResolve(t *testing.T) {
	f := setup(t)
	info, _ := f.p.Describe(f.ctx)
	if !info.DedupesCheckout || !info.Has(sdk.CapResolve) {
		t.Fatalf("Describe %+v, want DedupesCheckout and resolve", info)
	}

	// The first order stands.
	if _, err := f.p.Checkout(f.ctx, checkout(cbsim.EANAvailable, "ln_first", "u1")); err != nil {
		t.Fatal(err)
	}
	res, err := f.p.Resolve(f.ctx, resolveReq(cbsim.EANAvailable, "ln_first", "u1"))
	if err != nil || !res.Placed || len(res.Loan.Links) != 0 || res.Loan.ProviderRef[refOrderReference] != "ln_first" {
		t.Fatalf("Resolve of a placed order = %+v, %v", res, err)
	}
	// The first order never arrived: this one is the loan.
	res, err = f.p.Resolve(f.ctx, resolveReq(cbsim.EANAvailable, "ln_lost", "u2"))
	o, ok := f.sim.Order("ln_lost")
	if err != nil || !res.Placed || !ok || len(res.Loan.Links) != 1 || res.Loan.Links[0].Href != o.URL {
		t.Fatalf("Resolve of an order that never arrived = %+v, %v (order %+v)", res, err, o)
	}
	if n := len(f.sim.Orders()); n != 2 {
		t.Errorf("CB holds %d orders, want 2", n)
	}
	// CB refuses the order: none was placed.
	res, err = f.p.Resolve(f.ctx, resolveReq(cbsim.EANNotDeliverable, "ln_refused", "u3"))
	if err != nil || res.Placed {
		t.Fatalf("Resolve of a refused order = %+v, %v", res, err)
	}
	// CB fails: cannot tell.
	f.sim.SetFaults(cbsim.Faults{Status: http.StatusInternalServerError})
	if _, err := f.p.Resolve(f.ctx, resolveReq(cbsim.EANAvailable, "ln_x", "u4")); sdk.CodeOf(err) != sdk.CodeProviderError {
		t.Errorf("Resolve while CB fails: %v, want provider_error", err)
	}
}
