package host_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lendgate/lendgate/host"
)

// GET /v1/openapi.json serves the embedded document without a key, through
// Handler and through Middleware alike.
func TestOpenAPIDocumentIsServedWithoutKey(t *testing.T) {
	e := start(t, fakeConfig(t))
	r := e.do("GET", "/v1/openapi.json", nil, "Authorization", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if !bytes.Equal(r.body, host.OpenAPI()) {
		t.Errorf("served %d bytes, host.OpenAPI() has %d", len(r.body), len(host.OpenAPI()))
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
	}
	r.json(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}

	ils := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "the ILS", http.StatusTeapot) })
	rec := httptest.NewRecorder()
	e.h.Middleware(ils).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/openapi.json", nil))
	if rec.Code != http.StatusOK || !json.Valid(rec.Body.Bytes()) {
		t.Errorf("through Middleware: %d %.80s", rec.Code, rec.Body.String())
	}
}
