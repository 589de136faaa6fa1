package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// TestErrorTable sends every row of README.md's error table through the
// connector's real exchange: the problem's type decides, whatever the
// status; without a known type, the status.
func TestErrorTable(t *testing.T) {
	problem := func(typ string) []byte {
		return []byte(`{"type":"` + typ + `","title":"Refused","status":400,"detail":"see the documentation"}`)
	}
	tests := []struct {
		name   string
		status int
		body   []byte
		code   sdk.Code
		pc     string
	}{
		{"unavailable as 403", 403, problem(typeUnavailable), sdk.CodeNotAvailable, typeUnavailable},
		{"unavailable as 400", 400, problem(typeUnavailable), sdk.CodeNotAvailable, typeUnavailable},
		{"licence expired", 403, problem(typeExpired), sdk.CodeNotAvailable, typeExpired},
		{"bad id", 400, problem(typeCheckoutPrefix + "id"), sdk.CodeInvalidRequest, typeCheckoutPrefix + "id"},
		{"bad checkout_id", 400, problem(typeCheckoutPrefix + "checkout_id"), sdk.CodeInvalidRequest, ""},
		{"bad patron_id", 400, problem(typeCheckoutPrefix + "patron_id"), sdk.CodeInvalidRequest, ""},
		{"bad expires", 400, problem(typeCheckoutPrefix + "expires"), sdk.CodeInvalidRequest, ""},
		{"bad notification_url", 400, problem(typeCheckoutPrefix + "notification_url"), sdk.CodeInvalidRequest, ""},
		{"bad passphrase", 400, problem(typeCheckoutPrefix + "passphrase"), sdk.CodeInvalidRequest, ""},
		{"bad hint", 400, problem(typeCheckoutPrefix + "hint"), sdk.CodeInvalidRequest, ""},
		{"bad hint_url", 400, problem(typeCheckoutPrefix + "hint_url"), sdk.CodeInvalidRequest, ""},
		{"generic ODL error 400", 400, problem(typeODLError), sdk.CodeProviderError, typeODLError},
		{"generic ODL error 500", 500, problem(typeODLError), sdk.CodeProviderError, typeODLError},
		{"return failed", 400, problem(typeReturn), sdk.CodeProviderError, typeReturn},
		{"already returned", 403, problem(typeReturnAlready), sdk.CodeLoanNotFound, typeReturnAlready},
		{"return of an expired loan", 403, problem(typeReturnExpired), sdk.CodeLoanNotFound, typeReturnExpired},
		{"renewal refused", 403, problem(typeRenew), sdk.CodeNotAvailable, typeRenew},
		{"renewal period", 403, problem(typeRenewDate), sdk.CodeNotAvailable, typeRenewDate},
		{"LSD server error", 503, problem(typeServer), sdk.CodeProviderError, typeServer},
		{"registration", 400, problem(typeRegistration), sdk.CodeProviderError, typeRegistration},
		{"credentials refused", 401, problem(typeODLError), sdk.CodeProviderCredentials, typeODLError},
		{"forbidden, no type", 403, []byte(`{"title":"Forbidden"}`), sdk.CodeProviderCredentials, "HTTP 403"},
		{"about:blank", 404, problem("about:blank"), sdk.CodeProviderError, "HTTP 404"},
		{"an unknown type", 409, problem("https://odl.example/errors/new"), sdk.CodeProviderError, "https://odl.example/errors/new"},
		{"HTML gateway page", 502, []byte("<html>Bad Gateway</html>"), sdk.CodeProviderError, "HTTP 502"},
		{"JSON error with a code", 500, []byte(`{"code":"E42","message":"boom"}`), sdk.CodeProviderError, "E42"},
		{"3xx with nowhere to go", 302, nil, sdk.CodeProviderError, "HTTP 302"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := cannedCheckout(tt.status, http.Header{"Content-Type": {"application/problem+json"}}, tt.body)
			if e == nil {
				t.Fatal("success")
			}
			if e.Code != tt.code || (tt.pc != "" && e.ProviderCode != tt.pc) {
				t.Errorf("got %s/%q (%s), want %s/%q", e.Code, e.ProviderCode, e.Message, tt.code, tt.pc)
			}
		})
	}
	// 429 and its Retry-After pause the instance; a 503's does not.
	e := cannedCheckout(429, http.Header{"Retry-After": {"20"}}, problem(typeODLError))
	if e.Code != sdk.CodeTryLater || e.RetryAfter != 20*time.Second {
		t.Errorf("429: %+v", e)
	}
	e = cannedCheckout(503, http.Header{"Retry-After": {"20"}}, problem(typeServer))
	if e.Code != sdk.CodeProviderError || e.RetryAfter != 0 {
		t.Errorf("503 with Retry-After: %+v", e)
	}
	// The message carries the problem's title and detail, cleaned.
	e = cannedCheckout(403, nil, []byte(`{"type":"`+typeUnavailable+`","title":"No copy","detail":"all\n lent; see https://odl.example/x?token=abc"}`))
	if !strings.Contains(e.Message, "No copy: all lent") || strings.Contains(e.Message, "abc") {
		t.Errorf("message %q", e.Message)
	}
}

func TestDecodeProblem(t *testing.T) {
	tests := []struct{ body, pc, msg string }{
		{`{"type":"t","title":"T","detail":"D"}`, "t", "T: D"},
		{`{"type":"t","title":"T"}`, "t", "T"},
		{`{"type":"t"}`, "t", ""},
		{`{"type":"about:blank","title":"Nope"}`, "", "Nope"},
		{`{"type":7,"title":["x"]}`, "", ""},
		{`{"code":"C","message":"M"}`, "C", "M"},
		{`[1,2]`, "", ""},
		{`not json`, "", ""},
	}
	for _, tt := range tests {
		pc, msg := decodeProblem([]byte(tt.body))
		if pc != tt.pc || msg != tt.msg {
			t.Errorf("%s: %q %q, want %q %q", tt.body, pc, msg, tt.pc, tt.msg)
		}
	}
}
