package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/lendgate/lendgate/sdk"
)

// maxBodyBytes is the API's request body limit (api.md §2).
const maxBodyBytes = 1 << 20

type ctxKey struct{}

// FromContext returns the Host that Middleware put into a request's context.
func FromContext(ctx context.Context) (*Host, bool) {
	h, ok := ctx.Value(ctxKey{}).(*Host)
	return h, ok
}

// Middleware serves the API (/v1/…, /healthz, /readyz, /metrics) and passes
// every other request to next, with the Host in its context (FromContext).
func (h *Host) Middleware(next http.Handler) http.Handler {
	api := h.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if strings.HasPrefix(p, "/v1/") || p == "/healthz" || p == "/readyz" || p == "/metrics" {
			api.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, h)))
	})
}

// Handler returns the HTTP API of api.md, rooted at "/". Mount it under a
// prefix with http.StripPrefix (and set Config.PublicURL to match).
func (h *Host) Handler() http.Handler {
	mux := http.NewServeMux()
	api := func(pattern string, fn func(w http.ResponseWriter, r *http.Request) error) {
		mux.Handle(pattern, h.authed(false, fn))
	}
	api("GET /v1/providers", h.httpProviders)
	api("GET /v1/providers/{provider}", h.httpProvider)
	api("POST /v1/providers/{provider}/loans", h.httpCheckout)
	api("GET /v1/providers/{provider}/loans", h.httpPatronLoans)
	api("GET /v1/providers/{provider}/loans/{loan}", h.httpLoan)
	api("POST /v1/providers/{provider}/loans/{loan}/fulfillment", h.httpFulfill)
	api("POST /v1/providers/{provider}/loans/{loan}/renewal", h.httpRenew)
	api("DELETE /v1/providers/{provider}/loans/{loan}", h.httpReturn)
	api("POST /v1/providers/{provider}/downloads", providerOp(h, h.Download))
	api("POST /v1/providers/{provider}/access-checks", providerOp(h, h.CheckAccess))
	api("GET /v1/events", h.httpEvents)
	mux.Handle("POST /v1/admin/plugins/{plugin}/reload", h.authed(true, h.httpReload))
	mux.Handle("GET /v1/admin/webhooks", h.authed(true, h.httpWebhooks))
	// No API key: the signature, the token, or nothing is the authority.
	mux.Handle("GET /v1/providers/{provider}/loans/{loan}/content", h.open(h.httpContent))
	mux.Handle("POST /v1/notifications/{provider}/{token}", h.open(h.httpNotify))
	mux.HandleFunc("GET /v1/openapi.json", h.httpOpenAPI)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if st := h.readiness(); st != "ready" {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": st})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.Handle("GET /metrics", h.metrics.handler())
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
		writeProblemStatus(w, http.StatusNotFound, invalid("no such endpoint: %s", clip(r.URL.Path, maxLoggedText)))
	})
	return mux
}

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

// writeProblemStatus writes a problem with an HTTP status of its own (404
// and 405 of routing).
func writeProblemStatus(w http.ResponseWriter, status int, e *Error) {
	p, _ := problemFor(e, "")
	p.Status = status
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

func (h *Host) authed(admin bool, fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.auth.Authenticate(r, admin); err != nil {
			if code := sdk.CodeOf(err); code != sdk.CodeUnauthorized && code != sdk.CodeForbidden {
				err = sdk.Errorf(sdk.CodeUnauthorized, "not authenticated")
			}
			if sdk.CodeOf(err) == sdk.CodeUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="lendgate"`)
			}
			writeProblem(w, err, "")
			return
		}
		h.open(fn).ServeHTTP(w, r)
	})
}

func (h *Host) open(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		if err := fn(w, r); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				// The route's pattern, not the path: a path carries a
				// caller's strings of any length, and tokens.
				h.log.Error("request failed", "method", clip(r.Method, 16), "route", r.Pattern, "error", clip(err.Error(), 4*maxLoggedText))
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

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body strictly: one object, no unknown fields, at most
// maxBodyBytes (413 beyond).
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return invalid("Content-Type must be application/json")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errBodyTooLarge
		}
		return invalid("reading body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errNoBody
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid("invalid JSON body: %v", jsonError(err))
	}
	if dec.More() {
		return invalid("invalid JSON body: more than one value")
	}
	return nil
}

// errNoBody is the answer to a missing body where one is required.
var errNoBody = invalid("a JSON body is required")

// errBodyTooLarge is invalid_request with status 413 (api.md §3).
var errBodyTooLarge error = &tooLarge{e: sdk.Errorf(sdk.CodeInvalidRequest, "request body is larger than %d bytes", maxBodyBytes)}

type tooLarge struct{ e *Error }

func (t *tooLarge) Error() string { return t.e.Error() }
func (t *tooLarge) Unwrap() error { return t.e }

func jsonError(err error) string {
	msg := err.Error()
	return strings.TrimPrefix(msg, "json: ")
}

func queryInt(r *http.Request, key string) (int, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, invalid("%s must be a non-negative integer", key)
	}
	return n, nil
}
