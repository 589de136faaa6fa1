package main

import (
	"context"
	"net/http"

	"github.com/lendgate/lendgate/sdk"
)

// maxID bounds record, checkout and format ids and patron pseudonyms: eHUB
// documents no limit, and nothing real comes near this.
const maxID = 200

// checkoutRequest is the body of POST /v1/checkouts.
type checkoutRequest struct {
	RecordID string `json:"recordId"`
	FormatID string `json:"formatId,omitempty"`
}

// Checkout lends r.Item (an eHUB record id) to r.Patron: POST /v1/checkouts.
func (p *Provider) Checkout(ctx context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) {
	in, err := p.instance(r.Instance)
	if err != nil {
		return sdk.Loan{}, err
	}
	if err := validID("item", r.Item); err != nil {
		return sdk.Loan{}, err
	}
	if err := validID("patron", r.Patron); err != nil {
		return sdk.Loan{}, err
	}
	if r.Format != "" {
		if err := validID("format", r.Format); err != nil {
			return sdk.Loan{}, err
		}
	}
	rep, err := in.call(ctx, http.MethodPost, []string{"v1", "checkouts"}, r.Patron,
		checkoutRequest{RecordID: r.Item, FormatID: r.Format})
	if err != nil {
		return sdk.Loan{}, err
	}
	loan, err := p.parseCheckout(rep, r.Format)
	if err != nil {
		return sdk.Loan{}, in.scrub(sdk.AsError(err))
	}
	return loan, nil
}

// Fulfill returns the loan's links afresh: GET /v1/checkouts/{id} (assumed;
// the seed documents only the checkout), filtered to r.Format when given.
func (p *Provider) Fulfill(ctx context.Context, r sdk.FulfillRequest) (sdk.Fulfillment, error) {
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
	rep, err := in.call(ctx, http.MethodGet, checkoutPath(id), r.Loan.Patron, nil)
	if err != nil {
		return sdk.Fulfillment{}, err
	}
	a, err := decodeAnswer(rep, p.now())
	if err != nil {
		return sdk.Fulfillment{}, in.scrub(sdk.AsError(err))
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

// validID checks an id before it goes into a body, path or header: present,
// bounded, and free of control characters that would break a header or a
// log line.
func validID(what, v string) error {
	switch {
	case v == "":
		return sdk.Errorf(sdk.CodeInvalidRequest, "%s is required", what)
	case len(v) > maxID:
		return sdk.Errorf(sdk.CodeInvalidRequest, "%s is longer than %d characters", what, maxID)
	case hasControl(v):
		return sdk.Errorf(sdk.CodeInvalidRequest, "%s contains control characters", what)
	}
	return nil
}
