package main

import (
	"cmp"
	"context"
	"net/url"

	"github.com/lendgate/lendgate/sdk"
)

// Fulfill reads the loan's License Status Document afresh and answers what
// a patron's app opens: the LCP licence (rel content, its media type), the
// publication where the LSD links it, and a manifest (rel manifest) for
// audiobooks. A loan the LSD no longer shows as ready or active (returned,
// expired, revoked) is loan_not_found, its status as provider_code.
func (p *provider) Fulfill(ctx context.Context, r sdk.FulfillRequest) (f sdk.Fulfillment, err error) {
	defer func() {
		p.logger().Debug("fulfill", "instance", r.Instance, "loan", r.Loan.ID, "links", len(f.Links), "outcome", outcome(err))
	}()
	in, err := p.instances.Get(r.Instance)
	if err != nil {
		return sdk.Fulfillment{}, err
	}
	format := cmp.Or(r.Loan.Format, r.Format)
	if r.Format != "" && r.Format != format {
		// An ODL loan is one licence, in one format.
		return sdk.Fulfillment{}, sdk.Errorf(sdk.CodeNotAvailable, "the loan is for %s, not %s", format, r.Format)
	}
	d, _, e := p.loanLSD(ctx, in, r.Loan)
	if e != nil {
		return sdk.Fulfillment{}, e
	}
	if !d.running() {
		return sdk.Fulfillment{}, ended(d)
	}
	links := d.accessLinks(format)
	if len(links) == 0 {
		return sdk.Fulfillment{}, sdk.Errorf(sdk.CodeProviderError, "the loan's License Status Document links neither a licence nor a publication")
	}
	return sdk.Fulfillment{Links: links}, nil
}

// loanLSD reads the LSD of a loan the plugin made (its refLSD).
func (p *provider) loanLSD(ctx context.Context, in *instance, l sdk.LoanRef) (*lsd, *url.URL, *sdk.Error) {
	raw := l.ProviderRef[refLSD]
	if raw == "" {
		return nil, nil, sdk.Errorf(sdk.CodeLoanNotFound, "loan %s has no License Status Document reference", l.ID)
	}
	u, ok := in.link(raw, nil)
	if !ok {
		return nil, nil, sdk.Errorf(sdk.CodeProviderError, "loan %s: its License Status Document reference is not a URL the instance may call", l.ID).WithOutcome(sdk.OutcomeNotSent)
	}
	d, e := p.readLSD(ctx, in, u)
	if e != nil {
		return nil, nil, e
	}
	return d, u, nil
}

// ended is the error about a loan that is no longer running.
func ended(d *lsd) *sdk.Error {
	return sdk.Errorf(sdk.CodeLoanNotFound, "the distributor holds the loan as %s", d.status).WithProviderCode(d.status)
}
