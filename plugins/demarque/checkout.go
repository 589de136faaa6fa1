package main

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/lendgate/lendgate/sdk"
	"github.com/lendgate/lendgate/sdk/isbn"
)

// Lending parameters (seed demarque-lending.txt).
const (
	paramBorrower     = "borrower_id"
	paramTransaction  = "transaction_id"
	paramExpireAt     = "expire_at"
	paramNotifyURL    = "notify_url"
	paramMedium       = "medium"
	paramLocalisation = "localisation"
	paramDuration     = "duration"
	paramIPAddress    = "ip_address"
)

// Option values the warehouse accepts.
const (
	mediumDownload      = "download"
	mediumStreaming     = "streaming"
	localisationOnSite  = "on-site"
	localisationOffSite = "off-site"
)

// Loan length: the warehouse takes expire_at at most 59 days ahead.
const (
	defaultDays = 21
	maxDays     = 59
	// maxIDLen bounds borrower_id and transaction_id (the seed: < 255 chars).
	maxIDLen = 255
)

// expireAtLayout is ISO 8601 basic format, UTC, as the warehouse takes it.
const expireAtLayout = "20060102T150405"

// ProviderRef keys the host keeps for a loan and hands back to Fulfill.
const (
	refTransaction = "transaction_id"
	refLoanURL     = "loan_url"
	refBorrower    = "borrower_id"
)

// Checkout lends r.Item by POSTing to the publication's loan_url with an
// expiry date; the warehouse answers the reader's access URL.
func (p *provider) Checkout(ctx context.Context, r sdk.CheckoutRequest) (loan sdk.Loan, err error) {
	format := r.Format
	if format == "" {
		format = defaultFormat
	}
	defer func() {
		p.logger().Debug("checkout", "instance", r.Instance, "loan", r.LoanID, "format", format, "outcome", outcome(err))
	}()
	fail := func(e *sdk.Error) (sdk.Loan, error) {
		return sdk.Loan{}, p.inContext(e, "checkout", r.Instance, format)
	}

	in, err := p.instance(r.Instance)
	if err != nil {
		return sdk.Loan{}, err
	}
	if !validFormat(format) {
		return fail(sdk.Errorf(sdk.CodeInvalidRequest, "format %q is not one of epub, pdf, mobi", format))
	}
	if !isbn.Valid(r.Item) {
		return fail(sdk.Errorf(sdk.CodeInvalidRequest, "item %q is not a valid ISBN-13 (check digit; De Marque has one ISBN per format)", r.Item))
	}
	days := r.Days
	if days == 0 {
		days = defaultDays
	}
	if days < 1 || days > maxDays {
		return fail(sdk.Errorf(sdk.CodeInvalidRequest, "days must be 1–%d, got %d", maxDays, r.Days))
	}
	target, err := in.loanURL(r.Options[optLoanURL])
	if err != nil {
		return fail(sdk.AsError(err))
	}
	form, e := lendingForm(r.Patron, r.LoanID, r.Options)
	if e != nil {
		return fail(e)
	}
	// Whole seconds: what the warehouse is told is what the loan says.
	expires := p.now().UTC().Add(time.Duration(days) * 24 * time.Hour).Truncate(time.Second)
	form.Set(paramExpireAt, expires.Format(expireAtLayout))
	if r.NotifyURL != "" {
		form.Set(paramNotifyURL, r.NotifyURL)
	}

	href, e := p.lend(ctx, in, target, form)
	if e != nil {
		return fail(e)
	}
	return sdk.Loan{
		Format:    format,
		ExpiresAt: expires,
		Links:     []sdk.Link{{Format: format, Rel: "content", Href: href}},
		ProviderRef: map[string]string{
			refTransaction: r.LoanID,
			refLoanURL:     r.Options[optLoanURL],
			refBorrower:    r.Patron,
		},
	}, nil
}

// lendingForm builds the parameters common to checkout and regeneration.
func lendingForm(borrower, transaction string, opts map[string]string) (url.Values, *sdk.Error) {
	if borrower == "" || len(borrower) >= maxIDLen {
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "patron must be 1–%d characters", maxIDLen-1)
	}
	if transaction == "" || len(transaction) >= maxIDLen {
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "loan id must be 1–%d characters", maxIDLen-1)
	}
	form := url.Values{paramBorrower: {borrower}, paramTransaction: {transaction}}

	medium, localisation := opts[optMedium], opts[optLocalisation]
	switch medium {
	case "", mediumDownload:
	case mediumStreaming:
		if localisation == "" {
			return nil, sdk.Errorf(sdk.CodeInvalidRequest, "option %q is required with medium streaming (on-site or off-site)", optLocalisation)
		}
	default:
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "option %q must be download or streaming", optMedium)
	}
	switch localisation {
	case "", localisationOnSite, localisationOffSite:
	default:
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "option %q must be on-site or off-site", optLocalisation)
	}
	for param, opt := range map[string]string{
		paramMedium: optMedium, paramLocalisation: optLocalisation,
		paramDuration: optDuration, paramIPAddress: optIPAddress,
	} {
		if v := opts[opt]; v != "" {
			form.Set(param, v)
		}
	}
	return form, nil
}

// lend POSTs form to a loan_url and returns the access URL.
func (p *provider) lend(ctx context.Context, in *instance, target *url.URL, form url.Values) (string, *sdk.Error) {
	a, e := p.call(ctx, in.lending(target), sdk.Request{Method: http.MethodPost, Path: target.EscapedPath(), Form: form})
	if e != nil {
		return "", e
	}
	return decode(a)
}
