package main

import (
	"encoding/json"
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

// decodeAnswer reads a checkout answer: an error for status > 399, anything
// but 2xx, or a 2xx body that is not the seed's shape.
func decodeAnswer(rep reply, now time.Time) (checkoutAnswer, error) {
	switch {
	case rep.status > 399:
		return checkoutAnswer{}, replyError(rep, now)
	case rep.status < 200 || rep.status > 299:
		// Redirects are followed by the client, so a 3xx here has nowhere
		// to go.
		return checkoutAnswer{}, sdk.Errorf(sdk.CodeProviderError, "unexpected HTTP %d from eHUB", rep.status)
	}
	var a checkoutAnswer
	if err := json.Unmarshal(rep.body, &a); err != nil {
		return checkoutAnswer{}, sdk.Errorf(sdk.CodeProviderError, "unreadable answer from eHUB (HTTP %d)", rep.status)
	}
	if a.ID == "" {
		// Without the id the loan could never be fulfilled.
		return checkoutAnswer{}, sdk.Errorf(sdk.CodeProviderError, "eHUB's answer has no checkout id")
	}
	if _, ok := a.FormatMetadata[""]; ok {
		// Unknown format ids are kept, but an empty one names no format:
		// its links could not be told apart or asked for.
		return checkoutAnswer{}, sdk.Errorf(sdk.CodeProviderError, "eHUB's answer has an empty format id")
	}
	return a, nil
}

// parseCheckout turns a checkout answer into a loan. format is the format
// asked for ("" for none).
func (p *Provider) parseCheckout(rep reply, format string) (sdk.Loan, error) {
	a, err := decodeAnswer(rep, p.now())
	if err != nil {
		return sdk.Loan{}, err
	}
	names := a.formats()
	if format == "" && len(names) > 0 {
		format = names[0]
	}
	if len(names) == 0 {
		p.logf().Warn("checkout answer lists no formats", "checkout_id", a.ID)
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
func (p *Provider) links(a checkoutAnswer, names []string) []sdk.Link {
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
func (p *Provider) checkHref(id, format, rel, href string) {
	u, err := url.Parse(href)
	if err == nil && u.IsAbs() && u.Host != "" {
		return
	}
	shown := cleanText(stripQuery(href), 200)
	if err == nil {
		shown = cleanText(sdk.RedactURL(u), 200)
	}
	p.logf().Warn("eHUB link is not an absolute URL; passed on verbatim",
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
func (p *Provider) expiry(a checkoutAnswer) time.Time {
	if a.ExpirationDate == "" {
		p.logf().Warn("checkout answer has no expirationDate", "checkout_id", a.ID)
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
	p.logf().Warn("unreadable expirationDate in eHUB's answer", "checkout_id", a.ID, "expiration_date", cleanText(a.ExpirationDate, 64))
	return time.Time{}
}
