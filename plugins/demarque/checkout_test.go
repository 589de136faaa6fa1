package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
	"github.com/lendgate/lendgate/sdk"
)

func TestCheckout(t *testing.T) {
	e := newEnv(t)
	r := e.checkout("ln_01")
	r.Days = 14
	r.NotifyURL = "https://ils.example/v1/notifications/demarque-test/tok"
	r.Options[optMedium] = "streaming"
	r.Options[optLocalisation] = "off-site"
	r.Options[optDuration] = "3600"
	r.Options[optIPAddress] = "192.0.2.7"

	loan, err := e.p.Checkout(context.Background(), r)
	if err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	wantExpiry := e.clock.Now().Add(14 * 24 * time.Hour)
	if loan.Format != "epub" || !loan.ExpiresAt.Equal(wantExpiry) || len(loan.Links) != 1 {
		t.Fatalf("loan: %+v", loan)
	}
	if l := loan.Links[0]; l.Format != "epub" || l.Rel != "content" || !strings.HasPrefix(l.Href, e.srv.URL+"/content/") {
		t.Fatalf("link: %+v", l)
	}
	wantRef := map[string]string{refTransaction: "ln_01", refLoanURL: r.Options[optLoanURL], refBorrower: r.Patron}
	for k, v := range wantRef {
		if loan.ProviderRef[k] != v {
			t.Errorf("ProviderRef[%s] = %q, want %q", k, loan.ProviderRef[k], v)
		}
	}

	reqs := e.sim.Requests()
	if len(reqs) != 1 {
		t.Fatalf("requests: %d", len(reqs))
	}
	f := reqs[0].Form
	want := map[string]string{
		"borrower_id": r.Patron, "transaction_id": "ln_01", "expire_at": "20261206T100000",
		"notify_url": r.NotifyURL, "medium": "streaming", "localisation": "off-site",
		"duration": "3600", "ip_address": "192.0.2.7",
	}
	for k, v := range want {
		if f.Get(k) != v {
			t.Errorf("form %s = %q, want %q", k, f.Get(k), v)
		}
	}
	if len(f) != len(want) {
		t.Errorf("form has extra parameters: %v", f)
	}
	if sl, ok := e.sim.Loan("ln_01"); !ok || !sl.ExpireAt.Equal(wantExpiry) || sl.NotifyURL != r.NotifyURL {
		t.Fatalf("simulator loan: %+v", sl)
	}
}

func TestCheckoutDefaults(t *testing.T) {
	e := newEnv(t)
	r := e.checkout("ln_02")
	r.Days, r.Format = 0, ""
	loan, err := e.p.Checkout(context.Background(), r)
	if err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	if loan.Format != "epub" || loan.Links[0].Format != "epub" || !loan.ExpiresAt.Equal(e.clock.Now().Add(21*24*time.Hour)) {
		t.Fatalf("defaults: %+v", loan)
	}
	if f := e.sim.Requests()[0].Form; f.Has("notify_url") || f.Has("medium") {
		t.Fatalf("empty values must be omitted: %v", f)
	}
}

func TestCheckoutValidation(t *testing.T) {
	tests := []struct {
		name   string
		change func(e *env, r *sdk.CheckoutRequest)
		format string
	}{
		{"days 60", func(_ *env, r *sdk.CheckoutRequest) { r.Days = 60 }, "epub"},
		{"days negative", func(_ *env, r *sdk.CheckoutRequest) { r.Days = -1 }, "epub"},
		{"streaming without localisation", func(_ *env, r *sdk.CheckoutRequest) { r.Options[optMedium] = "streaming" }, "epub"},
		{"unknown medium", func(_ *env, r *sdk.CheckoutRequest) { r.Options[optMedium] = "paper" }, "epub"},
		{"unknown localisation", func(_ *env, r *sdk.CheckoutRequest) { r.Options[optLocalisation] = "moon" }, "epub"},
		{"loan_url missing", func(_ *env, r *sdk.CheckoutRequest) { delete(r.Options, optLoanURL) }, "epub"},
		{"loan_url relative", func(_ *env, r *sdk.CheckoutRequest) { r.Options[optLoanURL] = "/loans/9789084999813" }, "epub"},
		{"loan_url ftp", func(_ *env, r *sdk.CheckoutRequest) { r.Options[optLoanURL] = "ftp://x.example/l" }, "epub"},
		{"bad check digit", func(_ *env, r *sdk.CheckoutRequest) { r.Item = "9782924253064" }, "epub"},
		{"not an ISBN-13", func(_ *env, r *sdk.CheckoutRequest) { r.Item = "2924253062"; r.Format = "pdf" }, "pdf"},
		{"unknown format", func(_ *env, r *sdk.CheckoutRequest) { r.Format = "docx" }, "docx"},
		{"patron missing", func(_ *env, r *sdk.CheckoutRequest) { r.Patron = "" }, "epub"},
		{"patron too long", func(_ *env, r *sdk.CheckoutRequest) { r.Patron = strings.Repeat("p", 255) }, "epub"},
		{"loan id too long", func(_ *env, r *sdk.CheckoutRequest) { r.LoanID = strings.Repeat("l", 255) }, "epub"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			r := e.checkout("ln_v")
			tt.change(e, &r)
			_, err := e.p.Checkout(context.Background(), r)
			wantError(t, err, sdk.CodeInvalidRequest, "", tt.format)
			if e.sim.Calls() != 0 {
				t.Fatalf("refused locally, yet the warehouse was called")
			}
		})
	}
}

func TestCheckoutAcceptsLongestValues(t *testing.T) {
	e := newEnv(t)
	r := e.checkout(strings.Repeat("l", 254))
	r.Patron = strings.Repeat("p", 254)
	r.Days = 59
	if _, err := e.p.Checkout(context.Background(), r); err != nil {
		t.Fatalf("254-character ids and 59 days: %v", err)
	}
}

func TestHTTPSRefusedWithoutAllowInsecure(t *testing.T) {
	e := newEnv(t)
	// base_url over plain http is refused at Configure…
	s := map[string]string{}
	for k, v := range e.settings {
		s[k] = v
	}
	delete(s, sdk.SettingAllowInsecureHTTP)
	wantError(t, e.p.Configure(context.Background(), "strict", s), sdk.CodeInvalidRequest, "", "")

	// …and a plain http loan_url at checkout, even with an https base_url.
	s[settingBaseURL] = "https://warehouse.example"
	if err := e.p.Configure(context.Background(), "strict", s); err != nil {
		t.Fatal(err)
	}
	r := e.checkout("ln_h")
	r.Instance = "strict"
	_, err := e.p.Checkout(context.Background(), r)
	wantError(t, err, sdk.CodeInvalidRequest, "", "epub")
	if e.sim.Calls() != 0 {
		t.Fatalf("a refused loan_url was called")
	}
}

func TestFulfillRegeneratesWithoutExpireAt(t *testing.T) {
	e := newEnv(t)
	r := e.checkout("ln_f")
	loan, err := e.p.Checkout(context.Background(), r)
	if err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	ref := loanRef(r, loan)
	f, err := e.p.Fulfill(context.Background(), sdk.FulfillRequest{Instance: testInstance, Loan: ref})
	if err != nil {
		t.Fatalf("Fulfill: %v", err)
	}
	if len(f.Links) != 1 || f.Links[0].Rel != "content" || f.Links[0].Format != "epub" || f.Links[0].Href == loan.Links[0].Href {
		t.Fatalf("fulfillment: %+v (checkout link %q)", f, loan.Links[0].Href)
	}
	reqs := e.sim.Requests()
	if len(reqs) != 2 {
		t.Fatalf("requests: %d", len(reqs))
	}
	second := reqs[1].Form
	if second.Has("expire_at") || second.Get("borrower_id") != r.Patron || second.Get("transaction_id") != "ln_f" {
		t.Fatalf("regeneration form: %v", second)
	}
	sl, _ := e.sim.Loan("ln_f")
	if len(e.sim.Loans()) != 1 || sl.Links != 2 || sl.Regenerations != 1 {
		t.Fatalf("the same loan must be reused: %+v", sl)
	}
	if resp, err := http.Get(f.Links[0].Href); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh link does not serve: %v", err)
	} else {
		resp.Body.Close()
	}
}

func TestFulfillFallsBackToOptionsAndLoanID(t *testing.T) {
	e := newEnv(t)
	r := e.checkout("ln_o")
	if _, err := e.p.Checkout(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	// A host record without ProviderRef: loan_url from the options, ids
	// from the loan itself.
	ref := sdk.LoanRef{ID: "ln_o", Patron: r.Patron, Format: "epub", Options: r.Options}
	if _, err := e.p.Fulfill(context.Background(), sdk.FulfillRequest{Instance: testInstance, Loan: ref, Format: "epub"}); err != nil {
		t.Fatalf("Fulfill: %v", err)
	}
}

func TestFulfillErrors(t *testing.T) {
	e := newEnv(t)
	r := e.checkout("ln_e")
	loan, err := e.p.Checkout(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	ref := loanRef(r, loan)

	// One ISBN per format: the epub loan has no pdf.
	_, err = e.p.Fulfill(context.Background(), sdk.FulfillRequest{Instance: testInstance, Loan: ref, Format: "pdf"})
	wantError(t, err, sdk.CodeInvalidRequest, "", "pdf")

	noURL := ref
	noURL.ProviderRef, noURL.Options = nil, nil
	_, err = e.p.Fulfill(context.Background(), sdk.FulfillRequest{Instance: testInstance, Loan: noURL})
	wantError(t, err, sdk.CodeInvalidRequest, "", "epub")

	// The warehouse forgets a returned loan.
	e.clock.Advance(time.Hour)
	if err := e.sim.Return(context.Background(), "ln_e"); err == nil {
		t.Fatalf("Return without notify_url must fail")
	}
	_, err = e.p.Fulfill(context.Background(), sdk.FulfillRequest{Instance: testInstance, Loan: ref})
	wantError(t, err, sdk.CodeLoanNotFound, "loan_not_found", "epub")

	other := ref
	other.ProviderRef = map[string]string{refLoanURL: e.loanURL(demarquesim.ISBNAvailable), refBorrower: "someone-else", refTransaction: "ln_x"}
	_, err = e.p.Fulfill(context.Background(), sdk.FulfillRequest{Instance: testInstance, Loan: other})
	wantError(t, err, sdk.CodeLoanNotFound, "loan_not_found", "epub")
}
