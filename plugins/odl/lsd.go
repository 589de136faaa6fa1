package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// LSD statuses (LSD 1.0 §2.3).
const (
	lsdReady     = "ready"
	lsdActive    = "active"
	lsdRevoked   = "revoked"
	lsdReturned  = "returned"
	lsdCancelled = "cancelled"
	lsdExpired   = "expired"
)

var lsdStatuses = []string{lsdReady, lsdActive, lsdRevoked, lsdReturned, lsdCancelled, lsdExpired}

// lsdDoc is a License Status Document as sent.
type lsdDoc struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Message string `json:"message"`
	Updated struct {
		License string `json:"license"`
		Status  string `json:"status"`
	} `json:"updated"`
	Links           []linkDoc `json:"links"`
	PotentialRights struct {
		End string `json:"end"`
	} `json:"potential_rights"`
}

// lsd is an LSD as the plugin uses it: links resolved against where it
// was read, and checked (a link that is not an http(s) URL the instance
// accepts is left out).
type lsd struct {
	id, status     string
	links          []linkDoc
	potentialEnd   time.Time
	updatedLicense time.Time
	updatedStatus  time.Time
}

// running reports whether the loan holds a copy: ready or active.
func (d *lsd) running() bool { return d.status == lsdReady || d.status == lsdActive }

// returned reports whether the loan was returned (cancelled: returned
// before it was ever opened).
func (d *lsd) returned() bool { return d.status == lsdReturned || d.status == lsdCancelled }

// parseLSD reads an LSD fetched from base. It must be a JSON object with
// an id and a status of LSD 1.0's vocabulary; message and updated may be
// missing (a notification's minimal LSD has neither).
func parseLSD(in *instance, body []byte, base *url.URL) (*lsd, bool) {
	var doc lsdDoc
	if json.Unmarshal(body, &doc) != nil || doc.ID == "" || !slices.Contains(lsdStatuses, doc.Status) {
		return nil, false
	}
	d := &lsd{id: doc.ID, status: doc.Status, potentialEnd: parseTime(doc.PotentialRights.End),
		updatedLicense: parseTime(doc.Updated.License), updatedStatus: parseTime(doc.Updated.Status)}
	for _, l := range doc.Links {
		if l.templated() {
			u, ok := in.link(templateBase(l.Href), base)
			if !ok {
				continue
			}
			l.Href = u.String() + templateTail(l.Href)
		} else {
			u, ok := in.link(l.Href, base)
			if !ok {
				continue
			}
			l.Href = u.String()
		}
		d.links = append(d.links, l)
	}
	return d, true
}

// find returns the links with rel, in the document's order.
func (d *lsd) find(rel string) []linkDoc {
	var out []linkDoc
	for _, l := range d.links {
		if l.Rel.has(rel) {
			out = append(out, l)
		}
	}
	return out
}

// apiLink is the link with rel that a program can use (type LSD, or no
// type): not a text/html page for people.
func (d *lsd) apiLink(rel string) (linkDoc, bool) {
	for _, l := range d.find(rel) {
		if t := l.mediaType(); t == typeLSD || t == "" || t == "application/json" {
			return l, true
		}
	}
	return linkDoc{}, false
}

// self is the LSD's own address (its self link, not templated).
func (d *lsd) self() (string, bool) {
	for _, l := range d.find("self") {
		if !l.templated() {
			return l.Href, true
		}
	}
	return "", false
}

// licenceLink is the LCP licence's link (rel license), the first of the
// LCP type if there are several.
func (d *lsd) licenceLink() (linkDoc, bool) {
	ls := d.find("license")
	for _, l := range ls {
		if l.mediaType() == typeLicense && !l.templated() {
			return l, true
		}
	}
	for _, l := range ls {
		if !l.templated() {
			return l, true
		}
	}
	return linkDoc{}, false
}

// accessLinks are what a patron's app opens for the loan: the LCP licence
// (rel content, its type), the publication itself where the LSD links it
// (content), and a manifest (RelManifest) to stream from.
func (d *lsd) accessLinks(format string) []sdk.Link {
	var out []sdk.Link
	if l, ok := d.licenceLink(); ok {
		typ := l.mediaType()
		if typ == "" {
			typ = typeLicense
		}
		out = append(out, sdk.Link{Format: format, Rel: sdk.RelContent, Href: l.Href, Type: typ})
	}
	for _, rel := range []string{"publication", "manifest"} {
		for _, l := range d.find(rel) {
			if l.templated() {
				continue
			}
			r := sdk.RelContent
			if rel == "manifest" {
				r = sdk.RelManifest
			}
			out = append(out, sdk.Link{Format: format, Rel: r, Href: l.Href, Type: l.mediaType()})
		}
	}
	return out
}

// readLSD GETs the LSD at target. A 404 or 410 is loan_not_found; an
// answer that is no LSD a provider_error.
func (p *provider) readLSD(ctx context.Context, in *instance, target *url.URL) (*lsd, *sdk.Error) {
	return p.lsdCall(ctx, in, target, http.MethodGet)
}

// lsdCall sends method to an LSD link (GET the LSD, PUT return or renew)
// and reads the LSD it answers. An answer that is no LSD is a
// provider_error of unknown outcome: the distributor may have acted.
func (p *provider) lsdCall(ctx context.Context, in *instance, target *url.URL, method string) (*lsd, *sdk.Error) {
	a, e := in.send(ctx, target, method, typeLSD, &lsdErrors)
	if e != nil {
		return nil, e
	}
	d, ok := parseLSD(in, a.Body, target)
	if !ok {
		return nil, unknownAfter(sdk.Errorf(sdk.CodeProviderError, "the distributor's answer (HTTP %d) is not a License Status Document", a.Status).WithProviderCode(httpCode(a.Status)))
	}
	return d, nil
}

// licenceDoc is the part of an LCP licence the plugin reads.
type licenceDoc struct {
	Rights struct {
		End string `json:"end"`
	} `json:"rights"`
	Links []linkDoc `json:"links"`
}

// readLicence GETs the loan's LCP licence: its rights.end (zero when it
// has none) and its status link (the LSD, for servers whose LSD has no
// self link).
func (p *provider) readLicence(ctx context.Context, in *instance, d *lsd) (end time.Time, status string, e *sdk.Error) {
	l, ok := d.licenceLink()
	if !ok {
		return time.Time{}, "", sdk.Errorf(sdk.CodeProviderError, "the License Status Document links no licence")
	}
	u, _ := url.Parse(l.Href) // checked by parseLSD
	a, e := in.get(ctx, u, typeLicense, &lsdErrors)
	if e != nil {
		return time.Time{}, "", e
	}
	var doc licenceDoc
	if json.Unmarshal(a.Body, &doc) != nil {
		return time.Time{}, "", sdk.Errorf(sdk.CodeProviderError, "the loan's LCP licence (HTTP %d) is unreadable", a.Status).WithProviderCode(httpCode(a.Status))
	}
	for _, sl := range doc.Links {
		if sl.Rel.has("status") && !sl.templated() {
			if su, ok := in.link(sl.Href, u); ok {
				status = su.String()
				break
			}
		}
	}
	return parseTime(doc.Rights.End), status, nil
}
