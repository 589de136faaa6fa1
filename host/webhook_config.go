package host

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/lendgate/lendgate/host/internal/logsafe"
	"github.com/lendgate/lendgate/sdk"
)

// eventTypes are the types the log holds (api.md §5 and loan.resolved):
// a plugin's other types become loan.notified (guard.go), and a webhook
// filter must match at least one of them, so a typo is an error rather
// than an endpoint that never hears anything.
var eventTypes = []string{
	sdk.EventLoanCreated, sdk.EventLoanRenewed, sdk.EventLoanReturned, sdk.EventLoanExpired,
	sdk.EventLoanRevoked, sdk.EventLoanNotified, sdk.EventLoanResolved,
}

// Bounds of a webhook secret's key, as Standard Webhooks recommends.
const (
	minWebhookKey = 24
	maxWebhookKey = 64
)

// webhookKey decodes a "whsec_<base64>" secret. Its errors never quote the
// secret.
func webhookKey(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return nil, errors.New(`must have the form "whsec_<base64>"`)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(b64)
	}
	if err != nil {
		return nil, errors.New(`must have the form "whsec_<base64>": the part after whsec_ is not base64`)
	}
	if len(key) < minWebhookKey || len(key) > maxWebhookKey {
		return nil, fmt.Errorf("must hold %d to %d bytes after whsec_ (it holds %d)", minWebhookKey, maxWebhookKey, len(key))
	}
	return key, nil
}

// Bounds of an endpoint's concurrency (config.md "webhooks").
const (
	defaultWebhookConcurrency = 8
	maxWebhookConcurrency     = 64
)

// webhookNamePattern is what an endpoint's configured name may be: it is a
// metric label and a log field, so a closed, short alphabet.
var webhookNamePattern = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// webhookEndpointName is entry i's name: the configured one, or
// "webhook-N" with N its 1-based position. It is what metrics, logs and
// the admin view show, never the URL (whose path may carry a receiver's
// token).
func webhookEndpointName(i int, c WebhookConfig) string {
	if c.Name != "" {
		return c.Name
	}
	return "webhook-" + strconv.Itoa(i+1)
}

// webhookConcurrency is an entry's deliveries in flight (validated).
func webhookConcurrency(c WebhookConfig) int {
	if c.Concurrency == 0 {
		return defaultWebhookConcurrency
	}
	return c.Concurrency
}

// webhookJournalKey is what the journal keeps an endpoint's delivery state
// under: its URL without user info, query or fragment (which may carry
// credentials). It is the key journals written before endpoints had names
// use, so they keep their cursor; it is never shown.
func webhookJournalKey(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// validateWebhooks checks the webhooks of a config; errors name the entry
// (webhooks[i].key) and never quote a secret or a URL.
func validateWebhooks(ws []WebhookConfig) error {
	keys, names := map[string]int{}, map[string]int{}
	for i, w := range ws {
		at := fmt.Sprintf("webhooks[%d]", i)
		if w.Name != "" && !webhookNamePattern.MatchString(w.Name) {
			return fmt.Errorf("%s.name %q must be 1 to 64 characters of a-z, 0-9 and -", at, logsafe.Clip(w.Name, 64))
		}
		name := webhookEndpointName(i, w)
		if j, dup := names[name]; dup {
			return fmt.Errorf("%s.name: webhooks[%d] is named %s too (names are unique; an entry without one is webhook-N by its position)", at, j, name)
		}
		names[name] = i
		if w.Concurrency < 0 || w.Concurrency > maxWebhookConcurrency {
			return fmt.Errorf("%s.concurrency must be between 1 and %d (absent: %d)", at, maxWebhookConcurrency, defaultWebhookConcurrency)
		}
		u, err := url.Parse(w.URL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return fmt.Errorf("%s.url must be an absolute https URL", at)
		}
		if u.Scheme == "http" && !w.AllowInsecureHTTP && !loopbackHost(u.Hostname()) {
			return fmt.Errorf("%s.url must be https (plain http only on the loopback, or with allow_insecure_http for a development receiver)", at)
		}
		key := webhookJournalKey(u)
		if j, dup := keys[key]; dup {
			return fmt.Errorf("%s.url: webhooks[%d] has the same URL (query aside; one entry per endpoint: list every event type it wants in events)", at, j)
		}
		keys[key] = i
		if _, err := webhookKey(w.Secret); err != nil {
			return fmt.Errorf("%s.secret %w", at, err)
		}
		if w.Events != nil && len(w.Events) == 0 {
			return fmt.Errorf("%s.events is empty: leave it out for every event", at)
		}
		for j, p := range w.Events {
			if err := checkEventPattern(p); err != nil {
				return fmt.Errorf("%s.events[%d]: %w", at, j, err)
			}
		}
	}
	return nil
}

func checkEventPattern(p string) error {
	if i := strings.IndexByte(p, '*'); i >= 0 && i != len(p)-1 {
		return fmt.Errorf("%q: * is allowed only at the end", p)
	}
	for _, t := range eventTypes {
		if eventMatches(p, t) {
			return nil
		}
	}
	return fmt.Errorf("%q matches no event type (%s)", p, strings.Join(eventTypes, ", "))
}

// eventMatches reports whether event type t matches pattern p: equal, or
// p ends in "*" and t starts with the rest of p.
func eventMatches(p, t string) bool {
	if prefix, ok := strings.CutSuffix(p, "*"); ok {
		return strings.HasPrefix(t, prefix)
	}
	return p == t
}

// eventFilter is an endpoint's events list; nil matches everything.
type eventFilter []string

func (f eventFilter) matches(t string) bool {
	if f == nil {
		return true
	}
	for _, p := range f {
		if eventMatches(p, t) {
			return true
		}
	}
	return false
}

// loopbackHost reports whether host names this machine: plain http to it
// crosses no network.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
