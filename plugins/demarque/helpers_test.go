package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/internal/testclock"
	"github.com/lendgate/lendgate/internal/testhttp"
	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
	"github.com/lendgate/lendgate/sdk"
)

// Tests in this package are not parallel: one of them swaps hclog's
// process-wide default logger.

const testInstance = "demarque-test"

// env is a provider configured against a simulator.
type env struct {
	p        *provider
	sim      *demarquesim.Sim
	srv      *httptest.Server
	clock    *testclock.Clock
	settings map[string]string
}

func newEnv(t *testing.T, opts ...demarquesim.Option) *env {
	t.Helper()
	clk := testclock.New(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	sim := demarquesim.New(append([]demarquesim.Option{demarquesim.WithClock(clk.Now)}, opts...)...)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	p := newProvider()
	p.log = hclog.NewNullLogger()
	p.now = clk.Now
	e := &env{p: p, sim: sim, srv: srv, clock: clk, settings: map[string]string{
		settingBaseURL:               srv.URL,
		settingOrganisation:          demarquesim.DefaultOrganisation,
		settingUsername:              demarquesim.DefaultUsername,
		settingPassword:              demarquesim.DefaultPassword,
		sdk.SettingAllowInsecureHTTP: "true",
	}}
	e.configure(t, nil)
	return e
}

// configure (re)configures the test instance with e.settings changed by
// override (an empty value deletes the key).
func (e *env) configure(t *testing.T, override map[string]string) {
	t.Helper()
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
	if err := e.p.Configure(context.Background(), testInstance, s); err != nil {
		t.Fatalf("Configure: %v", err)
	}
}

func (e *env) loanURL(isbn string) string { return e.sim.LoanURL(e.srv.URL, isbn) }

// checkout is a valid checkout request for the simulator's first
// publication.
func (e *env) checkout(loanID string) sdk.CheckoutRequest {
	return sdk.CheckoutRequest{
		Instance: testInstance,
		LoanID:   loanID,
		Item:     demarquesim.ISBNAvailable,
		Patron:   "0123456789abcdef0123456789abcdef",
		Format:   "epub",
		Days:     21,
		Options:  map[string]string{optLoanURL: e.loanURL(demarquesim.ISBNAvailable)},
	}
}

// download is a valid download request.
func (e *env) download() sdk.DownloadRequest {
	return sdk.DownloadRequest{
		Instance:    testInstance,
		Customer:    "cust_42",
		Transaction: "basket-7",
		Item:        demarquesim.ISBNSecond,
		Format:      "pdf",
		PatronName:  "Jane Doe",
	}
}

// loanRef is the host's record of a loan the provider made.
func loanRef(r sdk.CheckoutRequest, l sdk.Loan) sdk.LoanRef {
	return sdk.LoanRef{
		ID: r.LoanID, Item: r.Item, Patron: r.Patron, Format: l.Format,
		ExpiresAt: l.ExpiresAt, ProviderRef: l.ProviderRef, Options: r.Options,
	}
}

// wantError checks err's code and provider code, and that its message names
// the format (when one is given).
func wantError(t *testing.T, err error, code sdk.Code, providerCode, format string) *sdk.Error {
	t.Helper()
	var e *sdk.Error
	if !errors.As(err, &e) {
		t.Fatalf("want *sdk.Error %s, got %v", code, err)
	}
	if e.Code != code || e.ProviderCode != providerCode {
		t.Fatalf("got %s/%q (%s), want %s/%q", e.Code, e.ProviderCode, e.Message, code, providerCode)
	}
	if format != "" && !strings.Contains(e.Message, format) {
		t.Fatalf("message %q does not name the format %s", e.Message, format)
	}
	return e
}

// parseAnswer asks for a download from a warehouse that answers status,
// header and body, through the connector's real exchange (its error table,
// Retry-After read against now), and returns the link or the error.
func parseAnswer(status int, header http.Header, body []byte, now time.Time) (string, *sdk.Error) {
	p := newProvider()
	p.log = hclog.NewNullLogger()
	p.now = func() time.Time { return now }
	settings := map[string]string{
		settingBaseURL:      "https://warehouse.test",
		settingOrganisation: demarquesim.DefaultOrganisation,
		settingUsername:     demarquesim.DefaultUsername,
		settingPassword:     demarquesim.DefaultPassword,
	}
	in, err := p.newInstance("canned", settings, testhttp.Answering(status, header, body))
	if err != nil {
		panic(err)
	}
	p.instances.Set("canned", in)
	f, err := p.Download(context.Background(), sdk.DownloadRequest{Instance: "canned", Customer: "cust_42",
		Transaction: "basket-7", Item: demarquesim.ISBNSecond, Format: "pdf", PatronName: "Jane Doe"})
	if err != nil {
		return "", sdk.AsError(err)
	}
	return f.Links[0].Href, nil
}
