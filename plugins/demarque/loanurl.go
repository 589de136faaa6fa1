package main

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/lendgate/lendgate/sdk"
)

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
