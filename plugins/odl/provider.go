package main

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/sdk"
)

// Setting names of an ODL instance. password and token are secrets: they
// go into the Authorization header of the calls that need it and nowhere
// else.
const (
	settingFeedURL  = "feed_url"
	settingUsername = "username"
	settingPassword = "password"
	settingToken    = "token"
	settingHint     = "hint"
	settingHintURL  = "hint_url"
	// settingFeedRefresh is how often the feed is read again (a Go
	// duration, default defaultFeedRefresh).
	settingFeedRefresh = "feed_refresh"
	// settingAuthHosts lists, comma-separated, the hosts (host or
	// host:port) besides feed_url's that the credentials may be sent to
	// (info documents or borrow links on another host of the distributor).
	settingAuthHosts = "auth_hosts"
)

// Checkout option names, as declared in Describe.
const (
	// optPassphrase is the patron's LCP passphrase, already hashed as the
	// borrow template wants it. A secret: never logged.
	optPassphrase = "passphrase"
	// optHint is the passphrase hint shown by the reading app (default:
	// setting hint).
	optHint = "hint"
)

// The formats lent: what an ODL licence's format (a media type) becomes.
const (
	formatEPUB      = sdk.FormatEPUB
	formatPDF       = sdk.FormatPDF
	formatAudiobook = sdk.FormatAudiobook
)

// provider is the ODL connector. One value serves every provider instance
// (distributor account) the host configures; everything an instance holds
// is its own (sdk.Instances), behind its own locks.
type provider struct {
	sdk.Unimplemented

	// log receives one line per call; never a secret, a passphrase or a
	// URL's query values.
	log hclog.Logger
	// now is the clock for loan dates and the feed's refreshes; tests
	// replace it.
	now func() time.Time

	instances sdk.Instances[*instance]
}

func newProvider() *provider { return &provider{now: time.Now} }

// capabilities are the operations the plugin declares: availability and
// reconcile are availability.go's and reconcile.go's.
var capabilities = []sdk.Capability{
	sdk.CapCheckout, sdk.CapFulfill, sdk.CapRenew, sdk.CapReturn, sdk.CapNotifications, sdk.CapResolve,
	sdk.CapAvailability, sdk.CapReconcile,
}

// Describe tells the host what an ODL distributor offers.
func (p *provider) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:         "odl",
		Version:      version,
		Capabilities: append([]sdk.Capability(nil), capabilities...),
		// ODL answers 303 to a checkout repeated with the same licence and
		// checkout_id (the host's loan id): a re-sent checkout makes no
		// second loan.
		DedupesCheckout: true,
		// A return re-sent for a loan already returned answers the
		// returned loan (return.go).
		DedupesReturn: true,
		Formats:       []string{formatEPUB, formatPDF, formatAudiobook},
		Options:       map[string][]string{optPassphrase: {}, optHint: {}},
		Secrets:       []string{settingPassword, settingToken},
	}, nil
}

// Configure checks an instance's settings and keeps them, replacing what the
// instance had before (its feed index is read afresh). A refused
// configuration leaves the old one in place. Nothing is sent to the
// distributor: the feed is read on the first call that needs it.
func (p *provider) Configure(_ context.Context, name string, settings map[string]string) error {
	in, err := p.newInstance(name, settings, sdk.HTTPClient(settings))
	if err != nil {
		return err
	}
	if old, replaced := p.instances.Set(name, in); replaced {
		old.close()
	}
	p.logger().Debug("configure", "instance", name, "feed_url", sdk.RedactURL(in.feed), "auth", in.authKind, "feed_refresh", in.refresh)
	return nil
}

// Health reports a configured instance healthy without calling the
// distributor, as the other connectors do: a health probe must be cheap,
// and the feed may be large.
func (p *provider) Health(_ context.Context, name string) error {
	_, err := p.instances.Get(name)
	return err
}

// outcome is the code to log for err ("ok" for nil).
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return string(sdk.CodeOf(err))
}

// logger is where the connector logs: the test's logger when one is set,
// else the plugin process's default, looked up at each use because
// sdk.Serve installs it after the provider is built.
func (p *provider) logger() hclog.Logger {
	if p.log != nil {
		return p.log
	}
	return hclog.Default().Named("odl")
}

var (
	_ sdk.Provider             = (*provider)(nil)
	_ sdk.Resolver             = (*provider)(nil)
	_ sdk.AvailabilityReporter = (*provider)(nil)
	_ sdk.Reconciler           = (*provider)(nil)
)
