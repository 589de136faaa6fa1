// Command acme-lending is the lendgate provider plugin for Acme Books: it
// lends e-books (checkout), hands out fresh download links for a loan
// (fulfill) and takes loans back early (return) through Acme's JSON API. The lendgate host runs it; build it with
//
//	go build -o bin/lendgate-plugin-acme .
package main

import (
	"context"
	"log"
	"net/http"
	"net/url"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// version is what Describe reports; a release sets it with
// -ldflags "-X main.version=1.2.3".
var version = "0.1.0"

func main() {
	if err := sdk.Serve(newProvider()); err != nil {
		log.Fatal(err)
	}
}

// provider serves every Acme account (provider instance) the host
// configures. Embedding sdk.Unimplemented makes renew, download, access
// checks and notifications answer unsupported_operation.
type provider struct {
	sdk.Unimplemented

	accounts sdk.Instances[*sdk.Exchange] // by instance name
}

func newProvider() *provider { return &provider{} }

// Describe tells the host what Acme offers. Items ISBN makes the host check
// ISBN check digits and turn ISBN-10 into ISBN-13 before calling us.
func (p *provider) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:         "acme",
		Version:      version,
		Capabilities: []sdk.Capability{sdk.CapCheckout, sdk.CapFulfill, sdk.CapReturn},
		Formats:      []string{sdk.FormatEPUB},
		Items:        sdk.ItemsISBN,
		Secrets:      []string{"api_key"}, // never in an error, a link or a log line
	}, nil
}

// Configure receives an instance's settings, secrets included: they arrive
// here and nowhere else (never in argv or the environment).
func (p *provider) Configure(_ context.Context, instance string, settings map[string]string) error {
	a, err := newAccount(settings)
	if err != nil {
		return err
	}
	p.accounts.Set(instance, a)
	return nil
}

// Health reports a configured instance healthy: Acme has no cheap endpoint
// without side effects.
func (p *provider) Health(_ context.Context, instance string) error {
	_, err := p.account(instance)
	return err
}

// account answers provider_credentials for an instance never configured.
func (p *provider) account(instance string) (*sdk.Exchange, error) { return p.accounts.Get(instance) }

// refLoanID is the ProviderRef key of Acme's loan id: the host stores the
// ProviderRef with the loan and hands it back to Fulfill and Return. Keep
// ids there, never a download link: API callers see the ProviderRef.
const refLoanID = "acme_loan_id"

// Checkout lends r.Item to r.Patron (the host's pseudonym of the patron).
// ctx carries the host's deadline: pass it to every request.
func (p *provider) Checkout(ctx context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) {
	a, err := p.account(r.Instance)
	if err != nil {
		return sdk.Loan{}, err
	}
	if r.Format != "" && r.Format != sdk.FormatEPUB {
		return sdk.Loan{}, sdk.Errorf(sdk.CodeInvalidRequest, "Acme lends epub only, not %q", r.Format)
	}
	req := loanRequest{ISBN: r.Item, Reader: r.Patron, Days: r.Days}
	var out loanAnswer
	if err := a.JSON(ctx, http.MethodPost, "/api/loans", req, &out); err != nil {
		return sdk.Loan{}, err
	}
	return sdk.Loan{
		Format:      sdk.FormatEPUB,
		ExpiresAt:   out.Expires, // the loan's end, as Acme says: the host expires the loan then
		Links:       []sdk.Link{epubLink(out.DownloadURL, time.Time{})},
		ProviderRef: map[string]string{refLoanID: out.LoanID},
	}, nil
}

// Fulfill asks Acme for a fresh download link of an existing loan.
func (p *provider) Fulfill(ctx context.Context, r sdk.FulfillRequest) (sdk.Fulfillment, error) {
	a, err := p.account(r.Instance)
	if err != nil {
		return sdk.Fulfillment{}, err
	}
	id, err := acmeLoanID(r.Loan)
	if err != nil {
		return sdk.Fulfillment{}, err
	}
	var out linkAnswer
	if err := a.JSON(ctx, http.MethodGet, "/api/loans/"+url.PathEscape(id)+"/link", nil, &out); err != nil {
		return sdk.Fulfillment{}, err
	}
	return sdk.Fulfillment{Links: []sdk.Link{epubLink(out.DownloadURL, out.Expires)}}, nil
}

// epubLink is Acme's download link of an e-book: the file itself (rel
// content). An audiobook would be sdk.FormatAudiobook, and a link a
// listening app streams from rel sdk.RelManifest with type
// sdk.MediaTypeAudiobookManifest; a web player, rel sdk.RelStream.
func epubLink(href string, expires time.Time) sdk.Link {
	return sdk.Link{Format: sdk.FormatEPUB, Rel: sdk.RelContent, Type: sdk.MediaTypeEPUB, Href: href, ExpiresAt: expires}
}

// Return gives a loan back to Acme before it expires.
func (p *provider) Return(ctx context.Context, r sdk.ReturnRequest) (sdk.Loan, error) {
	a, err := p.account(r.Instance)
	if err != nil {
		return sdk.Loan{}, err
	}
	id, err := acmeLoanID(r.Loan)
	if err != nil {
		return sdk.Loan{}, err
	}
	if err := a.JSON(ctx, http.MethodDelete, "/api/loans/"+url.PathEscape(id), nil, nil); err != nil {
		return sdk.Loan{}, err
	}
	// The loan as ended: no expiry and no links (the host marks it
	// returned and keeps what it had).
	return sdk.Loan{Format: r.Loan.Format}, nil
}

// acmeLoanID is Acme's id of the loan, from the ProviderRef Checkout kept.
func acmeLoanID(l sdk.LoanRef) (string, error) {
	id := l.ProviderRef[refLoanID]
	if id == "" {
		return "", sdk.Errorf(sdk.CodeLoanNotFound, "the loan has no Acme loan id")
	}
	return id, nil
}

var _ sdk.Provider = (*provider)(nil)
