package apitest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/sdk"
)

func TestDocumentIsOpenAPI31(t *testing.T) {
	for _, err := range ValidateDocument(host.OpenAPI()) {
		t.Error(err)
	}
}

func TestValidateDocumentRefusesABrokenDocument(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(host.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	delete(doc, "info") // required by the OpenAPI schema
	b, _ := json.Marshal(doc)
	if errs := ValidateDocument(b); len(errs) == 0 {
		t.Error("a document without info validated")
	}
}

// The problem code enum is sdk's code table, in its order.
func TestCodeEnumIsSDKCodes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				Code struct {
					Enum []sdk.Code `json:"enum"`
				} `json:"Code"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(host.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Components.Schemas.Code.Enum; !slices.Equal(got, sdk.Codes) {
		t.Errorf("components.schemas.Code.enum = %v\nsdk.Codes = %v", got, sdk.Codes)
	}
}

// exchange serves one canned answer and sends req through Transport.
func exchange(t *testing.T, method, path, reqBody string, status int, contentType, respBody string) []string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		if status == http.StatusSeeOther {
			w.Header().Set("Location", "https://distributor.example/file.epub")
		}
		w.WriteHeader(status)
		io.WriteString(w, respBody)
	}))
	defer srv.Close()
	c := &Recorder{}
	client := &http.Client{Transport: Transport(c, nil), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var body io.Reader
	if reqBody != "" {
		body = strings.NewReader(reqBody)
	}
	req, err := http.NewRequest(method, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer k")
	if reqBody != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != respBody {
		t.Errorf("the caller read %q, the server sent %q", got, respBody)
	}
	return c.Failures()
}

const (
	loanJSON    = `{"id":"ln_1","provider":"cb","item":"9789084999813","patron":"p-1","status":"active","created_at":"2026-11-22T10:00:00Z","links":[]}`
	problemJSON = `{"type":"https://lendgate.dev/problems/invalid-request","title":"Invalid request","status":400,"code":"invalid_request","retryable":false}`
	checkout    = `{"item":"9789084999813","patron":"p-1"}`
)

func TestTransportPassesWhatTheDocumentDescribes(t *testing.T) {
	for _, tt := range []struct {
		name, method, path, body string
		status                   int
		ct, resp                 string
	}{
		{"checkout", "POST", "/v1/providers/cb/loans", checkout, 201, "application/json", loanJSON},
		{"refused checkout", "POST", "/v1/providers/cb/loans", `{"item":"x","patron":"p-1","colour":"red"}`, 400, "application/problem+json", problemJSON},
		{"unknown path", "GET", "/v1/nowhere", "", 404, "application/problem+json", strings.Replace(problemJSON, "400", "404", 1)},
		{"unknown method", "PUT", "/v1/providers", "", 405, "application/problem+json", strings.Replace(problemJSON, "400", "405", 1)},
		{"redirect", "GET", "/v1/providers/cb/loans/ln_1/content?format=epub&exp=1&sig=abc", "", 303, "", ""},
		{"document", "GET", "/v1/openapi.json", "", 200, "application/json", `{"openapi":"3.1.0"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := exchange(t, tt.method, tt.path, tt.body, tt.status, tt.ct, tt.resp); len(got) > 0 {
				t.Errorf("reported: %q", got)
			}
		})
	}
}

func TestTransportReportsDrift(t *testing.T) {
	for _, tt := range []struct {
		name, method, path, body string
		status                   int
		ct, resp                 string
		want                     string
	}{
		{"loan without id", "POST", "/v1/providers/cb/loans", checkout, 201, "application/json",
			strings.Replace(loanJSON, `"id":"ln_1",`, "", 1), "does not match"},
		{"unknown loan status", "GET", "/v1/providers/cb/loans/ln_1", "", 200, "application/json",
			strings.Replace(loanJSON, "active", "lent", 1), "does not match"},
		{"code outside the table", "GET", "/v1/providers/cb", "", 404, "application/problem+json",
			strings.Replace(problemJSON, "invalid_request", "no_such_code", 1), "does not match"},
		{"error as plain text", "GET", "/v1/providers/cb", "", 500, "text/plain", "oops", "does not match"},
		{"unknown member accepted", "POST", "/v1/providers/cb/loans", `{"item":"x","patron":"p-1","colour":"red"}`, 201, "application/json",
			loanJSON, "the document refuses this request"},
		{"404 as text", "GET", "/v1/nowhere", "", 404, "text/plain", "404 page not found", "application/problem+json"},
		{"unknown path answered 200", "GET", "/v1/nowhere", "", 200, "application/json", "{}", "want 404"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := exchange(t, tt.method, tt.path, tt.body, tt.status, tt.ct, tt.resp)
			if len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), tt.want) {
				t.Errorf("reported %q, want a report containing %q", got, tt.want)
			}
		})
	}
}

// A request that follows a redirect goes to the distributor, not the API.
func TestTransportLeavesRedirectTargetsAlone(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "the book")
	}))
	defer target.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, target.URL+"/v1/checkouts/1", http.StatusSeeOther)
	}))
	defer api.Close()
	c := &Recorder{}
	client := &http.Client{Transport: Transport(c, nil)}
	resp, err := client.Get(api.URL + "/v1/providers/cb/loans/ln_1/content?format=epub&exp=1&sig=abc")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(c.Failures()) > 0 {
		t.Errorf("status %d, reported %q", resp.StatusCode, c.Failures())
	}
}

func TestReportFailsAPassingRun(t *testing.T) {
	var out strings.Builder
	reportTo = &out
	defer func() { Unattended, reportTo = &Recorder{}, os.Stderr }()
	if Report(0) != 0 {
		t.Error("Report(0) with nothing recorded is not 0")
	}
	Unattended.Errorf("drift %d", 1)
	if Report(0) == 0 {
		t.Error("Report(0) with a recorded failure is 0")
	}
	if !strings.Contains(out.String(), "drift 1") {
		t.Errorf("Report printed %q, want the recorded failure", out.String())
	}
}

// The e2e tests send from many goroutines through one Transport (and one
// compiled document).
func TestTransportIsSafeForConcurrentUse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, loanJSON)
	}))
	defer srv.Close()
	c := &Recorder{}
	client := &http.Client{Transport: Transport(c, nil)}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				req, _ := http.NewRequest("POST", srv.URL+"/v1/providers/cb/loans", strings.NewReader(checkout))
				req.Header.Set("Authorization", "Bearer k")
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if len(c.Failures()) > 0 {
		t.Errorf("reported: %q", c.Failures()[0])
	}
}
