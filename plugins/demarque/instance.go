package main

import (
	"net"
	"net/http"
	"net/url"
	"strings"

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

// instance is one distributor account: where its retail API is, who we are
// there, and the outbound client carrying the transport policy.
type instance struct {
	base          *url.URL
	organisation  string
	username      string
	password      string
	allowInsecure bool
	// loanHosts are the origins' hosts a loan_url may point at: base_url's
	// and those of loan_hosts, normalised by originHost.
	loanHosts map[string]bool
	client    *http.Client
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
	in := &instance{
		base:          base,
		organisation:  settings[settingOrganisation],
		username:      settings[settingUsername],
		password:      settings[settingPassword],
		allowInsecure: settings[sdk.SettingAllowInsecureHTTP] == "true",
		loanHosts:     map[string]bool{originHost(base): true},
		client:        sameOriginClient(sdk.HTTPClient(settings)),
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

// originHost is u's host for an origin comparison: lower case, without the
// scheme's default port.
func originHost(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if port == "" {
		return host
	}
	return net.JoinHostPort(host, port)
}

// sameOriginClient follows a redirect only within the origin of the first
// request. A redirect elsewhere is not followed: its 3xx is the answer (a
// provider_error), so a loan call's form (the patron's pseudonym, the
// notify_url) and a download's credentials go nowhere else.
func sameOriginClient(c *http.Client) *http.Client {
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if req.URL.Scheme != first.Scheme || originHost(req.URL) != originHost(first) {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return c
}

// loanURL checks a purchase's loan_url against the same transport policy as
// base_url (sdk.BaseURL): absolute, https unless the instance allows plain
// http; and against the instance's origins: base_url's scheme and host, or a
// host of loan_hosts. Any other address is refused before a call, so that an
// API caller cannot make the plugin POST a patron's pseudonym anywhere. The
// URL itself never goes into the message: it may carry a token.
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
	if u.User != nil || u.Scheme != in.base.Scheme || !in.loanHosts[originHost(u)] {
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "option %q must be on the warehouse's own origin (base_url's host, or one listed in setting %q)", optLoanURL, settingLoanHosts)
	}
	return u, nil
}
