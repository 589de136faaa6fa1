package host_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lendgate/lendgate/host"
)

func TestMiddlewareServesAPIAndPassesTheRest(t *testing.T) {
	cfg := fakeConfig(t)
	h, err := host.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	ils := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := host.FromContext(r.Context())
		if !ok || got != h {
			http.Error(w, "no host in context", 500)
			return
		}
		io.WriteString(w, "ils page "+r.URL.Path)
	})
	srv := httptest.NewServer(h.Middleware(ils))
	defer srv.Close()
	get := func(path string, auth bool) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+testAPIKey)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/catalogue", false); code != 200 || body != "ils page /catalogue" {
		t.Errorf("ILS page: %d %q", code, body)
	}
	if code, body := get("/v1/providers", true); code != 200 || !strings.Contains(body, `"fake-a"`) {
		t.Errorf("API through the middleware: %d %s", code, body)
	}
	if code, _ := get("/v1/providers", false); code != 401 {
		t.Errorf("API without a key through the middleware: %d", code)
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, _ := get(p, false); code != 200 {
			t.Errorf("%s: %d", p, code)
		}
	}
	if _, ok := host.FromContext(context.Background()); ok {
		t.Error("FromContext found a host in a bare context")
	}
}

func TestHandlerUnderAPrefix(t *testing.T) {
	cfg := fakeConfig(t)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cfg.PublicURL = srv.URL + "/lending"
	h, err := host.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	mux.Handle("/lending/", http.StripPrefix("/lending", h.Handler()))
	l, err := h.Checkout(context.Background(), "fake-a", host.CheckoutRequest{Item: isbnOK, Patron: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := h.Fulfill(context.Background(), "fake-a", l.ID, host.FulfillRequest{})
	if err != nil || !strings.HasPrefix(f.Redirect, srv.URL+"/lending/v1/providers/fake-a/loans/"+l.ID+"/content?") {
		t.Fatalf("redirect %q %v", f.Redirect, err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(f.Redirect)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("redirect under the prefix: %d", resp.StatusCode)
	}
}

// An application with probes of its own keeps them with PassProbes: the
// middleware then serves /v1/… only, and the host's probes stay reachable
// through Handler.
func TestMiddlewarePassProbesLeavesTheApplicationsOwn(t *testing.T) {
	e := start(t, fakeConfig(t))
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "app "+r.URL.Path) })
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		rec := httptest.NewRecorder()
		e.h.Middleware(app, host.PassProbes()).ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Body.String() != "app "+path {
			t.Errorf("GET %s with PassProbes: %d %.60q, want the application's", path, rec.Code, rec.Body.String())
		}
		rec = httptest.NewRecorder()
		e.h.Middleware(app).ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if strings.HasPrefix(rec.Body.String(), "app ") {
			t.Errorf("GET %s without PassProbes reached the application", path)
		}
	}
	rec := httptest.NewRecorder()
	e.h.Middleware(app, host.PassProbes()).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/openapi.json", nil))
	if rec.Code != http.StatusOK || strings.HasPrefix(rec.Body.String(), "app ") {
		t.Errorf("/v1/ with PassProbes: %d, want the host's", rec.Code)
	}
}
