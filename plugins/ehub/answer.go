package main

import (
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// checkoutAnswer is eHUB's answer to a checkout (and, assumed, to the
// fulfillment GET): the seed's shape.
type checkoutAnswer struct {
	ID             string                    `json:"id"`
	FormatMetadata map[string]formatMetadata `json:"formatMetadata"`
	ExpirationDate string                    `json:"expirationDate"`
}

type formatMetadata struct {
	ContentLinks    []answerLink `json:"contentLinks"`
	SupplementLinks []answerLink `json:"supplementLinks"`
}

type answerLink struct {
	Name string `json:"name"`
	Href string `json:"href"`
}

// parseCheckout turns a checkout's 2xx answer into a loan. format is the
// format asked for ("" for none).
func (p *provider) parseCheckout(ans sdk.Answer, format string) (sdk.Loan, error) {
	a, err := decode(ans)
	if err != nil {
		return sdk.Loan{}, err
	}
	names := a.formats()
	if format == "" && len(names) > 0 {
		format = names[0]
	}
	if len(names) == 0 {
		p.logger().Warn("checkout answer lists no formats", "checkout_id", a.ID)
	}
	return sdk.Loan{
		Format:      format,
		ExpiresAt:   p.expiry(a),
		Links:       p.links(a, names),
		ProviderRef: map[string]string{"checkout_id": a.ID},
	}, nil
}

// formats are the answer's format ids, sorted so that links and the default
// format do not depend on map order. Unknown ids are kept.
func (a checkoutAnswer) formats() []string {
	names := make([]string, 0, len(a.FormatMetadata))
	for n := range a.FormatMetadata {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// links flattens the named formats' links: content first, then supplements,
// each in eHUB's order. Hrefs are passed on verbatim; one that is not an
// absolute URL is only logged, because eHUB's own examples are malformed and
// the reading app may still cope.
func (p *provider) links(a checkoutAnswer, names []string) []sdk.Link {
	var out []sdk.Link
	for _, f := range names {
		m := a.FormatMetadata[f]
		for _, l := range m.ContentLinks {
			p.checkHref(a.ID, f, "content", l.Href)
			out = append(out, sdk.Link{Format: f, Rel: "content", Href: l.Href})
		}
		for _, l := range m.SupplementLinks {
			p.checkHref(a.ID, f, "supplement", l.Href)
			out = append(out, sdk.Link{Format: f, Rel: "supplement", Href: l.Href, Name: l.Name})
		}
	}
	return out
}

// checkHref logs a link that is not an absolute URL with a host, without its
// query values (they may be access tokens).
func (p *provider) checkHref(id, format, rel, href string) {
	u, err := url.Parse(href)
	if err == nil && u.IsAbs() && u.Host != "" {
		return
	}
	shown := cleanText(stripQuery(href), 200)
	if err == nil {
		shown = cleanText(sdk.RedactURL(u), 200)
	}
	p.logger().Warn("eHUB link is not an absolute URL; passed on verbatim",
		"checkout_id", id, "format", format, "rel", rel, "href", shown)
}

// stripQuery cuts a raw, unparsable href at its query or fragment.
func stripQuery(href string) string {
	if i := strings.IndexAny(href, "?#"); i >= 0 {
		return href[:i] + "?…"
	}
	return href
}

// expiry reads expirationDate ("ISO 8601"): RFC 3339 first, then the common
// ISO variants. An unreadable date is logged and left zero rather than
// failing a loan eHUB has already made.
func (p *provider) expiry(a checkoutAnswer) time.Time {
	if a.ExpirationDate == "" {
		p.logger().Warn("checkout answer has no expirationDate", "checkout_id", a.ID)
		return time.Time{}
	}
	for _, layout := range []string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05Z0700",
		"2006-01-02T15:04:05.999999999Z0700",
		"2006-01-02T15:04:05", // no zone: taken as UTC
		"2006-01-02",
	} {
		if t, err := time.Parse(layout, a.ExpirationDate); err == nil {
			return t.UTC()
		}
	}
	p.logger().Warn("unreadable expirationDate in eHUB's answer", "checkout_id", a.ID, "expiration_date", cleanText(a.ExpirationDate, 64))
	return time.Time{}
}
