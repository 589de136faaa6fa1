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
func (p *provider) Checkout(ctx context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) {
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
	a, err := p.call(ctx, in, r.Patron, sdk.Request{Method: http.MethodPost, Path: "v1/checkouts",
		JSON: checkoutRequest{RecordID: r.Item, FormatID: r.Format}})
	if err != nil {
		return sdk.Loan{}, err
	}
	return p.parseCheckout(a, r.Format)
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
