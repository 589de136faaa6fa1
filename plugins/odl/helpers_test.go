package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/internal/testclock"
	"github.com/lendgate/lendgate/internal/testhttp"
	"github.com/lendgate/lendgate/plugins/odl/odlsim"
	"github.com/lendgate/lendgate/sdk"
)

// Tests in this package are not parallel: one of them swaps hclog's
// process-wide default logger.

const (
	testInstance = "odl-test"
	testPatron   = "0123456789abcdef0123456789abcdef"
	testNotify   = "https://lendgate.example/v1/notifications/odl-test/tok"
)

// start is where every test's clock starts.
var start = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// env is a provider configured against a simulator, both on one clock.
type env struct {
	p        *provider
	sim      *odlsim.Sim
	srv      *httptest.Server
	clock    *testclock.Clock
	settings map[string]string
}

func newEnv(t *testing.T, opts ...odlsim.Option) *env {
	t.Helper()
	clk := testclock.New(start)
	sim := odlsim.New(append([]odlsim.Option{odlsim.WithClock(clk.Now)}, opts...)...)
	t.Cleanup(sim.Close)
	srv := testhttp.Serve(t, sim)
	p := newProvider()
	p.log = hclog.NewNullLogger()
	p.now = clk.Now
	e := &env{p: p, sim: sim, srv: srv, clock: clk, settings: map[string]string{
		settingFeedURL:               sim.FeedURL(srv.URL),
		settingUsername:              odlsim.DefaultUsername,
		settingPassword:              odlsim.DefaultPassword,
		settingHint:                  "Your library card PIN",
		settingHintURL:               "https://library.example/pin",
		sdk.SettingAllowInsecureHTTP: "true",
	}}
	e.configure(t, nil)
	t.Cleanup(func() {
		if in, err := p.instances.Get(testInstance); err == nil {
			in.close()
		}
	})
	return e
}

// configure (re)configures the test instance with e.settings changed by
// override (an empty value deletes the key).
func (e *env) configure(t *testing.T, override map[string]string) {
	t.Helper()
	if err := e.p.Configure(context.Background(), testInstance, e.with(override)); err != nil {
		t.Fatalf("Configure: %v", err)
	}
}

func (e *env) with(override map[string]string) map[string]string {
	s := make(map[string]string, len(e.settings))
	for k, v := range e.settings {
		s[k] = v
	}
	for k, v := range override {
		if v == "" {
			delete(s, k)
		} else {
			s[k] = v
		}
	}
	return s
}

// checkout is a valid checkout of item.
func (e *env) checkout(loanID, item string) sdk.CheckoutRequest {
	return sdk.CheckoutRequest{Instance: testInstance, LoanID: loanID, Item: item, Patron: testPatron, Days: 14, NotifyURL: testNotify}
}

// lend makes a checkout that must succeed.
func (e *env) lend(t *testing.T, loanID, item string) (sdk.CheckoutRequest, sdk.Loan) {
	t.Helper()
	r := e.checkout(loanID, item)
	l, err := e.p.Checkout(context.Background(), r)
	if err != nil {
		t.Fatalf("checkout %s of %s: %v", loanID, item, err)
	}
	return r, l
}

// loanRef is the host's record of a loan the provider made.
func loanRef(r sdk.CheckoutRequest, l sdk.Loan) sdk.LoanRef {
	return sdk.LoanRef{ID: r.LoanID, Item: r.Item, Patron: r.Patron, Format: l.Format,
		ExpiresAt: l.ExpiresAt, ProviderRef: l.ProviderRef, Options: r.Options}
}

// wantError checks err's code and provider code ("" any).
func wantError(t *testing.T, err error, code sdk.Code, providerCode string) *sdk.Error {
	t.Helper()
	var e *sdk.Error
	if !errors.As(err, &e) {
		t.Fatalf("want *sdk.Error %s, got %v", code, err)
	}
	if e.Code != code || (providerCode != "" && e.ProviderCode != providerCode) {
		t.Fatalf("got %s/%q (%s), want %s/%q", e.Code, e.ProviderCode, e.Message, code, providerCode)
	}
	return e
}

// requestsTo are the simulator's recorded requests to endpoint.
func (e *env) requestsTo(ep odlsim.Endpoint) []odlsim.Request {
	var out []odlsim.Request
	for _, r := range e.sim.Requests() {
		if r.Endpoint == ep {
			out = append(out, r)
		}
	}
	return out
}

// cannedInstance is an instance whose every request gets the one canned
// answer, through the connector's real exchange.
func cannedInstance(status int, header http.Header, body []byte) *instance {
	p := newProvider()
	p.log = hclog.NewNullLogger()
	p.now = func() time.Time { return start }
	in, err := p.newInstance("canned", map[string]string{settingFeedURL: "https://odl.test/feed",
		settingToken: "canned-token"}, testhttp.Answering(status, header, body))
	if err != nil {
		panic(err)
	}
	return in
}

// cannedCheckout sends a checkout POST to a distributor that answers
// status, header and body, and returns the unified error (nil: success).
func cannedCheckout(status int, header http.Header, body []byte) *sdk.Error {
	in := cannedInstance(status, header, body)
	defer in.close()
	u, _ := url.Parse("https://odl.test/checkout?id=l&checkout_id=c&patron_id=p")
	_, e := in.send(context.Background(), u, http.MethodPost, typeLSD, nil)
	return e
}

// lines are a capture's log lines containing s.
func lines(log, s string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
