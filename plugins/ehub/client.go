package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// patronHeader carries the patron's identity to eHUB. Assumed: the seed does
// not say how it travels.
const patronHeader = "X-Patron-Id"

// instance is one configured eHUB account: the exchange with its API (base
// URL, api key, outbound client, error table).
type instance struct {
	name string
	x    *sdk.Exchange
}

// newInstance checks an instance's settings and builds the account, talking
// through client: base_url and the api_key sent as a bearer token. Errors
// name the setting, never its value.
func (p *provider) newInstance(name string, settings map[string]string, client *http.Client) (*instance, error) {
	base, err := sdk.BaseURL(settings, settingBaseURL)
	if err != nil {
		return nil, err
	}
	key := settings[settingAPIKey]
	if key == "" {
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "setting %q is required", settingAPIKey)
	}
	if hasControl(key) || strings.ContainsAny(key, " \t") {
		// A header would break, and the value must not be shown.
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "setting %q contains whitespace or control characters", settingAPIKey)
	}
	return &instance{name: name, x: &sdk.Exchange{
		Name:    "eHUB",
		Client:  client,
		MaxBody: sdk.MaxBodyBytes(settings),
		Base:    base,
		Header: http.Header{
			"Authorization": {"Bearer " + key},
			"User-Agent":    {"lendgate-ehub/" + version},
		},
		// eHUB's messages are passed on: an echoed key must not be.
		Secrets: []string{key},
		Errors:  errorTable,
		Now:     func() time.Time { return p.now() },
	}}, nil
}

// call sends one request to eHUB for patron and reads the answer: a 2xx
// answer comes back whole; an error answer is the unified error through
// errorTable, a failed transport provider_timeout or provider_error. It logs
// nothing: a call that worked is not news, and a failed one is the host's
// to log.
func (p *provider) call(ctx context.Context, in *instance, patron string, r sdk.Request) (sdk.Answer, error) {
	r.Header = http.Header{patronHeader: {patron}}
	a, err := in.x.Do(ctx, r)
	if err != nil {
		return a, sdk.AsError(err)
	}
	return a, nil
}

// decode reads a checkout answer (the checkout's, and, assumed, the
// fulfillment GET's): a body that is not the seed's shape is a
// provider_error whose outcome is unknown (eHUB answered 2xx: it may have
// made the checkout).
func decode(a sdk.Answer) (checkoutAnswer, error) {
	var c checkoutAnswer
	if err := json.Unmarshal(a.Body, &c); err != nil {
		return checkoutAnswer{}, sdk.Errorf(sdk.CodeProviderError, "unreadable answer from eHUB (HTTP %d)", a.Status).WithOutcome(sdk.OutcomeUnknown)
	}
	if c.ID == "" {
		// Without the id the loan could never be fulfilled.
		return checkoutAnswer{}, sdk.Errorf(sdk.CodeProviderError, "eHUB's answer has no checkout id").WithOutcome(sdk.OutcomeUnknown)
	}
	if _, ok := c.FormatMetadata[""]; ok {
		// Unknown format ids are kept, but an empty one names no format:
		// its links could not be told apart or asked for.
		return checkoutAnswer{}, sdk.Errorf(sdk.CodeProviderError, "eHUB's answer has an empty format id").WithOutcome(sdk.OutcomeUnknown)
	}
	return c, nil
}

// checkoutPath is the checkout's path below base_url. The id is escaped as
// one segment: the path is taken as already escaped, and "/" or ".." in an
// id would otherwise walk it.
func checkoutPath(id string) string { return "v1/checkouts/" + url.PathEscape(id) }
