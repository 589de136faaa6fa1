package host_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestBadInputIsRefusedAndStoresNothing(t *testing.T) {
	e := start(t, fakeConfig(t))
	l := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
	events := e.eventCount()

	big := `{"item":"` + strings.Repeat("9", 2<<20) + `","patron":"p1"}`
	tests := []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
		code               string
	}{
		{"missing item", "POST", "/v1/providers/fake-a/loans", `{"patron":"p1"}`, nil, 400, "invalid_request"},
		{"missing patron", "POST", "/v1/providers/fake-a/loans", `{"item":"` + isbnOK + `"}`, nil, 400, "invalid_request"},
		{"unknown field", "POST", "/v1/providers/fake-a/loans", `{"item":"` + isbnOK + `","patron":"p1","colour":"red"}`, nil, 400, "invalid_request"},
		{"unknown option", "POST", "/v1/providers/fake-a/loans", `{"item":"` + isbnOK + `","patron":"p1","options":{"speed":"fast"}}`, nil, 400, "invalid_request"},
		{"option value not allowed", "POST", "/v1/providers/fake-a/loans", `{"item":"` + isbnOK + `","patron":"p1","options":{"level":"mid"}}`, nil, 400, "invalid_request"},
		{"wrong check digit", "POST", "/v1/providers/fake-a/loans", `{"item":"9789084999812","patron":"p1"}`, nil, 400, "invalid_request"},
		{"the seed's unavailable EAN has a wrong check digit", "POST", "/v1/providers/fake-a/loans", `{"item":"9999999999999","patron":"p1"}`, nil, 400, "invalid_request"},
		{"patron with bad characters", "POST", "/v1/providers/fake-a/loans", `{"item":"` + isbnOK + `","patron":"p 1;drop"}`, nil, 400, "invalid_request"},
		{"patron too long", "POST", "/v1/providers/fake-a/loans", `{"item":"` + isbnOK + `","patron":"` + strings.Repeat("p", 101) + `"}`, nil, 400, "invalid_request"},
		{"format not offered", "POST", "/v1/providers/fake-a/loans", `{"item":"` + isbnOK + `","patron":"p1","format":"mobi"}`, nil, 400, "invalid_request"},
		{"negative days", "POST", "/v1/providers/fake-a/loans", `{"item":"` + isbnOK + `","patron":"p1","days":-1}`, nil, 400, "invalid_request"},
		{"not JSON", "POST", "/v1/providers/fake-a/loans", `item=1`, nil, 400, "invalid_request"},
		{"two JSON values", "POST", "/v1/providers/fake-a/loans", `{"item":"` + isbnOK + `","patron":"p1"}{}`, nil, 400, "invalid_request"},
		{"empty body", "POST", "/v1/providers/fake-a/loans", ``, nil, 400, "invalid_request"},
		{"2 MiB body", "POST", "/v1/providers/fake-a/loans", big, nil, 413, "invalid_request"},
		{"no API key", "POST", "/v1/providers/fake-a/loans", `{"item":"` + isbnOK + `","patron":"p1"}`, []string{"Authorization", ""}, 401, "unauthorized"},
		{"wrong API key", "POST", "/v1/providers/fake-a/loans", `{"item":"` + isbnOK + `","patron":"p1"}`, []string{"Authorization", "Bearer nope"}, 401, "unauthorized"},
		{"API key on admin endpoint", "POST", "/v1/admin/plugins/fake/reload", `{}`, nil, 403, "forbidden"},
		{"unknown provider", "POST", "/v1/providers/nope/loans", `{"item":"` + isbnOK + `","patron":"p1"}`, nil, 404, "provider_not_found"},
		{"unknown loan", "GET", "/v1/providers/fake-a/loans/ln_nope", nil, nil, 404, "loan_not_found"},
		{"unknown loan renewal", "POST", "/v1/providers/fake-a/loans/ln_nope/renewal", `{"days":3}`, nil, 404, "loan_not_found"},
		{"renewal without days", "POST", "/v1/providers/fake-a/loans/" + l.ID + "/renewal", `{}`, nil, 400, "invalid_request"},
		{"renewal by another patron", "POST", "/v1/providers/fake-a/loans/" + l.ID + "/renewal", `{"days":3,"patron":"p2"}`, nil, 409, "patron_mismatch"},
		{"loan of another provider", "GET", "/v1/providers/fake-b/loans/" + l.ID, nil, nil, 404, "loan_not_found"},
		{"unknown path", "GET", "/v1/nothing", nil, nil, 404, "invalid_request"},
		{"wrong method", "PUT", "/v1/providers/fake-a/loans", `{}`, nil, 405, "invalid_request"},
		{"patron or status query missing", "GET", "/v1/providers/fake-a/loans", nil, nil, 400, "invalid_request"},
		{"bad cursor", "GET", "/v1/events?after=xyz", nil, nil, 400, "invalid_request"},
		{"unsupported operation", "POST", "/v1/providers/fake-a/downloads", `{"customer":"c","transaction":"t","item":"` + isbnOK + `","format":"epub","patron_name":"J"}`, nil, 501, "unsupported_operation"},
		{"idempotency key too long", "POST", "/v1/providers/fake-a/loans", `{"item":"` + isbnOK + `","patron":"p1"}`, []string{"Idempotency-Key", strings.Repeat("k", 101)}, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			r := e.do(tt.method, tt.path, tt.body, tt.headers...)
			p := e.expectProblem(r, tt.status, tt.code)
			if p.Status != tt.status || p.Type == "" || p.Title == "" {
				t.Errorf("problem %+v", p)
			}
			if tt.status == http.StatusUnauthorized && r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
	e.t = t
	loans, _ := e.h.PatronLoans(t.Context(), "fake-a", "p1")
	if len(loans) != 1 {
		t.Errorf("bad requests stored loans: %d, want 1", len(loans))
	}
	if n := e.eventCount(); n != events {
		t.Errorf("bad requests appended events: %d, want %d", n, events)
	}
	got, _ := e.h.Loan(t.Context(), "fake-a", l.ID)
	if got.Status != "active" || !got.ExpiresAt.Equal(*l.ExpiresAt) {
		t.Errorf("bad requests changed the loan: %+v", got)
	}
}

func TestISBN10IsConverted(t *testing.T) {
	e := start(t, fakeConfig(t))
	l := checkout(e, "fake-a", map[string]any{"item": "0-306-40615-2", "patron": "p1"})
	if l.Item != "9780306406157" {
		t.Errorf("item %q, want the ISBN-13 9780306406157", l.Item)
	}
}

func TestPluginErrorsCrossTheWire(t *testing.T) {
	e := start(t, fakeConfig(t))
	tests := []struct {
		mode   string
		status int
		code   string
	}{
		{"error:not_available", 409, "not_available"},
		{"error:limit_reached", 409, "limit_reached"},
		{"error:provider_credentials", 502, "provider_credentials"},
		{"error:made_up_code", 502, "provider_error"},
		{"panic", 502, "provider_error"},
		// Last: a distributor's pause holds the instance (fake-b) for 3 s.
		{"error:try_later", 503, "try_later"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			e.t = t
			r := e.do("POST", "/v1/providers/fake-b/loans", map[string]any{"item": isbnOK, "patron": "p1", "options": map[string]string{"mode": tt.mode}})
			p := e.expectProblem(r, tt.status, tt.code)
			if strings.HasPrefix(tt.mode, "error:") && tt.code != "provider_error" && p.ProviderCode != "FAKE-1" {
				t.Errorf("provider_code %q, want FAKE-1", p.ProviderCode)
			}
			if tt.code == "try_later" && (r.header.Get("Retry-After") != "3" || p.RetryAfter != 3) {
				t.Errorf("Retry-After %q / %d, want 3", r.header.Get("Retry-After"), p.RetryAfter)
			}
		})
	}
	e.t = t
	// After a panic the plugin still serves; the pause asked for on fake-b
	// does not slow fake-a on the same plugin process.
	checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
	e.expectProblem(e.do("POST", "/v1/providers/fake-b/loans", map[string]any{"item": isbnOK, "patron": "p1"}), 503, "try_later")
}
