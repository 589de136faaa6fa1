package main

import (
	"context"
	"net/http"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Renew extends a loan through the LSD's renew link, PUT with end = the
// loan's end plus r.Days (LSD 1.0 §3.5); an untemplated link is PUT as it
// is and the distributor picks the extension. The loan's end before and
// after is its LCP licence's rights.end (the host's expiry when the
// licence cannot be read before): a renewal the distributor answers 200
// without moving the end (past potential_rights.end, as servers do) is
// not_available. A renew link that is a text/html page for people, or
// none, is unsupported_operation for that loan.
func (p *provider) Renew(ctx context.Context, r sdk.RenewRequest) (loan sdk.Loan, err error) {
	defer func() {
		p.logger().Debug("renew", "instance", r.Instance, "loan", r.Loan.ID, "days", r.Days, "outcome", outcome(err))
	}()
	in, err := p.instances.Get(r.Instance)
	if err != nil {
		return sdk.Loan{}, err
	}
	if r.Days < 1 || r.Days > maxDays {
		return sdk.Loan{}, sdk.Errorf(sdk.CodeInvalidRequest, "days must be 1–%d, got %d", maxDays, r.Days)
	}
	d, _, e := p.loanLSD(ctx, in, r.Loan)
	switch {
	case e != nil:
		return sdk.Loan{}, e
	case !d.running():
		return sdk.Loan{}, ended(d)
	}
	link, ok := d.apiLink("renew")
	if !ok {
		return sdk.Loan{}, sdk.Errorf(sdk.CodeUnsupportedOperation, "the distributor offers no renewal of this loan to programs (a page for people at most)")
	}
	before := r.Loan.ExpiresAt.UTC()
	if end, _, e := p.readLicence(ctx, in, d); e == nil && !end.IsZero() {
		before = end
	}
	if before.IsZero() {
		before = p.now().UTC()
	}
	asked := before.Add(time.Duration(r.Days) * 24 * time.Hour).Truncate(time.Second)
	target, err := lsdLinkURL(link, map[string]string{"end": asked.Format(expiresLayout), "name": returnName})
	if err != nil {
		return sdk.Loan{}, sdk.Errorf(sdk.CodeProviderError, "the loan's renew link is not a URI template the plugin can fill").WithOutcome(sdk.OutcomeNotSent)
	}
	after, e := p.lsdCall(ctx, in, target, http.MethodPut)
	if e != nil {
		return sdk.Loan{}, e
	}
	end, extended := p.renewedEnd(ctx, in, d, after, before, asked, link.templated())
	if !extended {
		limit := ""
		if !after.potentialEnd.IsZero() {
			limit = " (its latest end is " + after.potentialEnd.Format(expiresLayout) + ")"
		}
		return sdk.Loan{}, sdk.Errorf(sdk.CodeNotAvailable, "the distributor did not extend the loan%s", limit).WithOutcome(sdk.OutcomeDefinitive)
	}
	format := r.Loan.Format
	return sdk.Loan{Format: format, ExpiresAt: end, Links: after.accessLinks(format), ProviderRef: r.Loan.ProviderRef}, nil
}

// renewedEnd is the loan's end after a renewal answered 200, and whether
// it moved past before: its LCP licence's rights.end; when that cannot be
// read, whether the LSD says the licence was updated (then the end asked,
// or for an untemplated link an end the plugin cannot know: zero, the
// host keeps its own).
func (p *provider) renewedEnd(ctx context.Context, in *instance, d, after *lsd, before, asked time.Time, templated bool) (time.Time, bool) {
	if end, _, e := p.readLicence(ctx, in, after); e == nil && !end.IsZero() {
		return end, end.After(before)
	}
	moved := after.updatedLicense.After(d.updatedLicense)
	switch {
	case !moved:
		return time.Time{}, false
	case templated:
		return asked, true
	}
	return time.Time{}, true
}
