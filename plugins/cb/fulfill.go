package main

import (
	"cmp"
	"context"

	"github.com/lendgate/lendgate/sdk"
)

// Fulfill hands out the delivery URL the order gave: CB has no call that
// regenerates it.
func (p *provider) Fulfill(ctx context.Context, r sdk.FulfillRequest) (sdk.Fulfillment, error) {
	if _, err := p.instance(r.Instance); err != nil {
		return sdk.Fulfillment{}, err
	}
	href := r.Loan.ProviderRef[refURL]
	if href == "" {
		return sdk.Fulfillment{}, sdk.Errorf(sdk.CodeLoanNotFound, "the loan has no CB delivery URL")
	}
	format := cmp.Or(r.Loan.Format, "epub")
	if r.Format != "" && r.Format != format {
		return sdk.Fulfillment{}, sdk.Errorf(sdk.CodeNotAvailable, "the loan was lent as %s, not %s", format, r.Format)
	}
	return sdk.Fulfillment{Links: []sdk.Link{{Format: format, Rel: "content", Href: href}}}, nil
}
