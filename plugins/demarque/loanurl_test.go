package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
	"github.com/lendgate/lendgate/sdk"
)

// counting is a server outside the warehouse's origin that counts the calls
// it gets and answers like the warehouse would.
func counting(t *testing.T, answer string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(answer))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestLoanURLOnlyOnTheWarehouseOrigin checks that an API caller cannot make
// the plugin POST a patron's pseudonym to an address of its choosing: a
// loan_url outside base_url's origin (and loan_hosts) is refused before any
// call, at checkout and at fulfillment.
func TestLoanURLOnlyOnTheWarehouseOrigin(t *testing.T) {
	e := newEnv(t)
	other, calls := counting(t, `{"url":"https://evil.example/x"}`)
	simHost := strings.TrimPrefix(e.srv.URL, "http://")
	_, simPort, _ := strings.Cut(simHost, ":")
	for name, loanURL := range map[string]string{
		"another host":            other.URL + "/loans/" + demarquesim.ISBNAvailable,
		"same host, other port":   "http://127.0.0.1:1/loans/" + demarquesim.ISBNAvailable,
		"localhost for 127.0.0.1": "http://localhost:" + simPort + "/loans/" + demarquesim.ISBNAvailable,
		"credentials in it":       "http://user:pw@" + simHost + "/loans/" + demarquesim.ISBNAvailable,
	} {
		t.Run(name, func(t *testing.T) {
			r := e.checkout("ln_" + strings.ReplaceAll(name, " ", "_"))
			r.Options[optLoanURL] = loanURL
			_, err := e.p.Checkout(context.Background(), r)
			wantError(t, err, sdk.CodeInvalidRequest, "", "epub")
			ref := sdk.LoanRef{ID: "ln_f", Patron: r.Patron, Format: "epub", ProviderRef: map[string]string{refLoanURL: loanURL, refTransaction: "ln_f", refBorrower: r.Patron}}
			_, err = e.p.Fulfill(context.Background(), sdk.FulfillRequest{Instance: testInstance, Loan: ref})
			wantError(t, err, sdk.CodeInvalidRequest, "", "epub")
		})
	}
	if calls.Load() != 0 || e.sim.Calls() != 0 {
		t.Fatalf("refused loan_urls were called: %d outside, %d at the warehouse", calls.Load(), e.sim.Calls())
	}
	// The warehouse's own origin lends, with or without the default port.
	if _, err := e.p.Checkout(context.Background(), e.checkout("ln_ok")); err != nil {
		t.Fatalf("loan_url on base_url's origin: %v", err)
	}
}

// TestLoanHostsSetting checks that loan_hosts adds origins, and only those.
func TestLoanHostsSetting(t *testing.T) {
	e := newEnv(t)
	extra, calls := counting(t, `{"url":"https://warehouse.example/read/1"}`)
	r := e.checkout("ln_x")
	r.Options[optLoanURL] = extra.URL + "/loans/" + demarquesim.ISBNAvailable
	if _, err := e.p.Checkout(context.Background(), r); sdk.CodeOf(err) != sdk.CodeInvalidRequest {
		t.Fatalf("before loan_hosts: %v, want invalid_request", err)
	}
	e.configure(t, map[string]string{settingLoanHosts: "cdn.example, " + strings.TrimPrefix(extra.URL, "http://")})
	if _, err := e.p.Checkout(context.Background(), r); err != nil || calls.Load() != 1 {
		t.Fatalf("with loan_hosts: %v, %d calls", err, calls.Load())
	}
	if err := e.p.Configure(context.Background(), "bad", map[string]string{
		settingBaseURL: e.srv.URL, settingOrganisation: "1", settingUsername: "u", settingPassword: "p",
		sdk.SettingAllowInsecureHTTP: "true", settingLoanHosts: "https://x.example/path",
	}); sdk.CodeOf(err) != sdk.CodeInvalidRequest {
		t.Fatalf("loan_hosts with a URL: %v, want invalid_request", err)
	}
}

// TestNoRedirectToAnotherOrigin checks that the plugin does not follow the
// warehouse's redirect to another origin: the form never leaves, and the
// answer is a provider_error.
func TestNoRedirectToAnotherOrigin(t *testing.T) {
	other, calls := counting(t, `{"url":"https://evil.example/x"}`)
	warehouse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(warehouse.Close)
	err := checkoutAt(t, warehouse.URL, "ln_r")
	wantError(t, err, sdk.CodeProviderError, "HTTP 307", "epub")
	if calls.Load() != 0 {
		t.Fatalf("the redirect to another origin was followed")
	}
}

// checkoutAt checks out loan id through a provider whose base_url and
// loan_url are on the warehouse at base.
func checkoutAt(t *testing.T, base, id string) error {
	t.Helper()
	e := newEnv(t)
	e.settings[settingBaseURL] = base
	e.configure(t, nil)
	r := e.checkout(id)
	r.Options[optLoanURL] = base + "/loans/" + demarquesim.ISBNAvailable
	_, err := e.p.Checkout(context.Background(), r)
	return err
}

// TestAnswerBodyNotReflected checks that a warehouse's error body reaches
// the caller at most as a short token in provider_code.
func TestAnswerBodyNotReflected(t *testing.T) {
	const payload = `<script>alert(1)</script> internal detail 10.0.0.7`
	warehouse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"error":"` + payload + `","message":"` + payload + `"}`))
	}))
	t.Cleanup(warehouse.Close)
	err := checkoutAt(t, warehouse.URL, "ln_b")
	got := wantError(t, err, sdk.CodeProviderError, "HTTP 500", "epub")
	if strings.Contains(got.Message, "script") || strings.Contains(got.Message, "10.0.0.7") {
		t.Fatalf("the answer body is reflected: %q", got.Message)
	}
}
