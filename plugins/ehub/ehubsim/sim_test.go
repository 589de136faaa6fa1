package ehubsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/internal/testclock"
	"github.com/lendgate/lendgate/sdk/sdktest/lostanswer"
)

type client struct {
	t      *testing.T
	srv    *httptest.Server
	key    string
	patron string
}

func newClient(t *testing.T, s *Sim) *client {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &client{t: t, srv: srv, key: DefaultAPIKey, patron: "p1"}
}

// do sends a request and decodes the JSON answer into a generic map.
func (c *client) do(method, path, body string) (int, http.Header, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if c.patron != "" {
		req.Header.Set(PatronHeader, c.patron)
	}
	resp, err := c.srv.Client().Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, resp.Header, m
}

func (c *client) checkout(record, format string) (int, map[string]any) {
	c.t.Helper()
	b, _ := json.Marshal(map[string]string{"recordId": record, "formatId": format})
	if format == "" {
		b, _ = json.Marshal(map[string]string{"recordId": record})
	}
	status, _, m := c.do(http.MethodPost, "/v1/checkouts", string(b))
	return status, m
}

func TestSeedRecordAnswersLikeTheSeed(t *testing.T) {
	clock := testclock.New(time.Date(2015, 12, 11, 0, 0, 0, 0, time.UTC))
	s := New(WithClock(clock.Now))
	c := newClient(t, s)

	status, m := c.checkout(RecordMultiFormat, "")
	if status != http.StatusCreated {
		t.Fatalf("status %d, body %v", status, m)
	}
	if m["expirationDate"] != "2016-01-01T00:00:00Z" {
		t.Errorf("expirationDate %v, want 21 days on", m["expirationDate"])
	}
	fm := m["formatMetadata"].(map[string]any)
	if len(fm) != 3 {
		t.Fatalf("formats %v", fm)
	}
	for _, f := range []string{FormatEbook, FormatAudioStream, FormatAudioDownloadable} {
		md := fm[f].(map[string]any)
		content := md["contentLinks"].([]any)
		sup := md["supplementLinks"].([]any)
		want := "http:/localhost:16521/ep/api/v1/records/recordId_0/" + f + "/content_1"
		if got := content[1].(map[string]any)["href"]; got != want {
			t.Errorf("%s content href %v, want %v", f, got, want)
		}
		if got := sup[0].(map[string]any)["name"]; got != "supplement_0" {
			t.Errorf("%s supplement name %v", f, got)
		}
	}

	id := m["id"].(string)
	status, _, got := c.do(http.MethodGet, "/v1/checkouts/"+id, "")
	if status != http.StatusOK || got["id"] != id || len(got["formatMetadata"].(map[string]any)) != 3 {
		t.Errorf("GET: %d %v", status, got)
	}
	if co, ok := s.Lookup(id); !ok || co.Patron != "p1" || co.RecordID != RecordMultiFormat {
		t.Errorf("Lookup: %+v %v", co, ok)
	}
}

func TestFormatIDNarrowsTheAnswer(t *testing.T) {
	c := newClient(t, New())
	status, m := c.checkout(RecordMultiFormat, FormatAudioStream)
	fm, _ := m["formatMetadata"].(map[string]any)
	if status != http.StatusCreated || len(fm) != 1 || fm[FormatAudioStream] == nil {
		t.Fatalf("%d %v", status, m)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, record, format string
		status               int
		code                 string
	}{
		{"unknown record", RecordUnknown, "", 404, "INVALID_CONTENT_PROVIDER_RECORD_ID"},
		{"inactive", RecordInactive, "", 409, "PRODUCT_INACTIVE"},
		{"unavailable", RecordUnavailable, "", 409, "PRODUCT_UNAVAILABLE"},
		{"borrower limit", RecordBorrowerLimit, "", 409, "BORROWER_LIMIT_REACHED"},
		{"library limit", RecordLibraryLimit, "", 409, "LIBRARY_LIMIT_REACHED"},
		{"max downloads", RecordMaxDownloads, "", 409, "MAX_NO_OF_DOWNLOADS_FOR_PRODUCT_REACHED"},
		{"create failed", RecordCreateLoanFailed, "", 500, "CREATE_LOAN_FAILED"},
		{"unknown code", RecordSomethingNew, "", 422, "SOMETHING_NEW"},
		{"missing content", RecordMissingContent, "", 409, "MISSING_CONTENT_IN_LOAN"},
		{"region", RecordInvalidRegion, "", 400, "INVALID_REGION_ID"},
		{"format not offered", RecordEbook, FormatAudioStream, 400, "INVALID_FORMAT_ID"},
	}
	c := newClient(t, New())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, m := c.checkout(tt.record, tt.format)
			if status != tt.status || m["code"] != tt.code {
				t.Errorf("got %d %v, want %d %s", status, m, tt.status, tt.code)
			}
		})
	}
}

func TestAuthAndPatron(t *testing.T) {
	s := New(WithAPIKey("other-key"), WithBlockedPatrons("banned"))
	c := newClient(t, s)

	if status, m := c.checkout(RecordEbook, ""); status != 401 || m["code"] != "UNAUTHORIZED" {
		t.Errorf("wrong key: %d %v", status, m)
	}
	c.key = ""
	if status, m := c.checkout(RecordEbook, ""); status != 401 || m["code"] != "UNAUTHORIZED" {
		t.Errorf("no key: %d %v", status, m)
	}
	c.key = "other-key"
	c.patron = ""
	if status, m := c.checkout(RecordEbook, ""); status != 400 || m["code"] != "INVALID_PATRON" {
		t.Errorf("no patron: %d %v", status, m)
	}
	c.patron = "banned"
	if status, m := c.checkout(RecordEbook, ""); status != 403 || m["code"] != "INVALID_PATRON" {
		t.Errorf("blocked patron: %d %v", status, m)
	}
	c.patron = BlockedPatron // no longer on the replaced list
	if status, m := c.checkout(RecordEbook, ""); status != 201 {
		t.Errorf("unblocked patron: %d %v", status, m)
	}
}

func TestLoanLifecycle(t *testing.T) {
	clock := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := New(WithClock(clock.Now), WithLoanDays(7))
	c := newClient(t, s)

	_, m := c.checkout(RecordEbook, "")
	id := m["id"].(string)
	if m["expirationDate"] != "2026-01-08T00:00:00Z" {
		t.Errorf("expirationDate %v", m["expirationDate"])
	}
	if status, m := c.checkout(RecordEbook, ""); status != 409 || m["code"] != "ALREADY_ON_LOAN" {
		t.Errorf("second checkout: %d %v", status, m)
	}
	other := *c
	other.patron = "p2"
	if status, _ := other.checkout(RecordEbook, ""); status != 201 {
		t.Errorf("another patron's checkout: %d", status)
	}
	if status, _, m := other.do(http.MethodGet, "/v1/checkouts/"+id, ""); status != 404 || m["code"] != "CHECKOUT_NOT_FOUND" {
		t.Errorf("another patron's GET: %d %v", status, m)
	}
	if status, _, m := c.do(http.MethodGet, "/v1/checkouts/nope", ""); status != 404 || m["code"] != "CHECKOUT_NOT_FOUND" {
		t.Errorf("unknown GET: %d %v", status, m)
	}
	if status, _, m := c.do(http.MethodGet, "/v1/checkouts/bad%20id!", ""); status != 400 || m["code"] != "INVALID_LOAN_ID" {
		t.Errorf("malformed id GET: %d %v", status, m)
	}

	clock.Advance(7 * 24 * time.Hour)
	if status, _, m := c.do(http.MethodGet, "/v1/checkouts/"+id, ""); status != 410 || m["code"] != "INACTIVE_LOAN" {
		t.Errorf("expired GET: %d %v", status, m)
	}
	if status, _ := c.checkout(RecordEbook, ""); status != 201 {
		t.Errorf("checkout after expiry: %d", status)
	}

	if status, _, _ := c.do(http.MethodDelete, "/v1/checkouts/"+id, ""); status != 204 {
		t.Errorf("DELETE: %d", status)
	}
	if _, ok := s.Lookup(id); ok {
		t.Error("checkout still there after DELETE")
	}
	if got := len(s.Checkouts()); got != 2 {
		t.Errorf("Checkouts() has %d, want 2", got)
	}
}

func TestFaultsAndCounters(t *testing.T) {
	s := New()
	c := newClient(t, s)

	s.SetFaults(Faults{Status: 503})
	if status, m := c.checkout(RecordEbook, ""); status != 503 || m["code"] != "INTERNAL_SERVER_ERROR" {
		t.Errorf("status fault: %d %v", status, m)
	}
	s.SetFaults(Faults{RetryAfter: 1500 * time.Millisecond})
	status, h, _ := c.do(http.MethodPost, "/v1/checkouts", `{"recordId":"record-ebook"}`)
	if status != 429 || h.Get("Retry-After") != "2" {
		t.Errorf("retry-after fault: %d %q", status, h.Get("Retry-After"))
	}
	s.SetFaults(Faults{Garbage: true})
	if status, m := c.checkout(RecordEbook, ""); status != 200 || m != nil {
		t.Errorf("garbage fault: %d %v", status, m)
	}
	s.SetFaults(Faults{Garbage: true, Status: 502})
	if status, m := c.checkout(RecordEbook, ""); status != 502 || m != nil {
		t.Errorf("garbage status fault: %d %v", status, m)
	}
	s.SetFaults(Faults{Drop: true})
	req, _ := http.NewRequest(http.MethodPost, c.srv.URL+"/v1/checkouts", strings.NewReader(`{}`))
	if resp, err := c.srv.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Error("drop fault: got an answer")
	}

	if s.Calls() != 5 || s.CallsFor(OpCheckout) != 0 {
		t.Errorf("faulted calls: Calls %d, checkout %d", s.Calls(), s.CallsFor(OpCheckout))
	}
	s.SetFaults(Faults{})
	if status, _ := c.checkout(RecordEbook, ""); status != 201 {
		t.Errorf("after clearing: %d", status)
	}
	if s.Calls() != 6 || s.CallsFor(OpCheckout) != 1 || s.CallsFor(OpGet) != 0 {
		t.Errorf("Calls %d, checkout %d", s.Calls(), s.CallsFor(OpCheckout))
	}

	s.Reset()
	if s.Calls() != 0 || len(s.Checkouts()) != 0 {
		t.Errorf("after Reset: %d calls, %d checkouts", s.Calls(), len(s.Checkouts()))
	}
}

// A latency fault ends when the client gives up, so the server can close.
func TestLatencyEndsWithTheClient(t *testing.T) {
	s := New()
	c := newClient(t, s)
	s.SetFaults(Faults{Latency: time.Hour})
	cl := c.srv.Client()
	cl.Timeout = 50 * time.Millisecond
	req, _ := http.NewRequest(http.MethodPost, c.srv.URL+"/v1/checkouts", strings.NewReader(`{}`))
	if resp, err := cl.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("got an answer despite an hour's latency")
	}
}

// LoseAnswer makes the checkout and then loses the answer, whichever way.
func TestLoseAnswerMakesTheCheckout(t *testing.T) {
	s := New()
	c := newClient(t, s)
	for i, m := range lostanswer.Modes {
		s.SetFaults(Faults{LoseAnswer: m})
		req, _ := http.NewRequest(http.MethodPost, c.srv.URL+"/v1/checkouts", strings.NewReader(`{"recordId":"`+RecordEbook+`"}`))
		req.Header.Set("Authorization", "Bearer "+DefaultAPIKey)
		req.Header.Set(PatronHeader, "lost-"+m.String()) // one loan each: the same patron twice is ALREADY_ON_LOAN
		resp, err := c.srv.Client().Do(req)
		if err == nil {
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadGateway && json.Valid(raw) && len(raw) != lostanswer.OversizeBytes {
				t.Errorf("%s: the answer arrived as it was: %d %.100s", m, resp.StatusCode, raw)
			}
		} else if m != lostanswer.Cut {
			t.Errorf("%s: no answer: %v", m, err)
		}
		if n := len(s.Checkouts()); n != i+1 {
			t.Errorf("%s: eHUB holds %d checkouts, want %d", m, n, i+1)
		}
	}
}
