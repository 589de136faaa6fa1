package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Decisions where the contract is silent (README.md "Assumed"):
//   - expires is RFC 3339 UTC in whole seconds, capped by the licence's
//     length and end; days 0 asks for defaultDays.
//   - A licence is skipped, not failed, when its template needs a
//     passphrase the checkout does not give; when every licence is skipped
//     the checkout is invalid_request naming the option, and nothing is
//     sent. A hint or hint_url the template has and the instance lacks is
//     left out: the distributor decides.
//   - A format the item has no licence in is not_available (the item
//     exists; another licence could be bought), naming the formats it has.
//   - The expanded borrow link must stay on the host the feed named, so
//     that no value expanded into its path ({+var}) sends the order
//     elsewhere.

// Loan length: days 0 takes defaultDays; a licence's length and end cap
// the loan it makes.
const (
	defaultDays = 21
	maxDays     = 3650
)

// expiresLayout is how expires and end are sent: ISO 8601, UTC, whole
// seconds.
const expiresLayout = time.RFC3339

// returnName is the device name sent to return and renew links that take
// one.
const returnName = "lendgate"

// ProviderRef keys the host keeps for a loan and hands back.
const (
	// refLSD is the loan's License Status Document URL (its self link):
	// every later operation starts from it.
	refLSD = "lsd_url"
	// refLSDID is the LSD's id, which notifications name.
	refLSDID = "lsd_id"
	// refLicence is the licence the loan was made on.
	refLicence = "license_id"
	// refCheckout is the checkout_id sent: the host's loan id.
	refCheckout = "checkout_id"
)

// order is what a checkout sends, from a CheckoutRequest or, for Resolve,
// from the host's record of one.
type order struct {
	instance, loanID, item, patron, format string
	days                                   int
	notifyURL                              string
	options                                map[string]string
}

// Checkout lends r.Item: it picks the item's licences in the order
// libraries expect (licence.go), POSTs the first one's borrow link filled
// with the host's loan id as checkout_id, and moves on to the next on
// checkout/unavailable or checkout/expired. A 201 is the new loan; a 303
// (the same licence and checkout_id seen before) leads to the loan made
// then, unchanged.
func (p *provider) Checkout(ctx context.Context, r sdk.CheckoutRequest) (loan sdk.Loan, err error) {
	defer func() {
		p.logger().Debug("checkout", "instance", r.Instance, "loan", r.LoanID, "format", r.Format, "licence", loan.ProviderRef[refLicence], "outcome", outcome(err))
	}()
	in, err := p.instances.Get(r.Instance)
	if err != nil {
		return sdk.Loan{}, err
	}
	o := order{instance: r.Instance, loanID: r.LoanID, item: r.Item, patron: r.Patron, format: r.Format,
		days: r.Days, notifyURL: r.NotifyURL, options: r.Options}
	if e := o.validate(); e != nil {
		return sdk.Loan{}, e
	}
	pub, err := p.publication(ctx, in, r.Item)
	if err != nil {
		return sdk.Loan{}, err
	}
	lics, e := inFormat(pub, r.Format)
	if e != nil {
		return sdk.Loan{}, e
	}
	cands, why, _ := p.candidates(ctx, in, lics, r.LoanID)
	if ctx.Err() != nil {
		return sdk.Loan{}, notSent(ctx)
	}
	if len(cands) == 0 {
		return sdk.Loan{}, sdk.Errorf(sdk.CodeNotAvailable, "item %q cannot be lent now: %s", r.Item, why)
	}
	loan, placed, e := p.borrow(ctx, in, o, cands)
	switch {
	case e != nil:
		return sdk.Loan{}, e
	case !placed:
		// Unreachable: borrow answers an error whenever it placed nothing.
		return sdk.Loan{}, sdk.Errorf(sdk.CodeNotAvailable, "item %q cannot be lent now", r.Item)
	}
	return loan, nil
}

// validate checks what the plugin can check before any call.
func (o order) validate() *sdk.Error {
	switch {
	case o.loanID == "":
		return sdk.Errorf(sdk.CodeInvalidRequest, "the loan id (checkout_id) is empty")
	case o.patron == "":
		return sdk.Errorf(sdk.CodeInvalidRequest, "the patron (patron_id) is empty")
	case o.item == "":
		return sdk.Errorf(sdk.CodeInvalidRequest, "the item is empty")
	case o.days < 0 || o.days > maxDays:
		return sdk.Errorf(sdk.CodeInvalidRequest, "days must be 1–%d, got %d", maxDays, o.days)
	}
	return nil
}

// inFormat are pub's licences in format ("" any).
func inFormat(pub *publication, format string) ([]*licence, *sdk.Error) {
	if format == "" {
		return pub.licences, nil
	}
	var out []*licence
	var have []string
	for _, l := range pub.licences {
		f := formatOf(l.format)
		if f == format {
			out = append(out, l)
		} else {
			have = append(have, f)
		}
	}
	if len(out) == 0 {
		return nil, sdk.Errorf(sdk.CodeNotAvailable, "item %q has no licence in format %s (it has: %s)", pub.item, format, strings.Join(dedupe(have), ", "))
	}
	return out, nil
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// borrow POSTs the borrow links of cands in turn, under o's checkout id,
// until one lends (placed true). Otherwise the error says why: the last
// refusal (checkout/unavailable or checkout/expired from every licence
// tried), a template that needs what o cannot fill, or the failure that
// ended the attempts.
func (p *provider) borrow(ctx context.Context, in *instance, o order, cands []candidate) (loan sdk.Loan, placed bool, e *sdk.Error) {
	var refused *sdk.Error
	var missing []string
	for _, c := range cands {
		target, sentExpires, miss, e := p.borrowURL(in, o, c)
		if e != nil {
			return sdk.Loan{}, false, e
		}
		if len(miss) > 0 {
			missing = append(missing, miss...)
			continue
		}
		// Remembered before the POST: if its answer is lost, Resolve asks
		// this licence again.
		in.placed.remember(o.loanID, c.lic.id)
		a, e := in.send(ctx, target, http.MethodPost, typeLSD, nil)
		if e != nil {
			if e.ProviderCode == typeUnavailable || e.ProviderCode == typeExpired {
				refused = e
				continue
			}
			if isCheckoutVariable(e) {
				p.logger().Error("the distributor refused a checkout variable our checks let through", "instance", o.instance, "licence", c.lic.id, "provider_code", e.ProviderCode)
			}
			return sdk.Loan{}, false, e
		}
		d, ok := parseLSD(in, a.Body, target)
		if !ok {
			return sdk.Loan{}, false, unknownAfter(sdk.Errorf(sdk.CodeProviderError, "the distributor's answer to a checkout (HTTP %d) is not a License Status Document", a.Status).WithProviderCode(httpCode(a.Status)))
		}
		if a.Status != http.StatusCreated {
			// A 303 followed to the loan made before (or a server that
			// answers 200): nothing was accepted now, so the expires sent
			// now is not the loan's.
			sentExpires = time.Time{}
		}
		loan, e := p.loanFrom(ctx, in, d, c.lic, o.loanID, sentExpires)
		if e != nil {
			return sdk.Loan{}, false, e
		}
		return loan, true, nil
	}
	switch {
	case refused != nil:
		refused.Message = fmt.Sprintf("item %q: no licence would lend (%s)", o.item, refused.Message)
		return sdk.Loan{}, false, refused
	case len(missing) > 0:
		return sdk.Loan{}, false, sdk.Errorf(sdk.CodeInvalidRequest, "item %q: the distributor's borrow link needs %s", o.item, describeMissing(dedupe(missing)))
	}
	return sdk.Loan{}, false, sdk.Errorf(sdk.CodeNotAvailable, "item %q cannot be lent now", o.item)
}

// describeMissing names where each missing variable comes from.
func describeMissing(vars []string) string {
	var parts []string
	for _, v := range vars {
		switch v {
		case "passphrase":
			parts = append(parts, fmt.Sprintf("the patron's hashed passphrase (option %q)", optPassphrase))
		default:
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, " and ")
}

// borrowURL fills c's borrow link for o. sentExpires is the expires it
// carries (zero when the template has none); missing lists the variables
// the template needs and o cannot fill.
func (p *provider) borrowURL(in *instance, o order, c candidate) (target *url.URL, sentExpires time.Time, missing []string, e *sdk.Error) {
	expires := loanEnd(p.now(), o.days, c.terms)
	hint := o.options[optHint]
	if hint == "" {
		hint = in.hint
	}
	vars := map[string]string{
		"id":               c.lic.id,
		"checkout_id":      o.loanID,
		"patron_id":        o.patron,
		"expires":          expires.Format(expiresLayout),
		"notification_url": o.notifyURL,
		"passphrase":       o.options[optPassphrase],
		"hint":             hint,
		"hint_url":         in.hintURL,
	}
	u, missing, has, err := expandLink(c.lic.borrow, vars)
	if err != nil {
		return nil, time.Time{}, nil, sdk.Errorf(sdk.CodeProviderError, "licence %q: the distributor's borrow link is not a URI template the plugin can fill", c.lic.id).WithOutcome(sdk.OutcomeNotSent)
	}
	if len(missing) > 0 {
		return nil, time.Time{}, missing, nil
	}
	// The expansion must stay where the feed's link pointed: a value
	// expanded into the path ({+var}) cannot send the order elsewhere.
	base, _ := url.Parse(templateBase(c.lic.borrow.Href))
	checked, ok := in.link(u.String(), nil)
	if !ok || checked.Scheme != base.Scheme || originHost(checked) != originHost(base) {
		return nil, time.Time{}, nil, sdk.Errorf(sdk.CodeProviderError, "licence %q: the distributor's borrow link does not expand to a URL on its own host", c.lic.id).WithOutcome(sdk.OutcomeNotSent)
	}
	if has("expires") {
		sentExpires = expires
	}
	return checked, sentExpires, nil, nil
}

// loanEnd is the loan end to ask for: now plus days (default
// defaultDays), no further than the licence's longest loan and its end,
// in whole seconds.
func loanEnd(now time.Time, days int, t terms) time.Time {
	if days == 0 {
		days = defaultDays
	}
	now = now.UTC()
	end := now.Add(time.Duration(days) * 24 * time.Hour)
	if t.length > 0 && now.Add(t.length).Before(end) {
		end = now.Add(t.length)
	}
	if !t.expires.IsZero() && t.expires.Before(end) {
		end = t.expires
	}
	return end.Truncate(time.Second)
}

// loanFrom is the loan an LSD describes. Its end is sentExpires when the
// distributor accepted it, else the LCP licence's rights.end (zero when
// that cannot be read: the host then counts the checkout's days).
func (p *provider) loanFrom(ctx context.Context, in *instance, d *lsd, lic *licence, checkoutID string, sentExpires time.Time) (sdk.Loan, *sdk.Error) {
	if !d.running() {
		return sdk.Loan{}, sdk.Errorf(sdk.CodeNotAvailable, "the distributor holds this checkout as %s, not as a loan to read", d.status).WithProviderCode(d.status)
	}
	self, haveSelf := d.self()
	end := sentExpires
	if end.IsZero() || !haveSelf {
		licEnd, status, e := p.readLicence(ctx, in, d)
		switch {
		case e != nil:
			p.logger().Warn("the loan's LCP licence could not be read", "instance", in.name, "checkout_id", checkoutID, "error", e.Message)
		default:
			if end.IsZero() {
				end = licEnd
			}
			if !haveSelf && status != "" {
				// As the Readium LCP server does: no self link in the
				// LSD, the licence's status link instead.
				self, haveSelf = status, true
			}
		}
	}
	if !haveSelf {
		return sdk.Loan{}, unknownAfter(sdk.Errorf(sdk.CodeProviderError, "the distributor's License Status Document has no self link (nor does its licence a status link): the loan cannot be followed"))
	}
	format := formatOf(lic.format)
	return sdk.Loan{
		Format:    format,
		ExpiresAt: end,
		Links:     d.accessLinks(format),
		ProviderRef: map[string]string{
			refLSD:      self,
			refLSDID:    d.id,
			refLicence:  lic.id,
			refCheckout: checkoutID,
		},
	}, nil
}
