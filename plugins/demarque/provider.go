package main

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/sdk"
)

// Setting names of a De Marque instance. password is a secret: it goes into
// the Authorization header of retail API calls and nowhere else.
const (
	settingBaseURL      = "base_url"
	settingOrganisation = "organisation_id"
	settingUsername     = "username"
	settingPassword     = "password"
	// settingLoanHosts lists, comma-separated, the hosts (host or
	// host:port) besides base_url's whose loan_urls the instance accepts.
	settingLoanHosts = "loan_hosts"
)

// The formats De Marque sells: one ISBN per format, so a loan or download is
// always for exactly one of them.
const (
	formatEPUB = "epub"
	formatPDF  = "pdf"
	formatMOBI = "mobi"
)

// defaultFormat is used when neither the request nor the loan names one.
const defaultFormat = formatEPUB

// Checkout option names, as declared in Describe.
const (
	optLoanURL      = "loan_url"
	optMedium       = "medium"
	optLocalisation = "localisation"
	optDuration     = "duration"
	optIPAddress    = "ip_address"
)

// provider is the De Marque connector. One value serves every provider
// instance (distributor account) the host configures.
type provider struct {
	sdk.Unimplemented

	// log receives one line per call; never a password, query value or
	// loan_url (a purchase's loan_url may carry a token).
	log hclog.Logger
	// now is the clock for expiry dates; tests replace it.
	now func() time.Time

	instances sdk.Instances[*instance]
}

func newProvider() *provider { return &provider{now: time.Now} }

// Describe tells the host what the warehouse offers: lending through
// loan_url, regenerated links, purchased downloads, return notifications
// and the resolution of a loan whose checkout answer was lost.
// Renewal and return by the library are not offered (a return is started by
// the reader and arrives as a notification).
func (p *provider) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:    "demarque",
		Items:   sdk.ItemsISBN,
		Version: version,
		Capabilities: []sdk.Capability{
			sdk.CapCheckout, sdk.CapFulfill, sdk.CapDownload, sdk.CapNotifications, sdk.CapResolve,
		},
		// The warehouse keys a loan by transaction_id (the host's loan id):
		// a checkout sent again updates the same loan (resolve.go).
		DedupesCheckout: true,
		Formats:         []string{formatEPUB, formatPDF, formatMOBI},
		Options: map[string][]string{
			optLoanURL:      {},
			optMedium:       {mediumDownload, mediumStreaming},
			optLocalisation: {localisationOnSite, localisationOffSite},
			optDuration:     {},
			optIPAddress:    {},
		},
	}, nil
}

// Configure checks an instance's settings and keeps them, replacing what the
// instance had before. A refused configuration leaves the old one in place.
func (p *provider) Configure(_ context.Context, name string, settings map[string]string) error {
	in, err := p.newInstance(name, settings, sdk.HTTPClient(settings))
	if err != nil {
		return err
	}
	p.instances.Set(name, in)
	p.logger().Debug("configure", "instance", name, "base_url", in.base.String(), "organisation_id", in.organisation)
	return nil
}

// Health reports a configured instance healthy without calling the
// warehouse: it has no cheap endpoint, and a health probe must not create
// loans or download links.
func (p *provider) Health(_ context.Context, name string) error {
	_, err := p.instance(name)
	return err
}

func (p *provider) instance(name string) (*instance, error) { return p.instances.Get(name) }

// validFormat reports whether f is a format the warehouse sells.
func validFormat(f string) bool {
	return f == formatEPUB || f == formatPDF || f == formatMOBI
}

// outcome is the code to log for err ("ok" for nil).
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return string(sdk.CodeOf(err))
}

var _ sdk.Provider = (*provider)(nil)

// logger is where the connector logs: the test's logger when one is set,
// else the plugin process's default, looked up at each use because
// sdk.Serve installs it after the provider is built.
func (p *provider) logger() hclog.Logger {
	if p.log != nil {
		return p.log
	}
	return hclog.Default().Named("demarque")
}
