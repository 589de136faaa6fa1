package main

import (
	"cmp"
	"context"

	"github.com/lendgate/lendgate/sdk"
)

// Resolve finds out whether a checkout whose answer the host never got
// placed the loan: the same regeneration as Fulfill (the loan_url POSTed
// with the checkout's borrower_id and transaction_id, no expire_at). A link
// back means the warehouse holds the loan; loan_not_found means it holds no
// active loan under that transaction (never placed — or, if the reader
// returned it already, over: the host reads both as "no loan to serve").
// Regeneration never creates a loan, so asking is harmless.
func (p *provider) Resolve(ctx context.Context, r sdk.ResolveRequest) (res sdk.Resolution, err error) {
	format := cmp.Or(r.Loan.Format, defaultFormat)
	defer func() {
		p.logger().Debug("resolve", "instance", r.Instance, "loan", r.Loan.ID, "placed", res.Placed, "outcome", outcome(err))
	}()
	fail := func(e *sdk.Error) (sdk.Resolution, error) {
		return sdk.Resolution{}, p.inContext(e, "resolve", r.Instance, format)
	}
	in, err := p.instance(r.Instance)
	if err != nil {
		return sdk.Resolution{}, err
	}
	href, e := p.regenerate(ctx, in, r.Loan)
	switch {
	case e != nil && e.Code == sdk.CodeLoanNotFound:
		return sdk.Resolution{Placed: false}, nil
	case e != nil:
		return fail(e)
	}
	// The warehouse does not say when the loan ends: the host counts the
	// checkout's days from when it journaled the loan.
	return sdk.Resolution{Placed: true, Loan: sdk.Loan{
		Format: format,
		Links:  []sdk.Link{{Format: format, Rel: "content", Href: href}},
		ProviderRef: map[string]string{
			refTransaction: transactionOf(r.Loan),
			refLoanURL:     loanURLOf(r.Loan),
			refBorrower:    borrowerOf(r.Loan),
		},
	}}, nil
}

var _ sdk.Resolver = (*provider)(nil)
