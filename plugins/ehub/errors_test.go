package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/ehub/ehubsim"
	"github.com/lendgate/lendgate/sdk"
)

// Every row of eHUB's error table, through the simulator.
func TestCheckoutErrorTable(t *testing.T) {
	tests := []struct {
		record, patron, format string
		code                   sdk.Code
		providerCode           string
	}{
		{ehubsim.RecordUnknown, "p", "", sdk.CodeItemNotFound, "INVALID_CONTENT_PROVIDER_RECORD_ID"},
		{ehubsim.RecordInactive, "p", "", sdk.CodeNotAvailable, "PRODUCT_INACTIVE"},
		{ehubsim.RecordUnavailable, "p", "", sdk.CodeNotAvailable, "PRODUCT_UNAVAILABLE"},
		{ehubsim.RecordMissingContent, "p", "", sdk.CodeNotAvailable, "MISSING_CONTENT_IN_LOAN"},
		{ehubsim.RecordBorrowerLimit, "p", "", sdk.CodeLimitReached, "BORROWER_LIMIT_REACHED"},
		{ehubsim.RecordLibraryLimit, "p", "", sdk.CodeLimitReached, "LIBRARY_LIMIT_REACHED"},
		{ehubsim.RecordMaxDownloads, "p", "", sdk.CodeLimitReached, "MAX_NO_OF_DOWNLOADS_FOR_PRODUCT_REACHED"},
		{ehubsim.RecordEbook, "p", "audio-stream", sdk.CodeInvalidRequest, "INVALID_FORMAT_ID"},
		{ehubsim.RecordInvalidRegion, "p", "", sdk.CodeInvalidRequest, "INVALID_REGION_ID"},
		{ehubsim.RecordEbook, ehubsim.BlockedPatron, "", sdk.CodePatronRejected, "INVALID_PATRON"},
		{ehubsim.RecordCreateLoanFailed, "p", "", sdk.CodeProviderError, "CREATE_LOAN_FAILED"},
		{ehubsim.RecordSomethingNew, "p", "", sdk.CodeProviderError, "SOMETHING_NEW"},
	}
	f := newFixture(t, ehubsim.DefaultAPIKey)
	for _, tt := range tests {
		t.Run(tt.providerCode, func(t *testing.T) {
			_, err := f.checkout(t, tt.record, tt.patron, tt.format)
			wantCode(t, err, tt.code, tt.providerCode)
		})
	}
}

// The loan-side rows (CHECKOUT_NOT_FOUND, INVALID_LOAN_ID, INACTIVE_LOAN)
// come from the fulfillment call; see fulfill_test.go.

// The status rules, for answers without a known code.
func TestReplyError(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name         string
		status       int
		header       http.Header
		body         string
		code         sdk.Code
		providerCode string
		retryAfter   time.Duration
	}{
		{"known code beats status", 500, nil, `{"code":"ALREADY_ON_LOAN"}`, sdk.CodeAlreadyOnLoan, "ALREADY_ON_LOAN", 0},
		{"401 unknown code", 401, nil, `{"code":"UNAUTHORIZED"}`, sdk.CodeProviderCredentials, "UNAUTHORIZED", 0},
		{"403 no body", 403, nil, ``, sdk.CodeProviderCredentials, "HTTP 403", 0},
		{"403 INVALID_PATRON", 403, nil, `{"code":"INVALID_PATRON"}`, sdk.CodePatronRejected, "INVALID_PATRON", 0},
		{"429 seconds", 429, http.Header{"Retry-After": {"7"}}, ``, sdk.CodeTryLater, "HTTP 429", 7 * time.Second},
		{"429 date", 429, http.Header{"Retry-After": {now.Add(time.Minute).Format(http.TimeFormat)}}, `{"code":"TOO_MANY_REQUESTS"}`, sdk.CodeTryLater, "TOO_MANY_REQUESTS", time.Minute},
		{"5xx garbage", 502, nil, `<html>bad gateway`, sdk.CodeProviderError, "HTTP 502", 0},
		{"5xx unknown code", 503, nil, `{"code":"INTERNAL_SERVER_ERROR","message":"down"}`, sdk.CodeProviderError, "INTERNAL_SERVER_ERROR", 0},
		{"404 without code", 404, nil, `not found`, sdk.CodeProviderError, "HTTP 404", 0},
		{"code with control characters", 409, nil, `{"code":"ALREADY_ON_LOAN\n"}`, sdk.CodeAlreadyOnLoan, "ALREADY_ON_LOAN", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := answerError(t, "", tt.status, tt.header, []byte(tt.body), now)
			if e.Code != tt.code || e.ProviderCode != tt.providerCode || e.RetryAfter != tt.retryAfter {
				t.Errorf("got %s/%q retry %v (%v), want %s/%q retry %v", e.Code, e.ProviderCode, e.RetryAfter, e, tt.code, tt.providerCode, tt.retryAfter)
			}
			if e.Message == "" {
				t.Error("empty message")
			}
		})
	}
	if e := answerError(t, "", 502, nil, []byte("garbage"), now); e.Message != "eHUB answered 502 HTTP 502" {
		t.Errorf("message %q, want eHUB answered 502 HTTP 502", e.Message)
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults ehubsim.Faults
		code   sdk.Code
		pc     string
	}{
		{"5xx", ehubsim.Faults{Status: 503}, sdk.CodeProviderError, "INTERNAL_SERVER_ERROR"},
		{"5xx unreadable", ehubsim.Faults{Status: 502, Garbage: true}, sdk.CodeProviderError, "HTTP 502"},
		{"2xx unreadable", ehubsim.Faults{Garbage: true}, sdk.CodeProviderError, ""},
		{"429", ehubsim.Faults{RetryAfter: 3 * time.Second}, sdk.CodeTryLater, "TOO_MANY_REQUESTS"},
		{"dropped connection", ehubsim.Faults{Drop: true}, sdk.CodeProviderError, ""},
	}
	f := newFixture(t, ehubsim.DefaultAPIKey)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.sim.SetFaults(tt.faults)
			defer f.sim.SetFaults(ehubsim.Faults{})
			_, err := f.checkout(t, ehubsim.RecordEbook, "p", "")
			wantCode(t, err, tt.code, tt.pc)
			if tt.code == sdk.CodeTryLater && sdk.AsError(err).RetryAfter != 3*time.Second {
				t.Errorf("retry after %v, want 3s", sdk.AsError(err).RetryAfter)
			}
		})
	}
}

func TestDeadlineIsProviderTimeout(t *testing.T) {
	f := newFixture(t, ehubsim.DefaultAPIKey)
	f.sim.SetFaults(ehubsim.Faults{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := f.p.Checkout(ctx, sdk.CheckoutRequest{Instance: testInstance, Item: ehubsim.RecordEbook, Patron: "p"})
	wantCode(t, err, sdk.CodeProviderTimeout, "")

	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = f.p.Fulfill(ctx, sdk.FulfillRequest{Instance: testInstance, Loan: sdk.LoanRef{
		Patron: "p", ProviderRef: map[string]string{"checkout_id": "checkout-1"}}})
	wantCode(t, err, sdk.CodeProviderTimeout, "")
}

// The api key goes into the Authorization header and nowhere else: not into
// an error, not into a log line, whatever the outcome.
func TestAPIKeyNeverLeaks(t *testing.T) {
	const key = "sk-live-5f3a9c-DO-NOT-LEAK"
	f := newFixture(t, key, ehubsim.WithAPIKey(key))
	var errs []error
	collect := func(_ any, err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	collect(f.checkout(t, ehubsim.RecordMultiFormat, "p", ""))
	collect(f.checkout(t, ehubsim.RecordMultiFormat, "p", ""))
	collect(f.checkout(t, ehubsim.RecordMalformedLink, "p", ""))
	collect(f.checkout(t, ehubsim.RecordSomethingNew, "p", ""))
	for _, fl := range []ehubsim.Faults{{Status: 500}, {Garbage: true}, {Drop: true}, {RetryAfter: time.Second}} {
		f.sim.SetFaults(fl)
		collect(f.checkout(t, ehubsim.RecordEbook, "p", ""))
	}
	f.sim.SetFaults(ehubsim.Faults{})
	collect(f.p.Fulfill(context.Background(), sdk.FulfillRequest{Instance: testInstance,
		Loan: sdk.LoanRef{Patron: "p", ProviderRef: map[string]string{"checkout_id": "nope"}}}))

	// A wrong key (the simulator expects another): provider_credentials.
	wrong := newFixture(t, key, ehubsim.WithAPIKey("the-right-key"))
	_, err := wrong.checkout(t, ehubsim.RecordEbook, "p", "")
	wantCode(t, err, sdk.CodeProviderCredentials, "UNAUTHORIZED")
	errs = append(errs, err)

	if len(errs) < 8 {
		t.Fatalf("only %d errors collected", len(errs))
	}
	for _, err := range errs {
		if strings.Contains(err.Error(), key) {
			t.Errorf("error leaks the api key: %v", err)
		}
	}
	for _, log := range []string{f.log.String(), wrong.log.String()} {
		if strings.Contains(log, key) {
			t.Errorf("log leaks the api key:\n%s", log)
		}
	}
}

// eHUB's message is passed on, but an echoed api key is not.
func TestScrubRemovesEchoedKey(t *testing.T) {
	e := answerError(t, "sekrit", 400, nil, []byte(`{"code":"BAD_KEY","message":"bad key sekrit given"}`), time.Now())
	if strings.Contains(e.Message, "sekrit") || !strings.Contains(e.Message, "bad key") {
		t.Errorf("message %q", e.Message)
	}
}

// answerError is the unified error of an eHUB error answer, through the
// connector's real exchange (its error table, Retry-After against now, its
// scrubbing of the api key).
func answerError(t *testing.T, key string, status int, header http.Header, body []byte, now time.Time) *sdk.Error {
	t.Helper()
	_, err := cannedCall(key, status, header, body, now)
	e := sdk.AsError(err)
	if e == nil {
		t.Fatalf("HTTP %d gave no error", status)
	}
	return e
}

func TestCleanText(t *testing.T) {
	if got := cleanText(" a\x00b\nc\x7f ", 100); got != "abc" {
		t.Errorf("got %q", got)
	}
	if got := cleanText(strings.Repeat("é", 10), 5); got != "éé…" {
		t.Errorf("got %q", got)
	}
}
