package main

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/sdk"
)

// Settings keys of an ehub instance.
const (
	settingBaseURL = "base_url"
	// settingAPIKey is a secret: it goes into the Authorization header and
	// nowhere else (never a log line, never an error).
	settingAPIKey = "api_key"
)

// The formats eHUB names in its documentation. Answers may carry others; they
// are kept.
var formats = []string{"ebook", "audio-stream", "audio-downloadable"}

// provider is the eHUB connector. One plugin process serves any number of
// instances (eHUB accounts), each with its own base URL, api key and client.
type provider struct {
	sdk.Unimplemented

	// log receives warnings about odd answers (malformed links, unparsable
	// expiry). Tests replace it to capture the lines.
	log hclog.Logger
	// now is the clock for Retry-After dates.
	now func() time.Time

	instances sdk.Instances[*instance]
}

func newProvider() *provider { return &provider{now: time.Now} }

// Describe tells the host what the plugin offers: checkout and fulfillment,
// no options.
func (p *provider) Describe(ctx context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:         "ehub",
		Version:      version,
		Capabilities: []sdk.Capability{sdk.CapCheckout, sdk.CapFulfill},
		Formats:      append([]string(nil), formats...),
	}, nil
}

// Configure validates an instance's settings and swaps them in whole, so a
// call in flight sees either the old or the new instance, never a mix.
func (p *provider) Configure(ctx context.Context, name string, settings map[string]string) error {
	in, err := p.newInstance(name, settings, sdk.HTTPClient(settings))
	if err != nil {
		return err
	}
	if old, replaced := p.instances.Set(name, in); replaced {
		old.x.Client.CloseIdleConnections()
	}
	return nil
}

// Health reports a configured instance healthy without calling eHUB: the
// seed documents no cheap call that would not create a loan.
func (p *provider) Health(ctx context.Context, name string) error {
	_, err := p.instance(name)
	return err
}

func (p *provider) instance(name string) (*instance, error) { return p.instances.Get(name) }

// hasControl reports whether s contains a control character, which would
// break a header or a log line.
func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}

var _ sdk.Provider = (*provider)(nil)

// logger is where the connector logs: the test's logger when one is set,
// else the plugin process's default, looked up at each use because
// sdk.Serve installs it after the provider is built.
func (p *provider) logger() hclog.Logger {
	if p.log != nil {
		return p.log
	}
	return hclog.Default().Named("ehub")
}
