package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

func TestParseAnswer(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name         string
		status       int
		retryAfter   string
		body         string
		wantURL      string
		code         sdk.Code
		providerCode string
		retry        time.Duration
	}{
		{"ok", 200, "", `{"url":"https://dl.example/x?sig=1"}`, "https://dl.example/x?sig=1", "", "", 0},
		{"ok without url", 200, "", `{"link":"https://dl.example/x"}`, "", sdk.CodeProviderError, "HTTP 200", 0},
		{"ok with relative url", 200, "", `{"url":"/x"}`, "", sdk.CodeProviderError, "HTTP 200", 0},
		{"ok with garbage", 200, "", "<html>", "", sdk.CodeProviderError, "HTTP 200", 0},
		{"ok with empty body", 200, "", "", "", sdk.CodeProviderError, "HTTP 200", 0},
		{"201 is not the documented answer", 201, "", `{"url":"https://dl.example/x"}`, "", sdk.CodeProviderError, "HTTP 201", 0},
		{"400 missing_transaction_id", 400, "", `{"error":"missing_transaction_id","message":"You did not enter a transaction ID."}`, "", sdk.CodeInvalidRequest, "missing_transaction_id", 0},
		{"400 missing_borrower_id", 400, "", `{"error":"missing_borrower_id"}`, "", sdk.CodeInvalidRequest, "missing_borrower_id", 0},
		{"400 invalid_expire_at", 400, "", `{"error":"invalid_expire_at"}`, "", sdk.CodeInvalidRequest, "invalid_expire_at", 0},
		{"400 other", 400, "", `{"error":"missing_uname"}`, "", sdk.CodeProviderError, "missing_uname", 0},
		{"400 unreadable", 400, "", `oops`, "", sdk.CodeProviderError, "HTTP 400", 0},
		{"401 access_denied", 401, "", `{"error":"access_denied","message":"You do not have access to the resource."}`, "", sdk.CodeProviderCredentials, "access_denied", 0},
		{"401 without body", 401, "", ``, "", sdk.CodeProviderCredentials, "HTTP 401", 0},
		{"404 not_found", 404, "", `{"error":"not_found"}`, "", sdk.CodeProviderCredentials, "not_found", 0},
		{"404 loan_not_found", 404, "", `{"error":"loan_not_found"}`, "", sdk.CodeLoanNotFound, "loan_not_found", 0},
		{"404 publication_not_found", 404, "", `{"error":"publication_not_found"}`, "", sdk.CodeItemNotFound, "publication_not_found", 0},
		{"404 without body", 404, "", `<html>Not Found</html>`, "", sdk.CodeProviderError, "HTTP 404", 0},
		{"429 seconds", 429, "7", `{"error":"too_many_requests"}`, "", sdk.CodeTryLater, "too_many_requests", 7 * time.Second},
		{"429 date", 429, now.Add(90 * time.Second).Format(http.TimeFormat), ``, "", sdk.CodeTryLater, "HTTP 429", 90 * time.Second},
		{"429 no header", 429, "", ``, "", sdk.CodeTryLater, "HTTP 429", 0},
		{"409 other 4xx", 409, "", `{"error":"conflict"}`, "", sdk.CodeProviderError, "conflict", 0},
		{"500", 500, "", `{"error":"server_error"}`, "", sdk.CodeProviderError, "server_error", 0},
		{"503 html", 503, "120", `<html>down</html>`, "", sdk.CodeProviderError, "HTTP 503", 0},
		{"302", 302, "", ``, "", sdk.CodeProviderError, "HTTP 302", 0},
		{"overlong error string", 500, "", `{"error":"` + strings.Repeat("x", 101) + `"}`, "", sdk.CodeProviderError, "HTTP 500", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.retryAfter != "" {
				h.Set("Retry-After", tt.retryAfter)
			}
			u, e := parseAnswer(tt.status, h, []byte(tt.body), now)
			if tt.code == "" {
				if e != nil || u != tt.wantURL {
					t.Fatalf("got %q, %v; want %q", u, e, tt.wantURL)
				}
				return
			}
			if e == nil || u != "" {
				t.Fatalf("got %q, %v; want %s", u, e, tt.code)
			}
			if e.Code != tt.code || e.ProviderCode != tt.providerCode || e.RetryAfter != tt.retry {
				t.Fatalf("got %s/%q retry %v, want %s/%q retry %v", e.Code, e.ProviderCode, e.RetryAfter, tt.code, tt.providerCode, tt.retry)
			}
		})
	}
}

// FuzzParseAnswer: whatever the warehouse answers, parseAnswer never panics
// and gives either a URL or an error with a unified code and a provider code.
// Seed corpus: testdata/fuzz/FuzzParseAnswer.
func FuzzParseAnswer(f *testing.F) {
	f.Add(200, []byte(`{"url":"https://dl.example/x"}`), "")
	f.Add(200, []byte(`{"url":""}`), "")
	f.Add(401, []byte(`{"error":"access_denied"}`), "")
	f.Add(429, []byte(`{"error":"too_many_requests"}`), "30")
	f.Add(429, []byte(nil), "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add(-1, []byte{0xff}, "-5")
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		u, e := parseAnswer(status, h, body, now)
		switch {
		case e == nil && u == "":
			t.Fatal("neither a URL nor an error")
		case e != nil && u != "":
			t.Fatal("both a URL and an error")
		case e != nil && !e.Code.Known():
			t.Fatalf("unknown code %q", e.Code)
		case e != nil && e.ProviderCode == "":
			t.Fatal("error without a provider code")
		case e != nil && e.RetryAfter < 0:
			t.Fatalf("negative RetryAfter %v", e.RetryAfter)
		case e == nil && !absoluteURL(u):
			t.Fatalf("not an absolute URL: %q", u)
		}
	})
}
