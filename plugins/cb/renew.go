package main

import (
	"cmp"
	"context"
	"maps"
	"strconv"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Renew places an addition to the loan's first order: same UserId, same
// reading method and protection, a new OrderReference (the renewal id) and
// the extra days as units.
func (p *provider) Renew(ctx context.Context, r sdk.RenewRequest) (sdk.Loan, error) {
	in, err := p.instance(r.Instance)
	if err != nil {
		return sdk.Loan{}, err
	}
	first := r.Loan.ProviderRef[refCbOrderReference]
	if first == "" {
		return sdk.Loan{}, sdk.Errorf(sdk.CodeLoanNotFound, "the loan has no CB order to add to")
	}
	opts := map[string]string{
		optReadingMethod: cmp.Or(r.Loan.ProviderRef[refReadingMethod], r.Loan.Options[optReadingMethod]),
		optProtection:    cmp.Or(r.Loan.ProviderRef[refProtection], r.Loan.Options[optProtection]),
	}
	method, protection, err := readingOptions(opts)
	if err != nil {
		return sdk.Loan{}, err
	}
	if err := firstError(checkDays(r.Days), checkItem(r.Loan.Item), checkReference("renewal id", r.RenewalID), checkPatron(r.Loan.Patron)); err != nil {
		return sdk.Loan{}, err
	}

	o, err := p.placeOrder(ctx, in, placeOrderRequest{
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
	format := cmp.Or(r.Loan.Format, "epub")
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
