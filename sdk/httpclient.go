package sdk

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Settings keys the host adds to every instance's settings, so that plugins
// and HTTPClient can honour them without parsing host config.
const (
	// SettingAllowInsecureHTTP is "true" when the instance allows a plain
	// http:// base URL (simulators only).
	SettingAllowInsecureHTTP = "allow_insecure_http"
	// SettingMaxBodyBytes caps a distributor's answer (default DefaultMaxBodyBytes).
	SettingMaxBodyBytes = "max_body_bytes"
)

// DefaultMaxBodyBytes is the default cap on a distributor's answer body.
const DefaultMaxBodyBytes = 4 << 20

// MaxBodyBytes is the cap on a distributor's answer body that an instance's
// settings ask for (SettingMaxBodyBytes), else DefaultMaxBodyBytes: give it
// to both HTTPClient and Exchange.MaxBody.
func MaxBodyBytes(settings map[string]string) int64 {
	if v, err := strconv.ParseInt(settings[SettingMaxBodyBytes], 10, 64); err == nil && v > 0 {
		return v
	}
	return DefaultMaxBodyBytes
}

// ErrBodyTooLarge is returned by reads of a distributor's answer past the cap.
var ErrBodyTooLarge = errors.New("distributor answer exceeds the body size cap")

// TLSConfig is the outbound TLS policy: TLS 1.2 or newer, and for TLS 1.2 only
// ECDHE key exchange with AEAD ciphers (TLS 1.3 suites are all AEAD).
func TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}

// HTTPClient returns the outbound client every connector should use: the TLS
// policy of TLSConfig, dial/handshake/header timeouts, a cap on answer bodies
// (settings["max_body_bytes"], default 4 MiB) and one debug log line per
// request with credentials, query values and fragments removed from the URL.
// It sets no overall timeout: the host's deadline rides each request's context.
func HTTPClient(settings map[string]string) *http.Client {
	limit := MaxBodyBytes(settings)
	base := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       TLSConfig(),
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: &cappedTransport{next: base, limit: limit, log: hclog.Default().Named("http")},
		// Redirects from a distributor are followed, but never to plain http
		// from https.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return errors.New("refusing redirect from https to " + req.URL.Scheme)
			}
			return nil
		},
	}
}

type cappedTransport struct {
	next  http.RoundTripper
	limit int64
	log   hclog.Logger
}

// debug logs one request line: with Serve's logger inside a served call
// (Logger), where the host reads it; outside one (a connector's unit test)
// with the process's hclog default, as the transport was built with.
func (t *cappedTransport) debug(ctx context.Context, msg string, args ...any) {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		l.Debug(msg, args...)
		return
	}
	t.log.Debug(msg, args...)
}

func (t *cappedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		t.debug(req.Context(), "request failed", "method", req.Method, "url", RedactURL(req.URL), "duration", time.Since(start), "error", redactErr(err, req.URL))
		return nil, err
	}
	t.debug(req.Context(), "request", "method", req.Method, "url", RedactURL(req.URL), "status", resp.StatusCode, "duration", time.Since(start))
	resp.Body = &cappedBody{rc: resp.Body, left: t.limit}
	return resp, nil
}

type cappedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe for one more byte: only a body that really goes past the cap
		// is an error.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, ErrBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// RedactURL renders u without user info, query values or fragment, so that it
// can be logged: query keys stay, values become "redacted".
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	c.Fragment = ""
	if c.RawQuery != "" {
		q := c.Query()
		for k := range q {
			q[k] = []string{"redacted"}
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// redactErr removes the request URL (which url.Error embeds whole) from err's
// text.
func redactErr(err error, u *url.URL) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Sprintf("%s %s: %v", ue.Op, RedactURL(u), ue.Err)
	}
	return strings.ReplaceAll(err.Error(), u.String(), RedactURL(u))
}

// BaseURL parses settings[key] as a distributor's base URL and enforces the
// transport policy: https only, unless the instance allows insecure http.
func BaseURL(settings map[string]string, key string) (*url.URL, error) {
	raw := settings[key]
	if raw == "" {
		return nil, Errorf(CodeInvalidRequest, "setting %q is required", key)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, Errorf(CodeInvalidRequest, "setting %q is not an absolute URL", key)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if settings[SettingAllowInsecureHTTP] != "true" {
			return nil, Errorf(CodeInvalidRequest, "setting %q: plain http is refused (set allow_insecure_http for a simulator)", key)
		}
	default:
		return nil, Errorf(CodeInvalidRequest, "setting %q: scheme %q is not allowed", key, u.Scheme)
	}
	return u, nil
}

// TransportError turns a failed outbound request into the unified code: a
// deadline becomes CodeProviderTimeout, anything else CodeProviderError. The
// message says what kind of failure it was, never where: neither the URL nor
// the address a dial error names. Its Outcome is left unspecified, which the
// host reads as OutcomeUnknown (the request may have reached the
// distributor); a connector that knows nothing was sent (it failed before
// it had a connection, see net/http/httptrace's GotConn) says so with
// WithOutcome(OutcomeNotSent), as Exchange does.
func TransportError(ctx context.Context, err error) *Error {
	return transportError(ctx, err, "the distributor")
}

// RetryAfter parses a Retry-After header (seconds or HTTP date) relative to
// now; 0 when absent or unreadable. The result is at most MaxRetryAfter,
// however large the header's number (api.md §7).
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseUint(v, 10, 64); err == nil {
		if s >= uint64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		return time.Duration(s) * time.Second
	} else if errors.Is(err, strconv.ErrRange) {
		return MaxRetryAfter // all digits, too many of them
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return BoundRetryAfter(t.Sub(now))
	}
	return 0
}

// MaxRetryAfter bounds every pause a distributor or a plugin can ask for.
const MaxRetryAfter = 24 * time.Hour

// BoundRetryAfter returns d within [0, MaxRetryAfter].
func BoundRetryAfter(d time.Duration) time.Duration {
	return min(max(d, 0), MaxRetryAfter)
}
