package main

import (
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Media types of ODL and LSD documents.
const (
	typeOPDS    = "application/opds+json"
	typeInfo    = "application/vnd.odl.info+json"
	typeLSD     = "application/vnd.readium.license.status.v1.0+json"
	typeLicense = sdk.MediaTypeLCPLicense
)

// defaultFeedRefresh is how often the feed is read again when feed_refresh
// is not set.
const defaultFeedRefresh = time.Hour

// minFeedRefresh bounds feed_refresh from below, so that a typo cannot
// make the plugin read a large feed in a loop.
const minFeedRefresh = time.Minute

// instance is one distributor account: its feed, its credentials and the
// exchanges with the distributor, its feed index and what it remembers of
// recent checkouts. Every field is set by newInstance and never changed;
// index and placed have locks of their own.
type instance struct {
	name          string
	feed          *url.URL
	allowInsecure bool
	// authKind is "basic", "bearer" or "none", for the log.
	authKind string
	// authHosts are the origins (normalised by originHost, with the feed's
	// scheme) that get the credentials: the feed's and those of
	// auth_hosts.
	authHosts map[string]bool
	// hint and hintURL fill borrow templates that ask for them.
	hint, hintURL string
	refresh       time.Duration

	// auth is the exchange with the credentials (feed, info documents,
	// checkouts on authHosts); open the same without them (LSDs, LCP
	// licences, anything elsewhere). Base is set per request (at).
	auth, open *sdk.Exchange

	index  *index
	placed *placedLicences
	// stop ends the instance's background feed reads.
	stop context.CancelFunc
}

// newInstance validates settings and builds the account, talking through
// client. Errors name the setting, never its value.
func (p *provider) newInstance(name string, settings map[string]string, client *http.Client) (*instance, error) {
	feed, err := sdk.BaseURL(settings, settingFeedURL)
	if err != nil {
		return nil, err
	}
	if feed.User != nil {
		// Credentials belong in username/password or token, where they
		// stay out of logs; a URL gets logged.
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "setting %q must not carry credentials (use username and password, or token)", settingFeedURL)
	}
	user, pass, tok := settings[settingUsername], settings[settingPassword], settings[settingToken]
	header := http.Header{}
	var secrets []string
	kind := "none"
	switch {
	case tok != "" && (user != "" || pass != ""):
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "settings %q and %q/%q exclude each other (Bearer or Basic)", settingToken, settingUsername, settingPassword)
	case tok != "":
		header.Set("Authorization", "Bearer "+tok)
		secrets, kind = []string{tok, "Bearer " + tok}, "bearer"
	case user != "" || pass != "":
		if user == "" || pass == "" {
			return nil, sdk.Errorf(sdk.CodeInvalidRequest, "settings %q and %q go together", settingUsername, settingPassword)
		}
		enc := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
		header.Set("Authorization", "Basic "+enc)
		secrets, kind = []string{pass, enc, "Basic " + enc}, "basic"
	}
	hintURL := settings[settingHintURL]
	if hintURL != "" && !absoluteURL(hintURL) {
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "setting %q must be an absolute http(s) URL", settingHintURL)
	}
	refresh := defaultFeedRefresh
	if v := settings[settingFeedRefresh]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < minFeedRefresh {
			return nil, sdk.Errorf(sdk.CodeInvalidRequest, "setting %q must be a duration of at least %s (e.g. 1h)", settingFeedRefresh, minFeedRefresh)
		}
		refresh = d
	}
	in := &instance{
		name:          name,
		feed:          feed,
		allowInsecure: settings[sdk.SettingAllowInsecureHTTP] == "true",
		authKind:      kind,
		authHosts:     map[string]bool{originHost(feed): true},
		hint:          settings[settingHint],
		hintURL:       hintURL,
		refresh:       refresh,
		placed:        newPlacedLicences(),
	}
	for _, h := range strings.Split(settings[settingAuthHosts], ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if strings.ContainsAny(h, "/?#@ ") {
			return nil, sdk.Errorf(sdk.CodeInvalidRequest, "setting %q must list hosts (host or host:port), comma-separated", settingAuthHosts)
		}
		in.authHosts[originHost(&url.URL{Scheme: feed.Scheme, Host: h})] = true
	}
	in.open = &sdk.Exchange{
		Name:    "the ODL distributor",
		Client:  client,
		MaxBody: sdk.MaxBodyBytes(settings),
		Secrets: secrets,
		Errors:  errorTable,
		Now:     func() time.Time { return p.now() },
	}
	auth := *in.open
	auth.Header = header
	in.auth = &auth
	ctx, stop := context.WithCancel(context.Background())
	in.stop = stop
	in.index = newIndex(ctx)
	return in, nil
}

// close ends the instance's background work (a feed read in progress).
func (in *instance) close() { in.stop() }

// at is the exchange and request for method on target: with the
// credentials when target is on one of authHosts (over the feed's scheme),
// without them anywhere else, so that a feed's link cannot send them to a
// stranger. errs replaces the error table (nil: the instance's).
func (in *instance) at(target *url.URL, method, accept string, errs *sdk.ErrorTable) (*sdk.Exchange, sdk.Request) {
	x := *in.open
	if target.Scheme == in.feed.Scheme && in.authHosts[originHost(target)] {
		x = *in.auth
	}
	if errs != nil {
		x.Errors = *errs
	}
	x.Base = &url.URL{Scheme: target.Scheme, Host: target.Host, RawQuery: target.RawQuery}
	return &x, sdk.Request{Method: method, Path: target.EscapedPath(), Header: http.Header{"Accept": {accept + ", application/json;q=0.9, */*;q=0.1"}}}
}

// get GETs target and returns the 2xx answer, or the unified error.
func (in *instance) get(ctx context.Context, target *url.URL, accept string, errs *sdk.ErrorTable) (sdk.Answer, *sdk.Error) {
	return in.send(ctx, target, http.MethodGet, accept, errs)
}

// send makes one request to target with the exchange of at.
func (in *instance) send(ctx context.Context, target *url.URL, method, accept string, errs *sdk.ErrorTable) (sdk.Answer, *sdk.Error) {
	x, r := in.at(target, method, accept, errs)
	a, err := x.Do(ctx, r)
	if err != nil {
		return a, sdk.AsError(err)
	}
	return a, nil
}

// link checks a URL the distributor gave (a feed link, an LSD link)
// against the transport policy: absolute, https unless the instance allows
// plain http, no user info. The URL itself never goes into the message: it
// may carry a token.
func (in *instance) link(ref string, base *url.URL) (*url.URL, bool) {
	u, err := url.Parse(ref)
	if err != nil {
		return nil, false
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	switch {
	case u.Host == "" || u.User != nil:
		return nil, false
	case u.Scheme == "https":
	case u.Scheme == "http" && in.allowInsecure:
	default:
		return nil, false
	}
	return u, true
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

// absoluteURL reports whether s is an absolute http(s) URL.
func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
