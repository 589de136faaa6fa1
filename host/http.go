package host

import (
	"context"
	"net/http"
	"strings"

	"github.com/lendgate/lendgate/host/api"
	"github.com/lendgate/lendgate/host/internal/httpapi"
)

type ctxKey struct{}

// FromContext returns the Host that Middleware put into a request's context.
func FromContext(ctx context.Context) (*Host, bool) {
	h, ok := ctx.Value(ctxKey{}).(*Host)
	return h, ok
}

// Middleware serves the API (/v1/…) and, unless an option passes them on,
// the host's probes (/healthz, /readyz, /metrics), and passes every other
// request to next, with the Host in its context (FromContext). An
// application that serves its own /healthz, /readyz or /metrics gives
// PassProbes: they then reach next, and the host's probes are served by
// Handler wherever it is mounted (e.g. under /lendgate/ with
// http.StripPrefix, as /lendgate/healthz).
func (h *Host) Middleware(next http.Handler, opts ...MiddlewareOption) http.Handler {
	var o middlewareOptions
	for _, opt := range opts {
		opt(&o)
	}
	apiHandler := h.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if strings.HasPrefix(p, "/v1/") || (!o.passProbes && (p == "/healthz" || p == "/readyz" || p == "/metrics")) {
			apiHandler.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, h)))
	})
}

// MiddlewareOption changes what Middleware serves itself.
type MiddlewareOption func(*middlewareOptions)

type middlewareOptions struct{ passProbes bool }

// PassProbes makes Middleware pass /healthz, /readyz and /metrics to the
// application's own handler rather than answer them.
func PassProbes() MiddlewareOption { return func(o *middlewareOptions) { o.passProbes = true } }

// Handler returns the HTTP API, rooted at "/". Mount it under a prefix with
// http.StripPrefix (and set Config.PublicURL to match).
func (h *Host) Handler() http.Handler {
	return httpapi.New(httpapi.Config{
		Lender:       lender{h},
		Authenticate: h.auth.Authenticate,
		Metrics:      h.scrape,
		OpenAPI:      api.OpenAPI(),
		Log:          h.log,
	})
}

// lender is the Host as the HTTP codec sees it: the Go operations in the
// forms that also say whether an answer was replayed.
type lender struct{ *Host }

func (l lender) Instance(name string) error {
	_, err := l.instance(name)
	return err
}

func (l lender) Checkout(ctx context.Context, provider string, r api.CheckoutRequest) (api.Loan, bool, error) {
	return l.checkout(ctx, provider, r)
}

func (l lender) Renew(ctx context.Context, provider, loanID string, r api.RenewRequest) (api.Loan, bool, error) {
	return l.renew(ctx, provider, loanID, r)
}

func (l lender) Return(ctx context.Context, provider, loanID, key string) (api.Loan, bool, error) {
	return l.returnLoan(ctx, provider, loanID, key)
}

func (l lender) Notify(ctx context.Context, provider, token, method string, header map[string][]string, readBody func() ([]byte, error)) error {
	return l.notify(ctx, provider, token, method, header, readBody)
}

func (l lender) Readiness() string { return l.readiness() }
