package main

import (
	"context"
	"strconv"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Keys of a loan's ProviderRef.
const (
	refCbOrderReference   = "cb_order_reference"   // the first order's, for additions
	refOrderReference     = "order_reference"      // our reference of the first order (the loan id)
	refLastOrderReference = "last_order_reference" // our reference of the latest addition
	refLastCbOrderRef     = "last_cb_order_reference"
	refURL                = "url" // the delivery URL
	refUserID             = "user_id"
	refReadingMethod      = "reading_method"
	refProtection         = "protection"
)

// placeOrderRequest is placeOrder's body. CB's examples send the number of
// units as a string.
type placeOrderRequest struct {
	EAN                 string `json:"EAN"`
	ReadingMethod       string `json:"ReadingMethod"`
	Protection          string `json:"Protection"`
	RentalUnit          string `json:"RentalUnit"`
	RentalNumberOfUnits string `json:"RentalNumberOfUnits"`
	OrderReference      string `json:"OrderReference"`
	UserID              string `json:"UserId"`
	CbOrderReference    string `json:"CbOrderReference,omitempty"`
}

// placeOrder sends an order and parses the answer.
func (p *provider) placeOrder(ctx context.Context, in *instance, req placeOrderRequest) (order, error) {
	a, err := p.call(ctx, in, opPlaceOrder, req)
	if err != nil {
		return order{}, err
	}
	return p.parseOrder(in, a)
}

// Checkout places an order for r.Item, with the loan id as OrderReference and
// the patron's pseudonym as UserId. Everything CB would refuse is refused
// here first, without a call.
func (p *provider) Checkout(ctx context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) {
	in, err := p.instance(r.Instance)
	if err != nil {
		return sdk.Loan{}, err
	}
	days := r.Days
	if days == 0 {
		days = defaultDays
	}
	format, err := checkFormat(r.Format)
	if err != nil {
		return sdk.Loan{}, err
	}
	method, protection, err := readingOptions(r.Options)
	if err != nil {
		return sdk.Loan{}, err
	}
	if err := firstError(checkDays(days), checkItem(r.Item), checkReference("loan id", r.LoanID), checkPatron(r.Patron)); err != nil {
		return sdk.Loan{}, err
	}

	o, err := p.placeOrder(ctx, in, placeOrderRequest{
		EAN:                 r.Item,
		ReadingMethod:       method,
		Protection:          protection,
		RentalUnit:          "DAG",
		RentalNumberOfUnits: strconv.Itoa(days),
		OrderReference:      r.LoanID,
		UserID:              r.Patron,
	})
	if err != nil {
		return sdk.Loan{}, err
	}
	return sdk.Loan{
		Format:    format,
		ExpiresAt: p.now().Add(time.Duration(days) * 24 * time.Hour),
		Links:     contentLinks(format, o.URL),
		ProviderRef: map[string]string{
			refCbOrderReference: o.CbOrderReference,
			refOrderReference:   r.LoanID,
			refURL:              o.URL,
			refUserID:           r.Patron,
			refReadingMethod:    method,
			refProtection:       protection,
		},
	}, nil
}

// contentLinks is the loan's one content link, none without a delivery URL.
func contentLinks(format, href string) []sdk.Link {
	if href == "" {
		return nil
	}
	return []sdk.Link{{Format: format, Rel: "content", Href: href}}
}

// checkPatron refuses an empty UserId, which CB requires.
func checkPatron(patron string) error {
	if patron == "" {
		return sdk.Errorf(sdk.CodeInvalidRequest, "patron is required (CB's UserId)")
	}
	return nil
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
