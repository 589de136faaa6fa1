package main

import (
	"cmp"
	"context"
	"net/http"

	"github.com/lendgate/lendgate/sdk"
)

// Return ends a loan early for the library: the LSD's return link, PUT
// (LSD 1.0 §3.4), filled with the device name when it is templated. A loan
// already returned (or cancelled) answers the returned loan without a
// call, and so does a return/already answer: a return sent again is
// harmless (Info.DedupesReturn). An expired or revoked loan is
// loan_not_found; an LSD without a return link is unsupported_operation
// for that loan.
func (p *provider) Return(ctx context.Context, r sdk.ReturnRequest) (loan sdk.Loan, err error) {
	defer func() {
		p.logger().Debug("return", "instance", r.Instance, "loan", r.Loan.ID, "outcome", outcome(err))
	}()
	in, err := p.instances.Get(r.Instance)
	if err != nil {
		return sdk.Loan{}, err
	}
	returned := sdk.Loan{Format: r.Loan.Format, ProviderRef: r.Loan.ProviderRef}
	d, _, e := p.loanLSD(ctx, in, r.Loan)
	switch {
	case e != nil:
		return sdk.Loan{}, e
	case d.returned():
		return returned, nil
	case !d.running():
		return sdk.Loan{}, ended(d)
	}
	link, ok := d.apiLink("return")
	if !ok {
		return sdk.Loan{}, sdk.Errorf(sdk.CodeUnsupportedOperation, "the distributor offers no return for this loan; it ends at its expiry")
	}
	target, err := lsdLinkURL(link, map[string]string{"name": returnName})
	if err != nil {
		return sdk.Loan{}, sdk.Errorf(sdk.CodeProviderError, "the loan's return link is not a URI template the plugin can fill").WithOutcome(sdk.OutcomeNotSent)
	}
	after, e := p.lsdCall(ctx, in, target, http.MethodPut)
	switch {
	case e != nil && e.ProviderCode == typeReturnAlready:
		return returned, nil
	case e != nil:
		return sdk.Loan{}, e
	case !after.returned():
		return sdk.Loan{}, sdk.Errorf(sdk.CodeProviderError, "the distributor answered the return with the loan %s", cmp.Or(after.status, "unchanged")).
			WithProviderCode(after.status).WithOutcome(sdk.OutcomeDefinitive)
	}
	return returned, nil
}
