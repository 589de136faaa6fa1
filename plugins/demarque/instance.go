package main

import (
	"net/http"
	"net/url"

	"github.com/lendgate/lendgate/sdk"
)

// Setting names of a De Marque instance. password is a secret: it goes into
// the Authorization header of retail API calls and nowhere else.
const (
	settingBaseURL      = "base_url"
	settingOrganisation = "organisation_id"
	settingUsername     = "username"
	settingPassword     = "password"
)

// instance is one distributor account: where its retail API is, who we are
// there, and the outbound client carrying the transport policy.
type instance struct {
	base          *url.URL
	organisation  string
	username      string
	password      string
	allowInsecure bool
	client        *http.Client
}

// newInstance validates settings. Errors name the setting, never its value.
func newInstance(settings map[string]string) (*instance, error) {
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
	return &instance{
		base:          base,
		organisation:  settings[settingOrganisation],
		username:      settings[settingUsername],
		password:      settings[settingPassword],
		allowInsecure: settings[sdk.SettingAllowInsecureHTTP] == "true",
		client:        sdk.HTTPClient(settings),
	}, nil
}

// loanURL checks a purchase's loan_url against the same transport policy as
// base_url (sdk.BaseURL): absolute, https unless the instance allows plain
// http. The URL itself never goes into the message: it may carry a token.
func (in *instance) loanURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "option %q is required (the lending URL bought with the publication)", optLoanURL)
	}
	policy := map[string]string{optLoanURL: raw}
	if in.allowInsecure {
		policy[sdk.SettingAllowInsecureHTTP] = "true"
	}
	u, err := sdk.BaseURL(policy, optLoanURL)
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "option %q must be an absolute https URL (plain http only with allow_insecure_http)", optLoanURL)
	}
	return u, nil
}
