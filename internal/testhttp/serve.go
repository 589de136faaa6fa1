package testhttp

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Serve serves h (a simulator, a canned distributor) on a loopback test
// server that is closed when t ends.
func Serve(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
