package main

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/plugins/ehub/ehubsim"
	"github.com/lendgate/lendgate/sdk"
)

const testInstance = "ehub-test"

// fixture is a provider configured against a fresh simulator, with its log
// lines captured.
type fixture struct {
	p   *provider
	sim *ehubsim.Sim
	log *bytes.Buffer
	now time.Time
}

func newFixture(t *testing.T, apiKey string, opts ...ehubsim.Option) *fixture {
	t.Helper()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	sim := ehubsim.New(append([]ehubsim.Option{ehubsim.WithClock(func() time.Time { return now })}, opts...)...)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)

	var buf bytes.Buffer
	p := newProvider()
	p.log = hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Trace, JSONFormat: true})
	err := p.Configure(context.Background(), testInstance, map[string]string{
		"base_url":            srv.URL,
		"api_key":             apiKey,
		"allow_insecure_http": "true",
	})
	if err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return &fixture{p: p, sim: sim, log: &buf, now: now}
}

func (f *fixture) checkout(t *testing.T, item, patron, format string) (sdk.Loan, error) {
	t.Helper()
	return f.p.Checkout(context.Background(), sdk.CheckoutRequest{
		Instance: testInstance, LoanID: "ln_1", Item: item, Patron: patron, Format: format, Days: 21,
	})
}

func wantCode(t *testing.T, err error, code sdk.Code, providerCode string) {
	t.Helper()
	var e *sdk.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *sdk.Error %s", err, err, code)
	}
	if e.Code != code || e.ProviderCode != providerCode {
		t.Errorf("got %s/%q (%v), want %s/%q", e.Code, e.ProviderCode, e, code, providerCode)
	}
}

func TestDescribe(t *testing.T) {
	info, err := newProvider().Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "ehub" || info.Version != version || !info.Has(sdk.CapCheckout) || !info.Has(sdk.CapFulfill) ||
		info.Has(sdk.CapRenew) || len(info.Options) != 0 {
		t.Errorf("Describe: %+v", info)
	}
	if strings.Join(info.Formats, ",") != "ebook,audio-stream,audio-downloadable" {
		t.Errorf("formats %v", info.Formats)
	}
}

func TestConfigure(t *testing.T) {
	ok := map[string]string{"base_url": "https://ehub.example", "api_key": "k"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range ok {
			m[a] = b
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name     string
		settings map[string]string
		mention  string // "" for success
	}{
		{"https", ok, ""},
		{"no base_url", with("base_url", ""), "base_url"},
		{"no api_key", with("api_key", ""), "api_key"},
		{"plain http refused", with("base_url", "http://127.0.0.1:1"), "base_url"},
		{"api_key with newline", with("api_key", "k\nX-Evil: 1"), "api_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newProvider().Configure(context.Background(), "i", tt.settings)
			if tt.mention == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, sdk.CodeInvalidRequest, "")
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("%v does not name %s", err, tt.mention)
			}
			if strings.Contains(err.Error(), "X-Evil") {
				t.Errorf("%v echoes the api key", err)
			}
		})
	}
}

func TestUnconfiguredInstance(t *testing.T) {
	p := newProvider()
	ctx := context.Background()
	_, err := p.Checkout(ctx, sdk.CheckoutRequest{Instance: "nope", Item: "x", Patron: "p"})
	wantCode(t, err, sdk.CodeProviderCredentials, "")
	_, err = p.Fulfill(ctx, sdk.FulfillRequest{Instance: "nope"})
	wantCode(t, err, sdk.CodeProviderCredentials, "")
	wantCode(t, p.Health(ctx, "nope"), sdk.CodeProviderCredentials, "")
}

func TestHealthMakesNoCall(t *testing.T) {
	f := newFixture(t, ehubsim.DefaultAPIKey)
	if err := f.p.Health(context.Background(), testInstance); err != nil {
		t.Fatal(err)
	}
	if n := f.sim.Calls(); n != 0 {
		t.Errorf("Health made %d calls", n)
	}
}

func TestCheckoutMultiFormat(t *testing.T) {
	f := newFixture(t, ehubsim.DefaultAPIKey)
	loan, err := f.checkout(t, ehubsim.RecordMultiFormat, "pseudo-1", "")
	if err != nil {
		t.Fatal(err)
	}
	if loan.Format != "audio-downloadable" {
		t.Errorf("format %q, want the first by name", loan.Format)
	}
	if want := f.now.AddDate(0, 0, ehubsim.DefaultLoanDays); !loan.ExpiresAt.Equal(want) {
		t.Errorf("expires %v, want %v", loan.ExpiresAt, want)
	}
	id := loan.ProviderRef["checkout_id"]
	if co, ok := f.sim.Lookup(id); !ok || co.Patron != "pseudo-1" {
		t.Errorf("provider_ref %v does not name the sim's checkout (%+v)", loan.ProviderRef, co)
	}
	if len(loan.Links) != 12 {
		t.Fatalf("%d links, want 12: %+v", len(loan.Links), loan.Links)
	}
	// Sorted by format, content before supplements, eHUB's order within.
	first, last := loan.Links[0], loan.Links[11]
	if first.Format != "audio-downloadable" || first.Rel != "content" ||
		first.Href != "http:/localhost:16521/ep/api/v1/records/recordId_0/audio-downloadable/content_0" {
		t.Errorf("first link %+v", first)
	}
	if last.Format != "ebook" || last.Rel != "supplement" || last.Name != "supplement_1" ||
		last.Href != "http:/localhost:16521/ep/api/v1/records/recordId_0/ebook/supplement_1" {
		t.Errorf("last link %+v", last)
	}
	// Every one of the seed's hrefs is malformed: each is kept and logged.
	if n := strings.Count(f.log.String(), "not an absolute URL"); n != 12 {
		t.Errorf("%d warnings for 12 malformed links:\n%s", n, f.log)
	}
	if !strings.Contains(f.log.String(), `"@level":"warn"`) {
		t.Errorf("malformed links not logged at warn:\n%s", f.log)
	}
}

func TestCheckoutOneFormat(t *testing.T) {
	f := newFixture(t, ehubsim.DefaultAPIKey)
	loan, err := f.checkout(t, ehubsim.RecordMultiFormat, "p", "audio-stream")
	if err != nil {
		t.Fatal(err)
	}
	if loan.Format != "audio-stream" || len(loan.Links) != 4 {
		t.Errorf("loan %+v", loan)
	}
	if co, _ := f.sim.Lookup(loan.ProviderRef["checkout_id"]); co.FormatID != "audio-stream" {
		t.Errorf("formatId not sent: %+v", co)
	}
}

func TestCheckoutWellFormedLinksAreNotLogged(t *testing.T) {
	f := newFixture(t, ehubsim.DefaultAPIKey)
	loan, err := f.checkout(t, ehubsim.RecordEbook, "p", "")
	if err != nil {
		t.Fatal(err)
	}
	if loan.Format != "ebook" || len(loan.Links) != 2 || loan.Links[1].Name != "cover" {
		t.Errorf("loan %+v", loan)
	}
	if f.log.Len() != 0 {
		t.Errorf("unexpected log lines:\n%s", f.log)
	}
}

func TestCheckoutKeepsUnknownFormat(t *testing.T) {
	f := newFixture(t, ehubsim.DefaultAPIKey)
	loan, err := f.checkout(t, ehubsim.RecordUnknownFormat, "p", "")
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, l := range loan.Links {
		found = found || l.Format == ehubsim.FormatUnknown
	}
	if !found {
		t.Errorf("format %q dropped: %+v", ehubsim.FormatUnknown, loan.Links)
	}
}

func TestCheckoutKeepsMalformedHrefAndLogsWithoutQuery(t *testing.T) {
	f := newFixture(t, ehubsim.DefaultAPIKey)
	loan, err := f.checkout(t, ehubsim.RecordMalformedLink, "p", "")
	if err != nil {
		t.Fatal(err)
	}
	if loan.Links[0].Href != ehubsim.MalformedHref {
		t.Errorf("href %q, want verbatim %q", loan.Links[0].Href, ehubsim.MalformedHref)
	}
	log := f.log.String()
	if !strings.Contains(log, "not an absolute URL") || !strings.Contains(log, "not a url::%zz") {
		t.Errorf("malformed link not logged:\n%s", log)
	}
	if strings.Contains(log, "simulated-secret") {
		t.Errorf("query value logged:\n%s", log)
	}
}

func TestSecondCheckoutIsAlreadyOnLoan(t *testing.T) {
	f := newFixture(t, ehubsim.DefaultAPIKey)
	if _, err := f.checkout(t, ehubsim.RecordEbook, "p", ""); err != nil {
		t.Fatal(err)
	}
	_, err := f.checkout(t, ehubsim.RecordEbook, "p", "")
	wantCode(t, err, sdk.CodeAlreadyOnLoan, "ALREADY_ON_LOAN")
}

func TestCheckoutValidatesLocally(t *testing.T) {
	f := newFixture(t, ehubsim.DefaultAPIKey)
	for _, tc := range []struct{ item, patron, format string }{
		{"", "p", ""},
		{strings.Repeat("r", maxID+1), "p", ""},
		{"rec\x00ord", "p", ""},
		{"record", "", ""},
		{"record", "p\r\nX: y", ""},
		{"record", "p", "e\nbook"},
	} {
		_, err := f.checkout(t, tc.item, tc.patron, tc.format)
		wantCode(t, err, sdk.CodeInvalidRequest, "")
	}
	if n := f.sim.Calls(); n != 0 {
		t.Errorf("%d calls reached eHUB", n)
	}
}
