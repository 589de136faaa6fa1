package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
	"github.com/lendgate/lendgate/sdk"
)

// op runs one operation against e and returns its error; format is the
// format the operation is for.
type op struct {
	name   string
	format string
	run    func(ctx context.Context, e *env) error
}

var (
	opCheckout = op{"checkout", "epub", func(ctx context.Context, e *env) error {
		_, err := e.p.Checkout(ctx, e.checkout("ln_err"))
		return err
	}}
	opFulfill = op{"fulfill", "epub", func(ctx context.Context, e *env) error {
		r := e.checkout("ln_err")
		ref := sdk.LoanRef{ID: r.LoanID, Patron: r.Patron, Format: "epub", Options: r.Options}
		_, err := e.p.Fulfill(ctx, sdk.FulfillRequest{Instance: testInstance, Loan: ref})
		return err
	}}
	opDownload = op{"download", "pdf", func(ctx context.Context, e *env) error {
		_, err := e.p.Download(ctx, e.download())
		return err
	}}
)

// TestDistributorErrors drives every row of the error table through the
// simulator, by fault injection or by the condition that causes it.
func TestDistributorErrors(t *testing.T) {
	tests := []struct {
		name         string
		ops          []op
		faults       demarquesim.Faults
		settings     map[string]string // instance settings changed
		before       func(t *testing.T, e *env)
		code         sdk.Code
		providerCode string
		retryAfter   time.Duration
	}{
		{name: "400 missing_transaction_id", ops: []op{opCheckout, opFulfill, opDownload},
			faults: demarquesim.Faults{Status: 400, Code: "missing_transaction_id"},
			code:   sdk.CodeInvalidRequest, providerCode: "missing_transaction_id"},
		{name: "401 access_denied (wrong password)", ops: []op{opDownload},
			settings: map[string]string{settingPassword: "wrong"},
			code:     sdk.CodeProviderCredentials, providerCode: "access_denied"},
		{name: "401 access_denied (wrong username)", ops: []op{opDownload},
			settings: map[string]string{settingUsername: "someone"},
			code:     sdk.CodeProviderCredentials, providerCode: "access_denied"},
		{name: "401 access_denied (lending)", ops: []op{opCheckout, opFulfill},
			faults: demarquesim.Faults{Status: 401},
			code:   sdk.CodeProviderCredentials, providerCode: "access_denied"},
		{name: "404 not_found (organisation)", ops: []op{opDownload},
			settings: map[string]string{settingOrganisation: "999"},
			code:     sdk.CodeProviderCredentials, providerCode: "not_found"},
		{name: "404 publication_not_found", ops: []op{opDownload},
			before: func(t *testing.T, e *env) {
				e.sim.SetFaults(demarquesim.Faults{Status: 404, Code: "publication_not_found"})
			},
			code: sdk.CodeItemNotFound, providerCode: "publication_not_found"},
		{name: "404 loan_not_found (regeneration without a loan)", ops: []op{opFulfill},
			code: sdk.CodeLoanNotFound, providerCode: "loan_not_found"},
		{name: "429 with Retry-After", ops: []op{opCheckout, opFulfill, opDownload},
			faults: demarquesim.Faults{Status: 429, RetryAfter: 7 * time.Second},
			code:   sdk.CodeTryLater, providerCode: "too_many_requests", retryAfter: 7 * time.Second},
		{name: "other 4xx", ops: []op{opCheckout, opDownload},
			faults: demarquesim.Faults{Status: 409, Code: "conflict"},
			code:   sdk.CodeProviderError, providerCode: "conflict"},
		{name: "500", ops: []op{opCheckout, opFulfill, opDownload},
			faults: demarquesim.Faults{Status: 500},
			code:   sdk.CodeProviderError, providerCode: "server_error"},
		{name: "503", ops: []op{opCheckout, opDownload},
			faults: demarquesim.Faults{Status: 503, RetryAfter: time.Minute},
			code:   sdk.CodeProviderError, providerCode: "service_unavailable"},
		{name: "garbage body", ops: []op{opCheckout, opFulfill, opDownload},
			faults: demarquesim.Faults{Garbage: true},
			code:   sdk.CodeProviderError, providerCode: "HTTP 200"},
		{name: "dropped connection", ops: []op{opCheckout, opFulfill, opDownload},
			faults: demarquesim.Faults{Drop: true},
			code:   sdk.CodeProviderError},
	}
	for _, tt := range tests {
		for _, o := range tt.ops {
			t.Run(tt.name+"/"+o.name, func(t *testing.T) {
				e := newEnv(t)
				if tt.settings != nil {
					e.configure(t, tt.settings)
				}
				e.sim.SetFaults(tt.faults)
				if tt.before != nil {
					tt.before(t, e)
				}
				err := o.run(context.Background(), e)
				got := wantError(t, err, tt.code, tt.providerCode, o.format)
				if got.RetryAfter != tt.retryAfter {
					t.Fatalf("RetryAfter %v, want %v", got.RetryAfter, tt.retryAfter)
				}
				if e.sim.Calls() == 0 {
					t.Fatalf("the warehouse was not called")
				}
			})
		}
	}
}

// TestUnknownPublication: a valid ISBN the warehouse does not sell.
func TestUnknownPublication(t *testing.T) {
	e := newEnv(t)
	r := e.checkout("ln_u")
	r.Item = demarquesim.ISBNUnknown
	r.Options[optLoanURL] = e.loanURL(demarquesim.ISBNUnknown)
	_, err := e.p.Checkout(context.Background(), r)
	wantError(t, err, sdk.CodeItemNotFound, "publication_not_found", "epub")

	d := e.download()
	d.Item = demarquesim.ISBNUnknown
	_, err = e.p.Download(context.Background(), d)
	wantError(t, err, sdk.CodeItemNotFound, "publication_not_found", "pdf")
}

// TestAnswerWithoutURL: a 200 that carries no url is a provider error.
func TestAnswerWithoutURL(t *testing.T) {
	e := newEnv(t)
	odd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"link":"https://elsewhere.example"}`))
	}))
	defer odd.Close()
	e.configure(t, map[string]string{settingLoanHosts: strings.TrimPrefix(odd.URL, "http://")})
	r := e.checkout("ln_w")
	r.Options[optLoanURL] = odd.URL + "/loans/x"
	_, err := e.p.Checkout(context.Background(), r)
	wantError(t, err, sdk.CodeProviderError, "HTTP 200", "epub")
}

// TestDeadline: the host's deadline rides the context into the outbound
// request; a slow warehouse gives provider_timeout.
func TestDeadline(t *testing.T) {
	for _, o := range []op{opCheckout, opFulfill, opDownload} {
		t.Run(o.name, func(t *testing.T) {
			e := newEnv(t)
			e.sim.SetFaults(demarquesim.Faults{Latency: time.Hour})
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			err := o.run(ctx, e)
			wantError(t, err, sdk.CodeProviderTimeout, "", o.format)
		})
	}
}

// TestUnreachable: nothing listening is a provider error, not a panic or a
// timeout.
func TestUnreachable(t *testing.T) {
	e := newEnv(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	e.configure(t, map[string]string{settingBaseURL: dead.URL})
	_, err := e.p.Download(context.Background(), e.download())
	got := wantError(t, err, sdk.CodeProviderError, "", "pdf")
	if errors.Is(err, context.DeadlineExceeded) || got.Message == "" {
		t.Fatalf("unexpected error: %v", err)
	}
}
