package main

import (
	"cmp"
	"context"

	"github.com/lendgate/lendgate/sdk"
)

// Fulfill regenerates a loan's access link: the same POST to loan_url with
// the same borrower_id and transaction_id and no expire_at (the seed's
// recipe for a reader who lost the file).
func (p *provider) Fulfill(ctx context.Context, r sdk.FulfillRequest) (f sdk.Fulfillment, err error) {
	format := r.Loan.Format
	if format == "" {
		format = r.Format
	}
	if format == "" {
		format = defaultFormat
	}
	defer func() {
		p.logger().Debug("fulfill", "instance", r.Instance, "loan", r.Loan.ID, "format", format, "outcome", outcome(err))
	}()
	fail := func(e *sdk.Error) (sdk.Fulfillment, error) {
		return sdk.Fulfillment{}, p.inContext(e, "fulfillment", r.Instance, format)
	}

	in, err := p.instance(r.Instance)
	if err != nil {
		return sdk.Fulfillment{}, err
	}
	if r.Format != "" && r.Format != format {
		// One ISBN per format: a loan of the epub is not a loan of the pdf.
		return fail(sdk.Errorf(sdk.CodeInvalidRequest, "the loan is for %s, not %s (De Marque has one ISBN per format)", format, r.Format))
	}
	href, e := p.regenerate(ctx, in, r.Loan)
	if e != nil {
		return fail(e)
	}
	return sdk.Fulfillment{Links: []sdk.Link{{Format: format, Rel: "content", Href: href}}}, nil
}

// regenerate asks the warehouse again for an existing loan's link: the
// loan_url POSTed with the checkout's borrower_id and transaction_id and no
// expire_at, which never creates a loan.
func (p *provider) regenerate(ctx context.Context, in *instance, l sdk.LoanRef) (string, *sdk.Error) {
	target, err := in.loanURL(loanURLOf(l))
	if err != nil {
		return "", sdk.AsError(err)
	}
	form, e := lendingForm(borrowerOf(l), transactionOf(l), l.Options)
	if e != nil {
		return "", e
	}
	return p.lend(ctx, in, target, form)
}

// What a checkout sent, from the loan's references (or, for a loan whose
// answer never came, from what the host journaled).
func loanURLOf(l sdk.LoanRef) string {
	return cmp.Or(l.ProviderRef[refLoanURL], l.Options[optLoanURL])
}
func borrowerOf(l sdk.LoanRef) string { return cmp.Or(l.ProviderRef[refBorrower], l.Patron) }
func transactionOf(l sdk.LoanRef) string {
	return cmp.Or(l.ProviderRef[refTransaction], l.ID)
}
