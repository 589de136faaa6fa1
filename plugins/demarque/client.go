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

// instance is one distributor account: where its retail API is, who we are
// there, and the exchange with it (outbound client with the transport
// policy, credentials, error table).
type instance struct {
	name          string
	base          *url.URL
	organisation  string
	allowInsecure bool
	// loanHosts are the origins' hosts a loan_url may point at: base_url's
	// and those of loan_hosts, normalised by originHost.
	loanHosts map[string]bool
	// x is the exchange with the retail API (downloads): base_url, with the
	// account's Basic auth credentials.
	x *sdk.Exchange
}

// newInstance validates settings and builds the account, talking through
// client. Errors name the setting, never its value.
func (p *provider) newInstance(name string, settings map[string]string, client *http.Client) (*instance, error) {
	base, err := sdk.BaseURL(settings, settingBaseURL)
	if err != nil {
		return nil, err
	}
	if base.User != nil {
		// Credentials belong in username/password, where they stay out of
		// logs; a URL gets logged.
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "setting %q must not carry credentials (use username and password)", settingBaseURL)
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "setting %q must not have a query or fragment", settingBaseURL)
	}
	for _, k := range []string{settingOrganisation, settingUsername, settingPassword} {
		if settings[k] == "" {
			return nil, sdk.Errorf(sdk.CodeInvalidRequest, "setting %q is required", k)
		}
	}
	req := http.Request{Header: http.Header{}}
	req.SetBasicAuth(settings[settingUsername], settings[settingPassword])
	auth := req.Header.Get("Authorization")
	in := &instance{
		name:          name,
		base:          base,
		organisation:  settings[settingOrganisation],
		allowInsecure: settings[sdk.SettingAllowInsecureHTTP] == "true",
		loanHosts:     map[string]bool{originHost(base): true},
		x: &sdk.Exchange{
			Name:    "De Marque",
			Client:  sameOriginClient(client),
			MaxBody: sdk.MaxBodyBytes(settings),
			Base:    base,
			Header:  http.Header{"Authorization": {auth}},
			Secrets: []string{settings[settingPassword], auth},
			Errors:  errorTable,
			Now:     func() time.Time { return p.now() },
		},
	}
	for _, h := range strings.Split(settings[settingLoanHosts], ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if strings.ContainsAny(h, "/?#@ ") {
			return nil, sdk.Errorf(sdk.CodeInvalidRequest, "setting %q must list hosts (host or host:port), comma-separated", settingLoanHosts)
		}
		in.loanHosts[originHost(&url.URL{Scheme: base.Scheme, Host: h})] = true
	}
	return in, nil
}

// lending is the exchange with a publication's lending URL, target (checked
// by loanURL): the retail API's client and table, without its credentials,
// which the lending calls do not take.
func (in *instance) lending(target *url.URL) *sdk.Exchange {
	x := *in.x
	x.Base = &url.URL{Scheme: target.Scheme, Host: target.Host, RawQuery: target.RawQuery}
	x.Header = nil
	return &x
}

// call sends r through x (the instance's, or a lending one) and reads the
// answer: a 2xx answer comes back whole; an error answer is the unified
// error through errorTable, a failed transport provider_timeout or
// provider_error. The caller's ctx bounds the whole exchange, body included.
func (p *provider) call(ctx context.Context, x *sdk.Exchange, r sdk.Request) (sdk.Answer, *sdk.Error) {
	a, err := x.Do(ctx, r)
	if err != nil {
		return a, sdk.AsError(err)
	}
	return a, nil
}

// answerBody is the assumed success body (see errors.go).
type answerBody struct {
	URL string `json:"url"`
}

// decode reads the URL out of a 2xx answer. Only 200 is the documented
// success; the url must be absolute, the only kind of link worth handing to
// a reader. ProviderCode is set on every error, and its outcome is unknown:
// the warehouse answered 2xx, and may have made the loan.
func decode(a sdk.Answer) (string, *sdk.Error) {
	if a.Status != http.StatusOK {
		return "", sdk.Errorf(sdk.CodeProviderError, "the warehouse answered HTTP %d", a.Status).WithProviderCode(httpCode(a.Status)).
			WithOutcome(sdk.OutcomeUnknown)
	}
	var b answerBody
	if err := json.Unmarshal(a.Body, &b); err != nil {
		return "", sdk.Errorf(sdk.CodeProviderError, "the warehouse's answer is unreadable").WithProviderCode(httpCode(a.Status)).
			WithOutcome(sdk.OutcomeUnknown)
	}
	if !absoluteURL(b.URL) {
		return "", sdk.Errorf(sdk.CodeProviderError, "the warehouse's answer has no usable url").WithProviderCode(httpCode(a.Status)).
			WithOutcome(sdk.OutcomeUnknown)
	}
	return b.URL, nil
}
