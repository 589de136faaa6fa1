package main

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/sdk"
)

// The settings an instance takes (besides the host's allow_insecure_http and
// max_body_bytes).
const (
	settingBaseURL  = "base_url"
	settingUsername = "username"
	settingPassword = "password" // secret
)

// provider is the CB connector: one value serves every configured instance.
type provider struct {
	sdk.Unimplemented

	// log is where the connector logs; never a password.
	log hclog.Logger
	// now is the clock, replaced in tests.
	now func() time.Time
	// amsterdam is CB's time zone, for EBS-10060's next midnight.
	amsterdam *time.Location

	instances sdk.Instances[*instance]
}

func newProvider() *provider {
	p := &provider{now: time.Now}
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		// Only without time/tzdata: fall back to CET, wrong by an hour in
		// summer, rather than refuse to start.
		p.logger().Error("loading Europe/Amsterdam, using CET", "error", err)
		loc = time.FixedZone("CET", 3600)
	}
	p.amsterdam = loc
	return p
}

// Describe tells the host what the plugin offers.
func (p *provider) Describe(ctx context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:    "cb",
		Items:   sdk.ItemsISBN,
		Version: version,
		Capabilities: []sdk.Capability{
			sdk.CapCheckout, sdk.CapFulfill, sdk.CapRenew, sdk.CapAccessCheck, sdk.CapResolve,
		},
		// CB never lets two orders share an OrderReference (the host's loan
		// id): a repeated checkout answers EBS-10005 and the first order
		// stands (resolve.go).
		DedupesCheckout: true,
		// A renewal is an addition under OrderReference = the renewal id,
		// which the host keeps for a retry: a repeated renewal answers
		// EBS-10005 (duplicate_reference) and the first addition stands.
		DedupesRenew: true,
		Formats:      []string{"epub", "pdf"},
		Options: map[string][]string{
			optReadingMethod: {"D", "CR"},
			optProtection:    {"00", "02", "03"},
		},
	}, nil
}

// Configure checks an instance's settings and replaces its previous ones.
func (p *provider) Configure(ctx context.Context, name string, settings map[string]string) error {
	in, err := p.newInstance(name, settings, sdk.HTTPClient(settings))
	if err != nil {
		return err
	}
	if old, replaced := p.instances.Set(name, in); replaced {
		old.x.Client.CloseIdleConnections()
	}
	p.logger().Debug("instance configured", "instance", name, "base_url", sdk.RedactURL(in.x.Base))
	return nil
}

// Health reports a configured instance healthy without calling CB: the
// service has no cheap call that does not place an order.
func (p *provider) Health(ctx context.Context, name string) error {
	_, err := p.instance(name)
	return err
}

func (p *provider) instance(name string) (*instance, error) { return p.instances.Get(name) }

var _ sdk.Provider = (*provider)(nil)

// logger is where the connector logs: the test's logger when one is set,
// else the plugin process's default, looked up at each use because
// sdk.Serve installs it after the provider is built.
func (p *provider) logger() hclog.Logger {
	if p.log != nil {
		return p.log
	}
	return hclog.Default().Named("cb")
}
