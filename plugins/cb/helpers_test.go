package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/internal/testhttp"
	"github.com/lendgate/lendgate/internal/testlog"
	"github.com/lendgate/lendgate/plugins/cb/cbsim"
	"github.com/lendgate/lendgate/sdk"
)

// Credentials of the test instance, odd enough to be found if they leak.
const (
	testUsername = "library-t"
	testPassword = "inst-pass-7Qx"
)

// testNow is the fake clock's time: 12:00 in Amsterdam on the day summer
// time starts, so next midnight is 12 hours away (a 23-hour day).
var testNow = time.Date(2026, 3, 29, 10, 0, 0, 0, time.UTC)

// newTestProvider returns a provider with the fake clock and a Trace-level
// logger writing to the returned buffer.
func newTestProvider() (*provider, *testlog.Buffer) {
	logs := &testlog.Buffer{}
	p := newProvider()
	p.log = hclog.New(&hclog.LoggerOptions{Name: "cb", Level: hclog.Trace, Output: logs})
	p.now = func() time.Time { return testNow }
	return p, logs
}

type fixture struct {
	p    *provider
	sim  *cbsim.Sim
	logs *testlog.Buffer
	ctx  context.Context
}

// setup serves a simulator and configures instance "cb-test" against it.
func setup(t *testing.T, opts ...cbsim.Option) fixture {
	t.Helper()
	sim := cbsim.New(append([]cbsim.Option{cbsim.WithCredentials(testUsername, testPassword)}, opts...)...)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	p, logs := newTestProvider()
	ctx := context.Background()
	if err := p.Configure(ctx, "cb-test", settings(srv.URL)); err != nil {
		t.Fatal(err)
	}
	return fixture{p: p, sim: sim, logs: logs, ctx: ctx}
}

func settings(serverURL string) map[string]string {
	return map[string]string{
		settingBaseURL:               cbsim.BaseURL(serverURL),
		settingUsername:              testUsername,
		settingPassword:              testPassword,
		sdk.SettingAllowInsecureHTTP: "true",
	}
}

func checkout(item, loanID, patron string) sdk.CheckoutRequest {
	return sdk.CheckoutRequest{Instance: "cb-test", LoanID: loanID, Item: item, Patron: patron}
}

// wantCode fails unless err is an *sdk.Error with code and providerCode.
func wantCode(t *testing.T, err error, code sdk.Code, providerCode string) *sdk.Error {
	t.Helper()
	var e *sdk.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want an *sdk.Error %s (%s)", err, code, providerCode)
	}
	if e.Code != code || e.ProviderCode != providerCode {
		t.Fatalf("got %s (%s) %q, want %s (%s)", e.Code, e.ProviderCode, e.Message, code, providerCode)
	}
	return e
}

// answering configures instance "canned", whose CB answers every call with
// status, header and body, so that a test goes through the connector's real
// exchange and error table without a simulator.
func answering(p *provider, status int, header http.Header, body []byte) {
	s := map[string]string{settingBaseURL: "https://cb.test", settingUsername: testUsername, settingPassword: testPassword}
	in, err := p.newInstance("canned", s, testhttp.Answering(status, header, body))
	if err != nil {
		panic(err)
	}
	p.instances.Set("canned", in)
}

// cannedOrder places an order with an instance whose CB answers status,
// header and body.
func cannedOrder(p *provider, status int, header http.Header, body []byte) (sdk.Loan, error) {
	answering(p, status, header, body)
	r := checkout(cbsim.EANAvailable, "loan-canned", "p1")
	r.Instance = "canned"
	return p.Checkout(context.Background(), r)
}

// cannedAccess checks access with an instance whose CB answers status and
// body, for a patron with password.
func cannedAccess(p *provider, status int, body []byte, password string) (bool, error) {
	answering(p, status, nil, body)
	return p.CheckAccess(context.Background(), sdk.AccessRequest{Instance: "canned", Item: cbsim.EANAvailable, Patron: "p1", Password: password})
}
