package demarquesim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/internal/testclock"
	"github.com/lendgate/lendgate/internal/testhttp"
	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
)

// newClock is a settable clock for the simulator.
func newClock() *testclock.Clock {
	return testclock.New(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
}

// start serves a simulator on a test server.
func start(t *testing.T, opts ...demarquesim.Option) (*demarquesim.Sim, *httptest.Server) {
	t.Helper()
	sim := demarquesim.New(opts...)
	return sim, testhttp.Serve(t, sim)
}

// answer is a decoded simulator answer.
type answer struct {
	status int
	URL    string `json:"url"`
	Error  string `json:"error"`
	header http.Header
}

func decode(t *testing.T, resp *http.Response) answer {
	t.Helper()
	defer resp.Body.Close()
	var a answer
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading answer: %v", err)
	}
	_ = json.Unmarshal(body, &a)
	a.status, a.header = resp.StatusCode, resp.Header
	return a
}

func post(t *testing.T, target string, form url.Values) answer {
	t.Helper()
	resp, err := http.PostForm(target, form)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	return decode(t, resp)
}

// lendForm is a valid creation form expiring in days days from now.
func lendForm(now time.Time, borrower, tx string, days int) url.Values {
	return url.Values{
		"borrower_id":    {borrower},
		"transaction_id": {tx},
		"expire_at":      {now.UTC().Add(time.Duration(days) * 24 * time.Hour).Format(demarquesim.ExpireAtLayout)},
	}
}

// downloadPath is the retail API path for the given parts.
func downloadPath(org, customer, tx, isbn, format string) string {
	return "/api/organisations/" + org + "/customers/" + customer + "/transactions/" + tx +
		"/publications/" + isbn + "/download_links/" + format
}

func getDownload(t *testing.T, base, path, query, user, pass string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, base+path+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	return decode(t, resp)
}

func getStatus(t *testing.T, target string) (int, string) {
	t.Helper()
	resp, err := http.Get(target)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}
