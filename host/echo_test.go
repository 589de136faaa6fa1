package host_test

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// maxEcho is the most of what a caller sent that an answer or a log line
// may carry (api.md §7).
const maxEcho = 120

// maxAnswer is "a few hundred bytes": the most a refusal's body may be,
// whatever the request held.
const maxAnswer = 600

// Nothing a caller sends comes back longer than 120 bytes, in a problem's
// detail, provider or loan, nor in a log line: a 500 KB name (or id, or
// value) in each place of each route, with and without a key, gets a
// short answer that holds at most its first 120 bytes.
func TestNothingEchoedLongerThan120Bytes(t *testing.T) {
	cfg := fakeConfig(t)
	e := start(t, cfg)
	l := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
	rng := rand.New(rand.NewPCG(5, 6))
	big := randomName(rng, 500<<10)
	exp := strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10)
	admin := []string{"Authorization", "Bearer " + testAdminKey}
	none := []string{"Authorization", ""}
	tests := []struct {
		name, method, path string
		body               any
		headers            []string
	}{
		// No key.
		{"content, provider", "GET", "/v1/providers/" + big + "/loans/" + l.ID + "/content?format=epub&exp=" + exp + "&sig=AAAA", nil, none},
		{"content, loan", "GET", "/v1/providers/fake-a/loans/" + big + "/content?format=epub&exp=" + exp + "&sig=AAAA", nil, none},
		{"content, format", "GET", "/v1/providers/fake-a/loans/" + l.ID + "/content?format=" + big + "&exp=" + exp + "&sig=AAAA", nil, none},
		{"content, sig", "GET", "/v1/providers/fake-a/loans/" + l.ID + "/content?format=epub&exp=" + exp + "&sig=" + big, nil, none},
		{"content, exp", "GET", "/v1/providers/fake-a/loans/" + l.ID + "/content?format=epub&exp=" + big + "&sig=AAAA", nil, none},
		{"notification, provider", "POST", "/v1/notifications/" + big + "/" + l.ID + ".AAAA", `{}`, none},
		{"notification, token", "POST", "/v1/notifications/fake-a/" + big, `{}`, none},
		{"no such route", "GET", "/v1/" + big, nil, none},
		{"no key, keyed route", "GET", "/v1/providers/" + big, nil, none},
		// With a key.
		{"provider", "GET", "/v1/providers/" + big, nil, nil},
		{"checkout, provider", "POST", "/v1/providers/" + big + "/loans", map[string]any{"item": isbnOK, "patron": "p1"}, nil},
		{"checkout, format", "POST", "/v1/providers/fake-a/loans", map[string]any{"item": isbnOK, "patron": "p1", "format": big[:100<<10]}, nil},
		{"checkout, option", "POST", "/v1/providers/fake-a/loans", map[string]any{"item": isbnOK, "patron": "p1", "options": map[string]string{big[:100<<10]: "x"}}, nil},
		{"checkout, unknown member", "POST", "/v1/providers/fake-a/loans", `{"item":"` + isbnOK + `","patron":"p1","` + big[:100<<10] + `":1}`, nil},
		{"checkout, item", "POST", "/v1/providers/fake-a/loans", map[string]any{"item": big[:100<<10], "patron": "p1"}, nil},
		{"checkout, item not an ISBN", "POST", "/v1/providers/fake-a/loans", map[string]any{"item": big[:200], "patron": "p1"}, nil},
		{"checkout, option value", "POST", "/v1/providers/fake-a/loans", map[string]any{"item": isbnOK, "patron": "p1", "options": map[string]string{"level": big[:2000]}}, nil},
		{"checkout, key", "POST", "/v1/providers/fake-a/loans", map[string]any{"item": isbnOK, "patron": "p1"}, []string{"Idempotency-Key", big[:100<<10]}},
		{"patron's loans, provider", "GET", "/v1/providers/" + big + "/loans?patron=p1", nil, nil},
		{"patron's loans, patron", "GET", "/v1/providers/fake-a/loans?patron=" + big, nil, nil},
		{"loans by status, status", "GET", "/v1/providers/fake-a/loans?status=" + big, nil, nil},
		{"loan, provider", "GET", "/v1/providers/" + big + "/loans/" + l.ID, nil, nil},
		{"loan, loan", "GET", "/v1/providers/fake-a/loans/" + big, nil, nil},
		{"fulfillment, loan", "POST", "/v1/providers/fake-a/loans/" + big + "/fulfillment", nil, nil},
		{"fulfillment, format", "POST", "/v1/providers/fake-a/loans/" + l.ID + "/fulfillment", map[string]any{"format": big[:100<<10]}, nil},
		{"renewal, loan", "POST", "/v1/providers/fake-a/loans/" + big + "/renewal", map[string]any{"days": 7}, nil},
		{"return, provider", "DELETE", "/v1/providers/" + big + "/loans/" + l.ID, nil, nil},
		{"return, loan", "DELETE", "/v1/providers/fake-a/loans/" + big, nil, nil},
		{"download, provider", "POST", "/v1/providers/" + big + "/downloads", map[string]any{"item": isbnOK, "patron": "p1"}, nil},
		{"access check, provider", "POST", "/v1/providers/" + big + "/access-checks", map[string]any{"item": isbnOK, "patron": "p1"}, nil},
		{"events, after", "GET", "/v1/events?after=" + big, nil, nil},
		{"events, limit", "GET", "/v1/events?limit=" + big, nil, nil},
		{"reload, plugin", "POST", "/v1/admin/plugins/" + big + "/reload", nil, admin},
		{"reload, sha256", "POST", "/v1/admin/plugins/fake/reload", map[string]any{"sha256": big[:100<<10]}, admin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logsBefore := len(e.logs.String())
			r := e.do(tt.method, tt.path, tt.body, tt.headers...)
			if r.status < 400 {
				t.Fatalf("status %d: %.300s", r.status, r.body)
			}
			if len(r.body) > maxAnswer {
				t.Errorf("a %d-byte answer: %.300s…", len(r.body), r.body)
			}
			if strings.Contains(string(r.body), big[:maxEcho+1]) {
				t.Errorf("the answer echoes more than %d bytes of the request: %.300s…", maxEcho, r.body)
			}
			for h, v := range r.header {
				if strings.Contains(strings.Join(v, " "), big[:maxEcho+1]) {
					t.Errorf("header %s echoes more than %d bytes of the request", h, maxEcho)
				}
			}
			logs := e.logs.String()[logsBefore:]
			if n := longestLine(logs); n > maxOutsiderLogLine {
				t.Errorf("a log line of %d bytes", n)
			}
			if strings.Contains(logs, big[:maxEcho+1]) {
				t.Errorf("a log line holds more than %d bytes of the request", maxEcho)
			}
			if r.status != http.StatusRequestEntityTooLarge {
				r.problem(t)
			}
		})
	}
}
