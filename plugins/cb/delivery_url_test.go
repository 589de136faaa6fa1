package main

import (
	"testing"

	"github.com/lendgate/lendgate/plugins/cb/cbsim"
	"github.com/lendgate/lendgate/sdk"
)

// TestUnusableDeliveryURLKeepsTheOrder: CB placed the order and gave its
// reference, but its delivery URL is not an http(s) URL. Answering an error
// would invite the ILS to order again; the loan is kept without a link, and
// fulfillment says there is none.
func TestUnusableDeliveryURLKeepsTheOrder(t *testing.T) {
	for _, base := range []string{"javascript:alert(document.cookie)//", "data:text/html,<b>x</b>#"} {
		f := setup(t, cbsim.WithDeliveryBaseURL(base))
		l, err := f.p.Checkout(f.ctx, checkout(cbsim.EANAvailable, "ln-url-1", "p1"))
		if err != nil {
			t.Fatalf("%s: checkout answered %v; the order stands, want the loan", base, err)
		}
		if len(l.Links) != 0 {
			t.Errorf("%s: links %+v, want none", base, l.Links)
		}
		if l.ProviderRef[refCbOrderReference] == "" {
			t.Errorf("%s: the loan lost CB's order reference: %v", base, l.ProviderRef)
		}
		_, err = f.p.Fulfill(f.ctx, sdk.FulfillRequest{Instance: "cb-test", Loan: sdk.LoanRef{ID: "ln-url-1", ProviderRef: l.ProviderRef}})
		wantCode(t, err, sdk.CodeLoanNotFound, "")
	}
}
