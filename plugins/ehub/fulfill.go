package main

import (
	"context"
	"net/http"

	"github.com/lendgate/lendgate/sdk"
)

// Fulfill returns the loan's links afresh: GET /v1/checkouts/{id} (assumed;
// the seed documents only the checkout), filtered to r.Format when given.
func (p *provider) Fulfill(ctx context.Context, r sdk.FulfillRequest) (sdk.Fulfillment, error) {
	in, err := p.instance(r.Instance)
	if err != nil {
		return sdk.Fulfillment{}, err
	}
	id := r.Loan.ProviderRef["checkout_id"]
	if id == "" {
		return sdk.Fulfillment{}, sdk.Errorf(sdk.CodeInvalidRequest, "the loan has no eHUB checkout id (provider_ref checkout_id)")
	}
	if err := validID("checkout id", id); err != nil {
		return sdk.Fulfillment{}, err
	}
	if id == "." || id == ".." {
		return sdk.Fulfillment{}, sdk.Errorf(sdk.CodeInvalidRequest, "checkout id %q is not an id", id)
	}
	if err := validID("patron", r.Loan.Patron); err != nil {
		return sdk.Fulfillment{}, err
	}
	ans, err := p.call(ctx, in, r.Loan.Patron, sdk.Request{Method: http.MethodGet, Path: checkoutPath(id)})
	if err != nil {
		return sdk.Fulfillment{}, err
	}
	a, err := decode(ans)
	if err != nil {
		return sdk.Fulfillment{}, err
	}
	names := a.formats()
	if r.Format != "" {
		if _, ok := a.FormatMetadata[r.Format]; !ok {
			return sdk.Fulfillment{}, sdk.Errorf(sdk.CodeNotAvailable, "format %q is not in this loan", r.Format)
		}
		names = []string{r.Format}
	}
	return sdk.Fulfillment{Links: p.links(a, names)}, nil
}
