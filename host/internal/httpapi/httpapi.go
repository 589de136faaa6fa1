// Package httpapi is the HTTP codec of the lending API: it routes each
// request, authenticates it, decodes its body strictly, calls the one Go
// operation behind it and writes the answer, or the error as
// application/problem+json. It holds no lending logic: everything it does
// past decoding is a call on the Lender it is given.
package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host/api"
	"github.com/lendgate/lendgate/host/internal/logsafe"
	"github.com/lendgate/lendgate/sdk"
)

// Lender is what the codec needs of the host: the Go operations, in the
// forms that also tell what HTTP shows (a replayed answer, a body read only
// once its token is known).
type Lender interface {
	Providers(ctx context.Context) []api.Provider
	Provider(ctx context.Context, name string) (api.Provider, error)
	// Instance reports an unknown provider as not_found, before a body is read.
	Instance(name string) error
	Checkout(ctx context.Context, provider string, r api.CheckoutRequest) (l api.Loan, replayed bool, err error)
	PatronLoans(ctx context.Context, provider, patron string) ([]api.Loan, error)
	LoansByStatus(ctx context.Context, provider, status string) ([]api.Loan, error)
	Loan(ctx context.Context, provider, id string) (api.Loan, error)
	Fulfill(ctx context.Context, provider, loanID string, r api.FulfillRequest) (api.Fulfillment, error)
	ContentLink(ctx context.Context, provider, loanID, format, exp, sig string) (string, error)
	Renew(ctx context.Context, provider, loanID string, r api.RenewRequest) (l api.Loan, replayed bool, err error)
	Return(ctx context.Context, provider, loanID, key string) (l api.Loan, replayed bool, err error)
	Download(ctx context.Context, provider string, r api.DownloadRequest) (api.Fulfillment, error)
	CheckAccess(ctx context.Context, provider string, r api.AccessCheckRequest) (api.AccessCheck, error)
	Notify(ctx context.Context, provider, token, method string, header map[string][]string, readBody func() ([]byte, error)) error
	Events(ctx context.Context, after string, limit int) (api.EventPage, error)
	Reload(ctx context.Context, plugin string, r api.ReloadRequest) (api.ReloadResult, error)
	Webhooks(ctx context.Context) ([]api.WebhookStatus, error)
	// Readiness is "ready", or why not.
	Readiness() string
}

// Config is what New serves.
type Config struct {
	Lender Lender
	// Authenticate refuses a caller with unauthorized or forbidden; admin is
	// true for the admin endpoints.
	Authenticate func(r *http.Request, admin bool) error
	Metrics      http.Handler
	OpenAPI      []byte
	Log          hclog.Logger
}

// New returns the HTTP API rooted at "/".
func New(c Config) http.Handler {
	s := &server{Config: c}
	mux := http.NewServeMux()
	caller := func(pattern string, fn handlerFunc) { mux.Handle(pattern, s.authed(false, fn)) }
	caller("GET /v1/providers", s.providers)
	caller("GET /v1/providers/{provider}", s.provider)
	caller("POST /v1/providers/{provider}/loans", s.checkout)
	caller("GET /v1/providers/{provider}/loans", s.patronLoans)
	caller("GET /v1/providers/{provider}/loans/{loan}", s.loan)
	caller("POST /v1/providers/{provider}/loans/{loan}/fulfillment", s.fulfill)
	caller("POST /v1/providers/{provider}/loans/{loan}/renewal", s.renew)
	caller("DELETE /v1/providers/{provider}/loans/{loan}", s.returnLoan)
	caller("POST /v1/providers/{provider}/downloads", providerOp(s, c.Lender.Download))
	caller("POST /v1/providers/{provider}/access-checks", providerOp(s, c.Lender.CheckAccess))
	caller("GET /v1/events", s.events)
	mux.Handle("POST /v1/admin/plugins/{plugin}/reload", s.authed(true, s.reload))
	mux.Handle("GET /v1/admin/webhooks", s.authed(true, s.webhooks))
	// No API key: the signature, the token, or nothing is the authority.
	mux.Handle("GET /v1/providers/{provider}/loans/{loan}/content", s.open(s.content))
	mux.Handle("POST /v1/notifications/{provider}/{token}", s.open(s.notify))
	mux.HandleFunc("GET /v1/openapi.json", s.openAPI)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if st := c.Lender.Readiness(); st != "ready" {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": st})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.Handle("GET /metrics", c.Metrics)
	// Everything else: the mux's own 404 and 405 answers are plain text;
	// ours are problems like every other error. (A catch-all route, so the
	// hot path routes once.)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allowed := allowedMethods(mux, r); allowed != "" {
			w.Header().Set("Allow", allowed)
			writeProblemStatus(w, http.StatusMethodNotAllowed, invalid("method %s is not allowed here", clip(r.Method, 16)))
			return
		}
		// The path clipped: an answer need not echo a caller's megabyte.
		writeProblemStatus(w, http.StatusNotFound, invalid("no such endpoint: %s", logsafe.Echo(r.URL.Path)))
	})
	return mux
}

type server struct {
	Config
	// bodies pools the buffers request bodies are read into (decode).
	bodies sync.Pool
}

// handlerFunc is one endpoint: it writes its answer, or returns the error
// that becomes the problem.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// allowedMethods lists the methods the mux has for r's path.
func allowedMethods(mux *http.ServeMux, r *http.Request) string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := mux.Handler(probe); p != "" && p != "/" {
			out = append(out, m)
		}
	}
	return strings.Join(out, ", ")
}

func (s *server) authed(admin bool, fn handlerFunc) http.Handler {
	next := s.open(fn) // once, not per request
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Authenticate(r, admin); err != nil {
			if code := sdk.CodeOf(err); code != sdk.CodeUnauthorized && code != sdk.CodeForbidden {
				err = sdk.Errorf(sdk.CodeUnauthorized, "not authenticated")
			}
			if sdk.CodeOf(err) == sdk.CodeUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="lendgate"`)
			}
			writeProblem(w, err, "")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *server) open(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		if err := fn(w, r); err != nil {
			var e *sdk.Error
			if !errors.As(err, &e) {
				// The route's pattern, not the path: a path carries a
				// caller's strings of any length, and tokens.
				s.Log.Error("request failed", "method", clip(r.Method, 16), "route", r.Pattern, "error", clip(err.Error(), 4*maxLoggedText))
			}
			var tl *tooLarge
			if errors.As(err, &tl) {
				writeProblemStatus(w, http.StatusRequestEntityTooLarge, tl.e)
				return
			}
			writeProblem(w, err, r.PathValue("provider"))
		}
	})
}

// openAPI serves the document. It needs no key: it describes the API, it
// grants nothing.
func (s *server) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(s.OpenAPI)
}
