package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"example.com/acme-lending/acmesim"
	"github.com/lendgate/lendgate/sdk"
)

const instance = "acme-test"

// newTestProvider is a provider configured against a fresh simulator.
func newTestProvider(t *testing.T) (*provider, *acmesim.Sim, map[string]string) {
	t.Helper()
	sim := acmesim.New()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	settings := map[string]string{"base_url": srv.URL, "api_key": acmesim.APIKey, sdk.SettingAllowInsecureHTTP: "true"}
	p := newProvider()
	if err := p.Configure(context.Background(), instance, settings); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return p, sim, settings
}

func TestCheckoutAndFulfill(t *testing.T) {
	p, _, _ := newTestProvider(t)
	ctx := context.Background()
	loan, err := p.Checkout(ctx, sdk.CheckoutRequest{Instance: instance, LoanID: "ln_1", Item: acmesim.ISBNAvailable, Patron: "reader-1", Days: 7})
	if err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	if len(loan.Links) != 1 || loan.ProviderRef[refLoanID] == "" || loan.ExpiresAt.Before(time.Now().Add(6*24*time.Hour)) {
		t.Fatalf("Checkout answered %+v", loan)
	}
	f, err := p.Fulfill(ctx, sdk.FulfillRequest{Instance: instance, Loan: sdk.LoanRef{ID: "ln_1", ProviderRef: loan.ProviderRef}})
	if err != nil {
		t.Fatalf("Fulfill: %v", err)
	}
	if len(f.Links) != 1 || f.Links[0].Href == loan.Links[0].Href {
		t.Fatalf("Fulfill answered %+v, want one fresh link", f)
	}
	resp, err := http.Get(f.Links[0].Href)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the fresh link answers %s", resp.Status)
	}
}

func TestReturn(t *testing.T) {
	p, sim, _ := newTestProvider(t)
	ctx := context.Background()
	loan, err := p.Checkout(ctx, sdk.CheckoutRequest{Instance: instance, LoanID: "ln_1", Item: acmesim.ISBNAvailable, Patron: "reader-1"})
	if err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	ref := sdk.LoanRef{ID: "ln_1", Format: "epub", ProviderRef: loan.ProviderRef}
	if _, err := p.Return(ctx, sdk.ReturnRequest{Instance: instance, Loan: ref}); err != nil {
		t.Fatalf("Return: %v", err)
	}
	if !sim.Returned(loan.ProviderRef[refLoanID]) {
		t.Fatal("Acme did not record the return")
	}
	if _, err := p.Return(ctx, sdk.ReturnRequest{Instance: instance, Loan: ref}); sdk.CodeOf(err) != sdk.CodeLoanNotFound {
		t.Fatalf("a second return: want loan_not_found, got %v", err)
	}
}

// TestErrors drives every row of errorCodes through the simulator.
func TestErrors(t *testing.T) {
	tests := []struct {
		name         string
		item, reader string
		faults       acmesim.Faults
		apiKey       string
		fulfill      string // Acme loan id to fulfill instead of a checkout
		code         sdk.Code
		providerCode string
		retryAfter   time.Duration
		scope        sdk.Scope
	}{
		{name: "not in catalogue", item: acmesim.ISBNUnknown, code: sdk.CodeItemNotFound, providerCode: "NOT_IN_CATALOGUE"},
		{name: "no copies", item: acmesim.ISBNNoCopies, code: sdk.CodeNotAvailable, providerCode: "NO_COPIES"},
		{name: "reader limit", reader: acmesim.ReaderAtLimit, code: sdk.CodeLimitReached, providerCode: "READER_LIMIT"},
		{name: "wrong key", apiKey: "wrong", code: sdk.CodeProviderCredentials, providerCode: "BAD_KEY"},
		{name: "no reader", reader: "-", code: sdk.CodeInvalidRequest, providerCode: "BAD_REQUEST"},
		{name: "maintenance", faults: acmesim.Faults{Maintenance: true, RetryAfter: 30 * time.Second},
			code: sdk.CodeTryLater, providerCode: "MAINTENANCE", retryAfter: 30 * time.Second},
		{name: "rate limited pauses the instance", faults: acmesim.Faults{RateLimited: true, RetryAfter: 20 * time.Second},
			code: sdk.CodeTryLater, providerCode: "SLOW_DOWN", retryAfter: 20 * time.Second, scope: sdk.ScopeInstance},
		{name: "not released pauses the request", item: acmesim.ISBNNotReleased,
			code: sdk.CodeTryLater, providerCode: "NOT_RELEASED", retryAfter: acmesim.NotReleasedFor, scope: sdk.ScopeRequest},
		{name: "unknown loan", fulfill: "AC-999999", code: sdk.CodeLoanNotFound, providerCode: "NO_SUCH_LOAN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, sim, settings := newTestProvider(t)
			if tc.apiKey != "" {
				settings["api_key"] = tc.apiKey
				if err := p.Configure(context.Background(), instance, settings); err != nil {
					t.Fatal(err)
				}
			}
			sim.SetFaults(tc.faults)
			r := sdk.CheckoutRequest{Instance: instance, LoanID: "ln_1", Item: acmesim.ISBNAvailable, Patron: "reader-1"}
			if tc.item != "" {
				r.Item = tc.item
			}
			switch tc.reader {
			case "":
			case "-":
				r.Patron = ""
			default:
				r.Patron = tc.reader
			}
			var err error
			if tc.fulfill != "" {
				_, err = p.Fulfill(context.Background(), sdk.FulfillRequest{Instance: instance,
					Loan: sdk.LoanRef{ID: "ln_1", ProviderRef: map[string]string{refLoanID: tc.fulfill}}})
			} else {
				_, err = p.Checkout(context.Background(), r)
			}
			var e *sdk.Error
			if !errors.As(err, &e) {
				t.Fatalf("want *sdk.Error, got %v", err)
			}
			if e.Code != tc.code || e.ProviderCode != tc.providerCode || e.RetryAfter != tc.retryAfter || e.Scope != tc.scope {
				t.Fatalf("got %s/%s/%s/scope %d, want %s/%s/%s/scope %d", e.Code, e.ProviderCode, e.RetryAfter, e.Scope,
					tc.code, tc.providerCode, tc.retryAfter, tc.scope)
			}
		})
	}
}

func TestUnknownAnswers(t *testing.T) {
	for _, tc := range []struct {
		status       int
		body         string
		providerCode string
	}{
		{http.StatusInternalServerError, `{"error":"OOPS"}`, "OOPS"},
		{http.StatusBadGateway, `<html>gateway</html>`, "HTTP 502"},
	} {
		e := (&sdk.Exchange{Name: "Acme", Errors: acmeErrors}).Error(tc.status, http.Header{}, []byte(tc.body))
		if e.Code != sdk.CodeProviderError || e.ProviderCode != tc.providerCode {
			t.Errorf("%d %s: got %s/%s, want provider_error/%s", tc.status, tc.body, e.Code, e.ProviderCode, tc.providerCode)
		}
	}
}

func TestConfigure(t *testing.T) {
	for name, settings := range map[string]map[string]string{
		"no api_key":    {"base_url": "https://acme.example"},
		"no base_url":   {"api_key": "k"},
		"plain http":    {"base_url": "http://acme.example", "api_key": "k"},
		"not a ftp URL": {"base_url": "ftp://acme.example", "api_key": "k"},
	} {
		err := newProvider().Configure(context.Background(), instance, settings)
		if sdk.CodeOf(err) != sdk.CodeInvalidRequest {
			t.Errorf("%s: want invalid_request, got %v", name, err)
		}
	}
	p := newProvider()
	if _, err := p.Checkout(context.Background(), sdk.CheckoutRequest{Instance: "nobody"}); sdk.CodeOf(err) != sdk.CodeProviderCredentials {
		t.Errorf("unconfigured instance: want provider_credentials, got %v", err)
	}
}
