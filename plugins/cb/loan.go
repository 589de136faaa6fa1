package main

import (
	"context"
	"maps"
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
func (p *Provider) placeOrder(ctx context.Context, inst *instance, req placeOrderRequest) (order, error) {
	a, err := p.post(ctx, inst, opPlaceOrder, req)
	if err != nil {
		return order{}, err
	}
	return p.parseOrder(a, inst.password)
}

// Checkout places an order for r.Item, with the loan id as OrderReference and
// the patron's pseudonym as UserId. Everything CB would refuse is refused
// here first, without a call.
func (p *Provider) Checkout(ctx context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) {
	inst, err := p.instance(r.Instance)
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

	o, err := p.placeOrder(ctx, inst, placeOrderRequest{
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

// Renew places an addition to the loan's first order: same UserId, same
// reading method and protection, a new OrderReference (the renewal id) and
// the extra days as units.
func (p *Provider) Renew(ctx context.Context, r sdk.RenewRequest) (sdk.Loan, error) {
	inst, err := p.instance(r.Instance)
	if err != nil {
		return sdk.Loan{}, err
	}
	first := r.Loan.ProviderRef[refCbOrderReference]
	if first == "" {
		return sdk.Loan{}, sdk.Errorf(sdk.CodeLoanNotFound, "the loan has no CB order to add to")
	}
	opts := map[string]string{
		optReadingMethod: firstNonEmpty(r.Loan.ProviderRef[refReadingMethod], r.Loan.Options[optReadingMethod]),
		optProtection:    firstNonEmpty(r.Loan.ProviderRef[refProtection], r.Loan.Options[optProtection]),
	}
	method, protection, err := readingOptions(opts)
	if err != nil {
		return sdk.Loan{}, err
	}
	if err := firstError(checkDays(r.Days), checkItem(r.Loan.Item), checkReference("renewal id", r.RenewalID), checkPatron(r.Loan.Patron)); err != nil {
		return sdk.Loan{}, err
	}

	o, err := p.placeOrder(ctx, inst, placeOrderRequest{
		EAN:                 r.Loan.Item,
		ReadingMethod:       method,
		Protection:          protection,
		RentalUnit:          "DAG",
		RentalNumberOfUnits: strconv.Itoa(r.Days),
		OrderReference:      r.RenewalID,
		UserID:              r.Loan.Patron,
		CbOrderReference:    first,
	})
	if err != nil {
		return sdk.Loan{}, err
	}
	format := firstNonEmpty(r.Loan.Format, "epub")
	expires := r.Loan.ExpiresAt
	if expires.IsZero() {
		expires = p.now()
	}
	ref := maps.Clone(r.Loan.ProviderRef)
	ref[refCbOrderReference] = first
	ref[refLastOrderReference] = r.RenewalID
	ref[refLastCbOrderRef] = o.CbOrderReference
	if o.URL != "" {
		ref[refURL] = o.URL // else the first order's link stands
	}
	ref[refUserID] = r.Loan.Patron
	ref[refReadingMethod] = method
	ref[refProtection] = protection
	return sdk.Loan{
		Format:      format,
		ExpiresAt:   expires.Add(time.Duration(r.Days) * 24 * time.Hour),
		Links:       contentLinks(format, o.URL),
		ProviderRef: ref,
	}, nil
}

// contentLinks is the loan's one content link, none without a delivery URL.
func contentLinks(format, href string) []sdk.Link {
	if href == "" {
		return nil
	}
	return []sdk.Link{{Format: format, Rel: "content", Href: href}}
}

// Fulfill hands out the delivery URL the order gave: CB has no call that
// regenerates it.
func (p *Provider) Fulfill(ctx context.Context, r sdk.FulfillRequest) (sdk.Fulfillment, error) {
	if _, err := p.instance(r.Instance); err != nil {
		return sdk.Fulfillment{}, err
	}
	href := r.Loan.ProviderRef[refURL]
	if href == "" {
		return sdk.Fulfillment{}, sdk.Errorf(sdk.CodeLoanNotFound, "the loan has no CB delivery URL")
	}
	format := firstNonEmpty(r.Loan.Format, "epub")
	if r.Format != "" && r.Format != format {
		return sdk.Fulfillment{}, sdk.Errorf(sdk.CodeNotAvailable, "the loan was lent as %s, not %s", format, r.Format)
	}
	return sdk.Fulfillment{Links: []sdk.Link{{Format: format, Rel: "content", Href: href}}}, nil
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

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
