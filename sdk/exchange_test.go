package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const testKey = "s3cret-api-key-42"

// testTable is a distributor's error table as a connector fills it.
var testTable = ErrorTable{
	Codes: map[string]Code{
		"NO_COPIES":  CodeNotAvailable,
		"BAD_KEY":    CodeProviderCredentials,
		"NOT_PRICED": CodeTryLater,
	},
	Statuses:   map[int]Code{http.StatusNotFound: CodeItemNotFound},
	PerRequest: []string{"NOT_PRICED"},
}

func newExchange(t *testing.T, h http.Handler) *Exchange {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	base, err := url.Parse(srv.URL + "/api")
	if err != nil {
		t.Fatal(err)
	}
	return &Exchange{Name: "Acme", Client: HTTPClient(map[string]string{SettingAllowInsecureHTTP: "true"}), Base: base,
		Header: http.Header{"Authorization": {"Bearer " + testKey}}, Secrets: []string{testKey}, Errors: testTable}
}

func TestExchangeJSONSendsAndDecodes(t *testing.T) {
	x := newExchange(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		_ = json.NewDecoder(r.Body).Decode(&in)
		if r.Method != http.MethodPost || r.URL.EscapedPath() != "/api/loans/a%2Fb" || r.Header.Get("Authorization") != "Bearer "+testKey ||
			r.Header.Get("Content-Type") != "application/json" || in["isbn"] != "978" {
			http.Error(w, fmt.Sprintf("unexpected %s %s %v %v", r.Method, r.URL.EscapedPath(), r.Header, in), http.StatusTeapot)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"loan_id":"L1"}`)
	}))
	var out struct {
		LoanID string `json:"loan_id"`
	}
	if err := x.JSON(t.Context(), http.MethodPost, "/loans/"+url.PathEscape("a/b"), map[string]string{"isbn": "978"}, &out); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	if out.LoanID != "L1" {
		t.Fatalf("decoded %+v", out)
	}
}

func TestExchangeFormBody(t *testing.T) {
	x := newExchange(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.FormValue("user") != "u" || r.URL.Query().Get("q") != "1" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, `{}`)
	}))
	a, err := x.Do(t.Context(), Request{Method: http.MethodPost, Path: "token", Query: url.Values{"q": {"1"}}, Form: url.Values{"user": {"u"}}})
	if err != nil || a.Status != http.StatusOK {
		t.Fatalf("Do: %+v, %v", a, err)
	}
}

// TestExchangeErrorTable checks each rule of Exchange.Error.
func TestExchangeErrorTable(t *testing.T) {
	x := &Exchange{Name: "Acme", Errors: testTable, Secrets: []string{testKey}}
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	tests := []struct {
		name         string
		status       int
		header       http.Header
		body         string
		code         Code
		providerCode string
		retryAfter   time.Duration
		scope        Scope
	}{
		{"the distributor's code decides", http.StatusConflict, nil, `{"error":"NO_COPIES","message":"gone"}`, CodeNotAvailable, "NO_COPIES", 0, ScopeInstance},
		{"code over status", http.StatusNotFound, nil, `{"code":"BAD_KEY"}`, CodeProviderCredentials, "BAD_KEY", 0, ScopeInstance},
		{"status without a known code", http.StatusNotFound, nil, `{"error":"WHATEVER"}`, CodeItemNotFound, "WHATEVER", 0, ScopeInstance},
		{"429 pauses the instance", http.StatusTooManyRequests, h("Retry-After", "30"), ``, CodeTryLater, "HTTP 429", 30 * time.Second, ScopeInstance},
		{"an answer about one item pauses the request only", http.StatusConflict, h("Retry-After", "60"), `{"error":"NOT_PRICED"}`, CodeTryLater, "NOT_PRICED", time.Minute, ScopeRequest},
		{"503 with Retry-After", http.StatusServiceUnavailable, h("Retry-After", "5"), `<html>`, CodeTryLater, "HTTP 503", 5 * time.Second, ScopeInstance},
		{"503 without", http.StatusServiceUnavailable, nil, ``, CodeProviderError, "HTTP 503", 0, ScopeInstance},
		{"401 is our credentials", http.StatusUnauthorized, nil, ``, CodeProviderCredentials, "HTTP 401", 0, ScopeInstance},
		{"anything else", http.StatusBadGateway, nil, `<html>bad gateway</html>`, CodeProviderError, "HTTP 502", 0, ScopeInstance},
		{"a Retry-After past the bound", http.StatusTooManyRequests, h("Retry-After", "99999999999"), ``, CodeTryLater, "HTTP 429", MaxRetryAfter, ScopeInstance},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := x.Error(tc.status, tc.header, []byte(tc.body))
			if e.Code != tc.code || e.ProviderCode != tc.providerCode || e.RetryAfter != tc.retryAfter || e.Scope != tc.scope {
				t.Fatalf("got %s/%s/%s/scope %d, want %s/%s/%s/scope %d", e.Code, e.ProviderCode, e.RetryAfter, e.Scope,
					tc.code, tc.providerCode, tc.retryAfter, tc.scope)
			}
		})
	}
}

// With OnlyTryLaterPauses a failing distributor's Retry-After is dropped
// (the breaker counts it), and a try_later keeps its pause.
func TestExchangeOnlyTryLaterPauses(t *testing.T) {
	table := testTable
	table.Statuses = map[int]Code{http.StatusServiceUnavailable: CodeProviderError}
	table.OnlyTryLaterPauses = true
	x := &Exchange{Name: "Acme", Errors: table}
	retry := http.Header{"Retry-After": {"30"}}
	if e := x.Error(http.StatusServiceUnavailable, retry, nil); e.Code != CodeProviderError || e.RetryAfter != 0 {
		t.Errorf("503 with Retry-After: %s, pause %s; want provider_error without a pause", e.Code, e.RetryAfter)
	}
	if e := x.Error(http.StatusConflict, retry, []byte(`{"error":"NO_COPIES"}`)); e.RetryAfter != 0 {
		t.Errorf("not_available with Retry-After: pause %s, want none", e.RetryAfter)
	}
	if e := x.Error(http.StatusTooManyRequests, retry, nil); e.Code != CodeTryLater || e.RetryAfter != 30*time.Second {
		t.Errorf("429: %s, pause %s; want try_later for 30s", e.Code, e.RetryAfter)
	}
}

// TestExchangeMessagesHoldNoSecrets: a distributor that echoes the key or
// puts a signed URL in its message does not get either into a message.
func TestExchangeMessagesHoldNoSecrets(t *testing.T) {
	x := &Exchange{Name: "Acme", Errors: testTable, Secrets: []string{testKey}}
	body := fmt.Sprintf(`{"error":"BAD_KEY","message":"key %s refused; see https://user:pw@acme.example/keys?token=t0k3n\n[ERROR] forged"}`, testKey)
	e := x.Error(http.StatusUnauthorized, nil, []byte(body))
	for _, leak := range []string{testKey, "t0k3n", "pw@", "\n"} {
		if strings.Contains(e.Message, leak) {
			t.Errorf("message %q holds %q", e.Message, leak)
		}
	}
	if !strings.Contains(e.Message, "[redacted]") || !strings.Contains(e.Message, "acme.example/keys") {
		t.Errorf("message %q: want the key redacted and the URL kept without its query", e.Message)
	}
	long := x.Error(http.StatusConflict, nil, []byte(`{"error":"NO_COPIES","message":"`+strings.Repeat("x", 5000)+`"}`))
	if len(long.Message) > maxExchangeMessage+100 {
		t.Errorf("a 5000-byte distributor message became %d bytes", len(long.Message))
	}
}

// TestExchangeTransportErrorsNameNoAddress: a refused connection and a
// deadline become unified codes whose messages hold neither the URL nor the
// address.
func TestExchangeTransportErrorsNameNoAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	base, _ := url.Parse("http://" + addr + "/internal/api")
	x := &Exchange{Name: "Acme", Client: HTTPClient(nil), Base: base}
	err = x.JSON(t.Context(), http.MethodGet, "/loans", nil, nil)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeProviderError {
		t.Fatalf("refused connection: want provider_error, got %v", err)
	}
	port := addr[strings.LastIndex(addr, ":")+1:]
	if strings.Contains(e.Message, port) || strings.Contains(e.Message, "internal") || strings.Contains(e.Message, "127.0.0.1") {
		t.Errorf("message %q names the distributor's address", e.Message)
	}
	if !strings.Contains(e.Message, "connection refused") {
		t.Errorf("message %q does not say what failed", e.Message)
	}

	// TransportError, which connectors without an Exchange use, is as
	// discreet.
	_, derr := net.Dial("tcp", addr)
	if te := TransportError(t.Context(), derr); strings.Contains(te.Message, port) {
		t.Errorf("TransportError message %q names the address", te.Message)
	}

	block := make(chan struct{})
	slow := newExchange(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(block) })
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err = slow.JSON(ctx, http.MethodGet, "/slow", nil, nil)
	if !errors.As(err, &e) || e.Code != CodeProviderTimeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: want provider_timeout wrapping the deadline, got %v", err)
	}
	if strings.Contains(e.Message, slow.Base.Host) {
		t.Errorf("message %q names the distributor's address", e.Message)
	}
}

func TestExchangeCapsTheBody(t *testing.T) {
	x := newExchange(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"x":"`+strings.Repeat("a", 4096)+`"}`)
	}))
	x.MaxBody = 1024
	err := x.JSON(t.Context(), http.MethodGet, "/big", nil, &struct{}{})
	if CodeOf(err) != CodeProviderError || !strings.Contains(err.Error(), "size cap") {
		t.Fatalf("want provider_error about the size cap, got %v", err)
	}
	x.MaxBody = 0
	if err := x.JSON(t.Context(), http.MethodGet, "/big", nil, &struct{}{}); err != nil {
		t.Fatalf("under the default cap: %v", err)
	}
}

func TestExchangeUnreadableAnswer(t *testing.T) {
	x := newExchange(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `<html>`)
	}))
	err := x.JSON(t.Context(), http.MethodGet, "/x", nil, &struct{}{})
	if CodeOf(err) != CodeProviderError {
		t.Fatalf("want provider_error, got %v", err)
	}
}

func TestMaxBodyBytesFromSettings(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want int64
	}{{"", DefaultMaxBodyBytes}, {"junk", DefaultMaxBodyBytes}, {"-1", DefaultMaxBodyBytes}, {"8388608", 8 << 20}} {
		if got := MaxBodyBytes(map[string]string{SettingMaxBodyBytes: tc.v}); got != tc.want {
			t.Errorf("max_body_bytes %q: %d, want %d", tc.v, got, tc.want)
		}
	}
}
