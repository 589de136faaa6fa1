package sdk

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// outcomeTable is a distributor's table with a documented failure code
// that a 5xx may carry.
var outcomeTable = ErrorTable{
	Codes: map[string]Code{
		"NO_COPIES":    CodeNotAvailable,
		"ORDER_FAILED": CodeProviderError, // documented: the order was not carried out
	},
	Statuses: map[int]Code{http.StatusNotFound: CodeItemNotFound},
}

// cut reads the request whole and closes the connection without a word:
// the distributor got everything and its answer is lost.
func cut(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	_ = conn.Close()
}

// answer writes status with body as the Content-Type given.
func answer(status int, contentType, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

const gatewayPage = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"

// TestExchangeClassifiesEveryError runs each case of Exchange's outcome
// rules against a real server: the unified code is what it always was, the
// outcome says whether the distributor may have acted (api.md §7), and no
// message names the distributor's address.
func TestExchangeClassifiesEveryError(t *testing.T) {
	refused := func(t *testing.T) *url.URL {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		return &url.URL{Scheme: "http", Host: addr, Path: "/api"}
	}
	expired := func(t *testing.T) context.Context {
		ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
		t.Cleanup(cancel)
		return ctx
	}
	canceled := func(t *testing.T) context.Context {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		return ctx
	}
	short := func(t *testing.T) context.Context {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	tests := []struct {
		name string
		// handler serves the distributor (nil: the test sets the base).
		handler http.Handler
		tls     bool                             // serve over TLS the client does not trust
		base    func(*testing.T) *url.URL        // replaces the server's URL
		ctx     func(*testing.T) context.Context // the call's context
		body    any                              // the request's JSON body
		maxBody int64
		code    Code
		outcome Outcome
	}{
		{name: "refused port", base: refused, code: CodeProviderError, outcome: OutcomeNotSent},
		{name: "request cannot be built", handler: answer(200, "application/json", `{}`), body: map[string]any{"c": make(chan int)},
			code: CodeProviderError, outcome: OutcomeNotSent},
		{name: "deadline passed before a connection", handler: answer(200, "application/json", `{}`), ctx: expired,
			code: CodeProviderTimeout, outcome: OutcomeNotSent},
		{name: "canceled before a connection", handler: answer(200, "application/json", `{}`), ctx: canceled,
			code: CodeProviderError, outcome: OutcomeNotSent},
		{name: "TLS handshake fails", handler: answer(200, "application/json", `{}`), tls: true,
			code: CodeProviderError, outcome: OutcomeNotSent},
		{name: "connection cut after the request was read", handler: http.HandlerFunc(cut),
			code: CodeProviderError, outcome: OutcomeUnknown},
		{name: "body cut short", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"loan_id":`)
			w.(http.Flusher).Flush()
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}), code: CodeProviderError, outcome: OutcomeUnknown},
		{name: "gateway 502 with an HTML page", handler: answer(http.StatusBadGateway, "text/html", gatewayPage),
			code: CodeProviderError, outcome: OutcomeUnknown},
		{name: "503 without a code", handler: answer(http.StatusServiceUnavailable, "text/plain", "Service Unavailable"),
			code: CodeProviderError, outcome: OutcomeUnknown},
		{name: "503 with Retry-After, without a code", handler: answer(http.StatusServiceUnavailable, "text/plain", "busy", "Retry-After", "30"),
			code: CodeTryLater, outcome: OutcomeUnknown},
		{name: "504 with a JSON body of no listed code", handler: answer(http.StatusGatewayTimeout, "application/json", `{"code":"UPSTREAM_TIMEOUT"}`),
			code: CodeProviderError, outcome: OutcomeUnknown},
		{name: "408", handler: answer(http.StatusRequestTimeout, "text/plain", "timeout"),
			code: CodeProviderError, outcome: OutcomeUnknown},
		{name: "500 with a code in the table", handler: answer(http.StatusInternalServerError, "application/json", `{"code":"ORDER_FAILED","message":"not fulfilled"}`),
			code: CodeProviderError, outcome: OutcomeDefinitive},
		{name: "409 with the distributor's code", handler: answer(http.StatusConflict, "application/json", `{"code":"NO_COPIES"}`),
			code: CodeNotAvailable, outcome: OutcomeDefinitive},
		{name: "404 without a code", handler: answer(http.StatusNotFound, "text/html", "<html>not found</html>"),
			code: CodeItemNotFound, outcome: OutcomeDefinitive},
		{name: "401", handler: answer(http.StatusUnauthorized, "text/plain", "no"),
			code: CodeProviderCredentials, outcome: OutcomeDefinitive},
		{name: "429", handler: answer(http.StatusTooManyRequests, "text/plain", "slow down", "Retry-After", "5"),
			code: CodeTryLater, outcome: OutcomeDefinitive},
		{name: "3xx with nowhere to go", handler: answer(http.StatusFound, "text/html", "moved"),
			code: CodeProviderError, outcome: OutcomeUnknown},
		{name: "redirects without end", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.Path, http.StatusTemporaryRedirect)
		}), code: CodeProviderError, outcome: OutcomeUnknown},
		{name: "unreadable 2xx", handler: answer(http.StatusCreated, "application/json", "\x00<html>{\"loan_id\": garbage"),
			code: CodeProviderError, outcome: OutcomeUnknown},
		{name: "empty 2xx", handler: answer(http.StatusOK, "application/json", ""),
			code: CodeProviderError, outcome: OutcomeUnknown},
		{name: "over-size 2xx", handler: answer(http.StatusCreated, "application/json", `{"loan_id":"L1"}`+strings.Repeat(" ", 2048)), maxBody: 1024,
			code: CodeProviderError, outcome: OutcomeUnknown},
		{name: "over-size error answer", handler: answer(http.StatusConflict, "application/json", `{"code":"NO_COPIES"}`+strings.Repeat(" ", 2048)), maxBody: 1024,
			code: CodeProviderError, outcome: OutcomeUnknown},
		{name: "slow", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}), ctx: short, code: CodeProviderTimeout, outcome: OutcomeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var base *url.URL
			if tt.handler != nil {
				srv := httptest.NewUnstartedServer(tt.handler)
				if tt.tls {
					srv.StartTLS()
				} else {
					srv.Start()
				}
				t.Cleanup(srv.Close)
				base, _ = url.Parse(srv.URL + "/api")
			}
			if tt.base != nil {
				base = tt.base(t)
			}
			x := &Exchange{Name: "Acme", Client: HTTPClient(map[string]string{SettingAllowInsecureHTTP: "true"}), Base: base,
				Header: http.Header{"Authorization": {"Bearer " + testKey}}, Secrets: []string{testKey}, Errors: outcomeTable, MaxBody: tt.maxBody}
			ctx := t.Context()
			if tt.ctx != nil {
				ctx = tt.ctx(t)
			}
			var out struct {
				LoanID string `json:"loan_id"`
			}
			err := x.JSON(ctx, http.MethodPost, "/loans", cmpOr(tt.body, map[string]string{"isbn": "978"}), &out)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v (%T), want an *Error", err, err)
			}
			if e.Code != tt.code || e.Outcome != tt.outcome || OutcomeOf(err) != tt.outcome {
				t.Errorf("got %s, outcome %s; want %s, outcome %s", e, e.Outcome, tt.code, tt.outcome)
			}
			port := strconv.Itoa(0)
			if base != nil {
				port = base.Port()
			}
			if strings.Contains(e.Message, "127.0.0.1") || strings.Contains(e.Message, ":"+port) || strings.Contains(e.Message, testKey) {
				t.Errorf("message %q names the distributor's address or its key", e.Message)
			}
		})
	}
}

func cmpOr(v, def any) any {
	if v == nil {
		return def
	}
	return v
}

// TestExchangeSuccessIsDefinitive: a 2xx that decodes is no error, and a
// 2xx carrying the distributor's own error message (CB answers its EBS
// errors with 200), read through Error, is a definitive refusal.
func TestExchangeSuccessIsDefinitive(t *testing.T) {
	x := newExchange(t, answer(http.StatusCreated, "application/json", `{"loan_id":"L1"}`))
	x.Errors = outcomeTable
	var out struct {
		LoanID string `json:"loan_id"`
	}
	if err := x.JSON(t.Context(), http.MethodPost, "/loans", nil, &out); err != nil || out.LoanID != "L1" {
		t.Fatalf("JSON: %+v, %v", out, err)
	}
	for _, tc := range []struct {
		status int
		body   string
		want   Outcome
	}{
		{http.StatusOK, `{"code":"NO_COPIES"}`, OutcomeDefinitive},
		{http.StatusOK, `{"code":"UNDOCUMENTED"}`, OutcomeDefinitive},
		{http.StatusInternalServerError, `{"code":"ORDER_FAILED"}`, OutcomeDefinitive},
		{http.StatusInternalServerError, `{"code":"UNDOCUMENTED"}`, OutcomeUnknown},
		{http.StatusBadGateway, gatewayPage, OutcomeUnknown},
		{http.StatusRequestTimeout, ``, OutcomeUnknown},
		{http.StatusBadRequest, ``, OutcomeDefinitive},
	} {
		if got := x.Error(tc.status, http.Header{}, []byte(tc.body)).Outcome; got != tc.want {
			t.Errorf("Error(%d, %.30q): outcome %s, want %s", tc.status, tc.body, got, tc.want)
		}
	}
}
