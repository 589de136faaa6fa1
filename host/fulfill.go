package host

import (
	"cmp"
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Fulfill returns fresh access links for a loan and a signed redirect URL.
func (h *Host) Fulfill(ctx context.Context, provider, loanID string, r FulfillRequest) (f Fulfillment, err error) {
	start := time.Now()
	defer func() { h.logCall(provider, "fulfill", loanID, start, err) }()
	in, rec, err := h.activeLoan(ctx, provider, loanID, sdk.CapFulfill)
	if err != nil {
		return Fulfillment{}, err
	}
	if err := checkText("format", r.Format, 100); err != nil {
		return Fulfillment{}, err
	}
	links, err := h.fulfill(ctx, in, rec, r.Format)
	if err != nil {
		return Fulfillment{}, err
	}
	f = Fulfillment{Loan: loanID, Links: links}
	if h.publicURL != "" {
		f.Redirect = h.contentURL(provider, loanID, cmp.Or(r.Format, rec.Loan.Format), time.Now().Add(redirectLifetime))
	}
	return f, nil
}

func (h *Host) fulfill(ctx context.Context, in *instance, rec storedLoan, format string) ([]Link, error) {
	var got sdk.Fulfillment
	err := in.do(ctx, func(ctx context.Context, p sdk.Provider) error {
		var err error
		got, err = p.Fulfill(ctx, sdk.FulfillRequest{Instance: in.name, Loan: loanRef(rec), Format: format})
		return err
	})
	return linksFromSDK(got.Links), err
}

// redirectLifetime is how long a redirect URL handed out by Fulfill lives;
// api.md §4 accepts at most 15 minutes.
const (
	redirectLifetime = 10 * time.Minute
	maxRedirectAhead = 15 * time.Minute
)

// contentURL is the signed redirect of a loan's content. Its query is
// what url.Values.Encode writes (keys in order: exp, format, sig), built
// without the map and the sort.
func (h *Host) contentURL(provider, loan, format string, exp time.Time) string {
	e := exp.Unix()
	var b strings.Builder
	b.Grow(len(h.publicURL) + len(provider) + len(loan) + len(format) + 128)
	b.WriteString(h.publicURL)
	b.WriteString("/v1/providers/")
	b.WriteString(url.PathEscape(provider))
	b.WriteString("/loans/")
	b.WriteString(url.PathEscape(loan))
	b.WriteString("/content?exp=")
	b.WriteString(strconv.FormatInt(e, 10))
	b.WriteString("&format=")
	b.WriteString(url.QueryEscape(format))
	b.WriteString("&sig=")
	b.WriteString(url.QueryEscape(h.keys.contentSig(provider, loan, format, e)))
	return b.String()
}

// ContentLink checks a redirect's signature and expiry and returns a fresh
// link to send the browser to (api.md §4).
func (h *Host) ContentLink(ctx context.Context, provider, loanID, format, exp, sig string) (href string, err error) {
	start := time.Now()
	defer func() { h.logCall(provider, "content", loanID, start, err) }()
	e, perr := strconv.ParseInt(exp, 10, 64)
	if perr != nil || sig == "" {
		return "", sdk.Errorf(sdk.CodeForbidden, "missing or malformed signature")
	}
	if !h.keys.checkContentSig(provider, loanID, format, e, sig) {
		return "", sdk.Errorf(sdk.CodeForbidden, "invalid signature")
	}
	now := time.Now()
	if t := time.Unix(e, 0); t.Before(now) || t.After(now.Add(maxRedirectAhead)) {
		return "", sdk.Errorf(sdk.CodeForbidden, "signature expired")
	}
	in, rec, err := h.activeLoan(ctx, provider, loanID, sdk.CapFulfill)
	if err != nil {
		return "", err
	}
	return h.contentHref(ctx, in, rec, format, e)
}
