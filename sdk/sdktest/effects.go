package sdktest

import (
	"fmt"
	"testing"

	"github.com/lendgate/lendgate/sdk"
)

// Effects are the author's questions to its simulator, one per operation
// that changes something at the distributor. Each hook is called right
// after the kit's call of that operation succeeded and answers whether the
// simulator recorded its effect. A stub that answers success without
// reaching the distributor (a "return" that returns nil) fails the kit
// here, and only here.
//
//	Effects: sdktest.Effects{
//		Checkout: func(r sdk.CheckoutRequest, l sdk.Loan) bool { return sim.HasLoan(l.ProviderRef["acme_loan_id"]) },
//		Return:   func(l sdk.LoanRef) bool { return sim.Returned(l.ProviderRef["acme_loan_id"]) },
//	}
type Effects struct {
	// Checkout: did the simulator record the loan the plugin answered?
	Checkout func(r sdk.CheckoutRequest, loan sdk.Loan) bool
	// Renew: did the simulator extend the loan?
	Renew func(loan sdk.LoanRef, renewed sdk.Loan) bool
	// Return: did the simulator record the loan's return?
	Return func(loan sdk.LoanRef) bool
	// Download: did the simulator record the sale the link is for?
	Download func(r sdk.DownloadRequest, f sdk.Fulfillment) bool

	// Checkouts: how many loans does the simulator hold that were ordered
	// under the host's loan id (CheckoutRequest.LoanID, which the plugin
	// sends as its order reference)? Required when the plugin declares
	// Info.DedupesCheckout: the kit sends one loan id twice and wants one
	// loan. With it, the kit also checks that a checkout whose answer was
	// lost after the simulator acted left one loan, and that a resend (or
	// Resolve) finds it rather than ordering again.
	Checkouts func(loanID string) int
	// Renewals: how many times did the simulator extend loan under
	// renewalID (RenewRequest.RenewalID)? Required when the plugin declares
	// Info.DedupesRenew: the kit sends one renewal id twice and wants one
	// extension.
	Renewals func(loan sdk.LoanRef, renewalID string) int
}

// any reports whether the author set at least one hook.
func (e Effects) any() bool {
	return e.Checkout != nil || e.Renew != nil || e.Return != nil || e.Download != nil || e.Checkouts != nil || e.Renewals != nil
}

// effectful are the capabilities whose operation changes something at the
// distributor, with the name of their hook.
var effectful = []struct {
	c    sdk.Capability
	hook string
}{{sdk.CapCheckout, "Checkout"}, {sdk.CapRenew, "Renew"}, {sdk.CapReturn, "Return"}, {sdk.CapDownload, "Download"}}

// checkEffect asks hook (named name) whether the operation c reached the
// distributor. hook nil: an error when the author set other hooks (a
// declared operation left unchecked), else nothing (see checkEffects).
func (k *kit) checkEffect(t *testing.T, c sdk.Capability, name string, hook func() bool, set bool) {
	t.Helper()
	if !set {
		if k.c.Effects.any() {
			t.Errorf("the plugin declares %s, but Config.Effects.%s is not set: give the kit a hook that asks the simulator whether the %s reached it", c, name, c)
		}
		return
	}
	var ok bool
	if !k.bound(t, "Config.Effects."+name, func() { ok = hook() }) {
		return
	}
	if !ok {
		t.Errorf("%s answered success, but Config.Effects.%s says the simulator recorded nothing: a declared %s must reach the distributor "+
			"(an operation stubbed to answer success fails here; leave it out of Describe until it is written, and sdk.Unimplemented answers unsupported_operation)",
			c, name, c)
	}
}

// checkEffects reports, as a skip, the declared operations whose effects
// the kit could not check because Config.Effects is empty.
func (k *kit) checkEffects(t *testing.T) {
	var unchecked []sdk.Capability
	for _, e := range effectful {
		if k.info.Has(e.c) {
			unchecked = append(unchecked, e.c)
		}
	}
	switch {
	case len(unchecked) == 0:
		t.Skip("the plugin declares no operation with an effect at the distributor")
	case !k.c.Effects.any():
		t.Skip(fmt.Sprintf("Config.Effects is not set: the kit cannot tell %v from stubs that answer success without reaching the distributor; set one hook per operation", unchecked))
	}
}
