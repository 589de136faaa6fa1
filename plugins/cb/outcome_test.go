package main

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/lendgate/lendgate/plugins/cb/cbsim"
	"github.com/lendgate/lendgate/sdk"
	"github.com/lendgate/lendgate/sdk/sdktest/lostanswer"
)

// An order or addition whose answer CB lost after placing it is a
// provider_error of unknown outcome, never a refusal: the host keeps the
// loan and re-sends under the same OrderReference.
func TestLostAnswersAreUnknown(t *testing.T) {
	f := setup(t)
	for i, m := range lostanswer.Modes {
		t.Run(m.String(), func(t *testing.T) {
			f.sim.SetFaults(cbsim.Faults{LoseAnswer: m})
			defer f.sim.SetFaults(cbsim.Faults{})
			id := fmt.Sprintf("loan-lost-%d", i)
			_, err := f.p.Checkout(f.ctx, checkout(cbsim.EANAvailable, id, "p1"))
			if sdk.CodeOf(err) != sdk.CodeProviderError || sdk.OutcomeOf(err) != sdk.OutcomeUnknown {
				t.Errorf("checkout: %v (outcome %s), want provider_error of unknown outcome", err, sdk.OutcomeOf(err))
			}
			first, ok := f.sim.Order(id)
			if !ok {
				t.Fatalf("CB placed no order %s", id)
			}
			_, err = f.p.Renew(f.ctx, sdk.RenewRequest{Instance: "cb-test", Days: 7, RenewalID: id + "-r",
				Loan: sdk.LoanRef{ID: id, Item: cbsim.EANAvailable, Patron: "p1", ProviderRef: map[string]string{refCbOrderReference: first.CbOrderReference}}})
			if sdk.CodeOf(err) != sdk.CodeProviderError || sdk.OutcomeOf(err) != sdk.OutcomeUnknown {
				t.Errorf("renewal: %v (outcome %s), want provider_error of unknown outcome", err, sdk.OutcomeOf(err))
			}
			if _, ok := f.sim.Order(id + "-r"); !ok {
				t.Errorf("CB placed no addition")
			}
		})
	}
}

// What CB answered and the plugin understood is definitive, EBS-00001's
// HTTP 500 included; a 200 that lacks its CbOrderReference is not.
func TestOutcomesOfCBAnswers(t *testing.T) {
	f := setup(t)
	_, err := f.p.Checkout(f.ctx, checkout(cbsim.EANFailure, "loan-failure", "p1"))
	if e := wantCode(t, err, sdk.CodeProviderError, "EBS-00001"); e.Outcome != sdk.OutcomeDefinitive {
		t.Errorf("EBS-00001 (HTTP 500): outcome %s, want definitive", e.Outcome)
	}
	_, err = f.p.Checkout(f.ctx, checkout(cbsim.EANNotDeliverable, "loan-nd", "p1"))
	if e := wantCode(t, err, sdk.CodeNotAvailable, "EBS-10004"); e.Outcome != sdk.OutcomeDefinitive {
		t.Errorf("EBS-10004 (HTTP 200): outcome %s, want definitive", e.Outcome)
	}
	p, _ := newTestProvider()
	_, err = cannedOrder(p, http.StatusOK, nil, []byte(`{"placeOrder":{"EAN":"9789084999813","URL":"https://x.example/d"}}`))
	if sdk.CodeOf(err) != sdk.CodeProviderError || sdk.OutcomeOf(err) != sdk.OutcomeUnknown {
		t.Errorf("an order answer without CbOrderReference: %v (outcome %s), want unknown", err, sdk.OutcomeOf(err))
	}
	info, _ := p.Describe(f.ctx)
	if !info.DedupesCheckout || !info.DedupesRenew || info.DedupesReturn {
		t.Errorf("Describe declares dedupes checkout %v, renew %v, return %v; want CB's OrderReference for the first two only",
			info.DedupesCheckout, info.DedupesRenew, info.DedupesReturn)
	}
}
