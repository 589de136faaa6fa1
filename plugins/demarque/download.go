package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/lendgate/lendgate/sdk"
	"github.com/lendgate/lendgate/sdk/isbn"
)

// downloadValidity is how long the warehouse's download link lives (seed
// demarque-download.txt: "valid for one minute"). The host must only hand it
// out through its 303 redirect.
const downloadValidity = time.Minute

// customerPattern is the seed's customer_id: alphanumerical, "-" and "_";
// at most 255 of them, like the seed's other ids. The host checks only that
// a customer is present and of a sane size: this rule is the warehouse's.
var customerPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// Download asks the retail API for a one-minute download link of a purchased
// publication (seed 2.3). uname is watermarked into the file.
func (p *provider) Download(ctx context.Context, r sdk.DownloadRequest) (f sdk.Fulfillment, err error) {
	format := r.Format
	defer func() {
		p.logger().Debug("download", "instance", r.Instance, "format", format, "outcome", outcome(err))
	}()
	fail := func(e *sdk.Error) (sdk.Fulfillment, error) {
		return sdk.Fulfillment{}, p.inContext(e, "download", r.Instance, format)
	}

	in, err := p.instance(r.Instance)
	if err != nil {
		return sdk.Fulfillment{}, err
	}
	if !validFormat(format) {
		return fail(sdk.Errorf(sdk.CodeInvalidRequest, "format %q is not one of pdf, epub, mobi", format))
	}
	if !customerPattern.MatchString(r.Customer) {
		return fail(sdk.Errorf(sdk.CodeInvalidRequest, "customer must be letters, digits, - or _"))
	}
	if r.Transaction == "" || len(r.Transaction) >= maxIDLen || r.Transaction == "." || r.Transaction == ".." {
		return fail(sdk.Errorf(sdk.CodeInvalidRequest, "transaction is required (1–%d characters)", maxIDLen-1))
	}
	item, err := isbn.Normalize(r.Item)
	if err != nil {
		return fail(sdk.Errorf(sdk.CodeInvalidRequest, "item %q is not a valid ISBN (check digit; De Marque has one ISBN per format)", r.Item))
	}
	if r.PatronName == "" {
		return fail(sdk.Errorf(sdk.CodeInvalidRequest, "patron_name is required (it is watermarked into the file)"))
	}

	a, e := p.call(ctx, in.x, sdk.Request{Method: http.MethodGet,
		Path: in.downloadPath(r.Customer, r.Transaction, item, format), Query: url.Values{"uname": {r.PatronName}}})
	if e != nil {
		return fail(e)
	}
	href, e := decode(a)
	if e != nil {
		return fail(e)
	}
	return sdk.Fulfillment{Links: []sdk.Link{{
		Format:    format,
		Rel:       "content",
		Href:      href,
		ExpiresAt: p.now().UTC().Add(downloadValidity),
	}}}, nil
}

// downloadPath is api/organisations/{organisation_id}/customers/{customer}/
// transactions/{transaction}/publications/{isbn}/download_links/{format}
// below base_url, every segment escaped (the query adds uname).
func (in *instance) downloadPath(customer, transaction, item, format string) string {
	segs := []string{
		"api", "organisations", in.organisation, "customers", customer,
		"transactions", transaction, "publications", item, "download_links", format,
	}
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return strings.Join(segs, "/")
}
