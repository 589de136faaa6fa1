package main

import (
	"context"
	"errors"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Resolve settles a checkout whose answer the host never got by placing the
// same order again: the OrderReference is the loan id, which CB never lets
// two orders share. So
//
//   - an answer means the first order never arrived and this one is the
//     loan (placed, with the new order's data and delivery URL);
//   - EBS-10005 means the first order stands (placed). CB does not repeat
//     its answer, so the loan carries no delivery URL and no
//     CbOrderReference: fulfillment answers loan_not_found and renewal is
//     refused until the library looks the order up in CB's portal;
//   - a refusal of the order itself (notPlaced) means CB holds no order
//     under that reference, so none was placed;
//   - anything else (5xx, timeout, a pause, our credentials) cannot tell:
//     the error goes back and the host asks again later.
func (p *provider) Resolve(ctx context.Context, r sdk.ResolveRequest) (sdk.Resolution, error) {
	loan, err := p.Checkout(ctx, sdk.CheckoutRequest{Instance: r.Instance, LoanID: r.Loan.ID, Item: r.Loan.Item,
		Patron: r.Loan.Patron, PatronName: r.Loan.PatronName, Format: r.Loan.Format, Days: r.Days, Options: r.Loan.Options})
	if err == nil {
		return sdk.Resolution{Placed: true, Loan: loan}, nil
	}
	var e *sdk.Error
	if !errors.As(err, &e) {
		return sdk.Resolution{}, err
	}
	switch {
	case e.ProviderCode == ebsDuplicate:
		format, _ := checkFormat(r.Loan.Format)
		method, protection, _ := readingOptions(r.Loan.Options)
		var expires time.Time // unknown: the host counts the days from when it journaled the loan
		return sdk.Resolution{Placed: true, Loan: sdk.Loan{Format: format, ExpiresAt: expires, ProviderRef: map[string]string{
			refOrderReference: r.Loan.ID,
			refUserID:         r.Loan.Patron,
			refReadingMethod:  method,
			refProtection:     protection,
		}}}, nil
	case notPlaced[e.Code]:
		return sdk.Resolution{Placed: false}, nil
	}
	return sdk.Resolution{}, err
}

// notPlaced are the refusals of an order itself: CB checks the
// OrderReference's uniqueness before the title, and a refused field was
// refused the first time too. Anything else (our credentials, a failure, a
// pause) says nothing of the first order.
var notPlaced = map[sdk.Code]bool{
	sdk.CodeInvalidRequest: true, sdk.CodeItemNotFound: true, sdk.CodeNotAvailable: true, sdk.CodeLimitReached: true,
	sdk.CodeUnsupportedCombination: true, sdk.CodePatronRejected: true, sdk.CodeAlreadyOnLoan: true,
}

var _ sdk.Resolver = (*provider)(nil)
