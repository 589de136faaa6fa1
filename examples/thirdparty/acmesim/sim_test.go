package acmesim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"example.com/acme-lending/acmesim"
	"github.com/lendgate/lendgate/sdk/sdktest/lostanswer"
)

// post sends a loan request with key and returns the status and body.
func post(t *testing.T, url, key, body string) (int, map[string]string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/api/loans", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func TestSim(t *testing.T) {
	sim := acmesim.New()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	tests := []struct {
		name, key, body string
		status          int
		errCode         string
	}{
		{"lends", acmesim.APIKey, `{"isbn":"` + acmesim.ISBNAvailable + `","reader":"r"}`, http.StatusCreated, ""},
		{"bad key", "nope", `{"isbn":"` + acmesim.ISBNAvailable + `","reader":"r"}`, http.StatusUnauthorized, "BAD_KEY"},
		{"unknown isbn", acmesim.APIKey, `{"isbn":"` + acmesim.ISBNUnknown + `","reader":"r"}`, http.StatusNotFound, "NOT_IN_CATALOGUE"},
		{"no copies", acmesim.APIKey, `{"isbn":"` + acmesim.ISBNNoCopies + `","reader":"r"}`, http.StatusConflict, "NO_COPIES"},
		{"reader limit", acmesim.APIKey, `{"isbn":"` + acmesim.ISBNAvailable + `","reader":"` + acmesim.ReaderAtLimit + `"}`, http.StatusConflict, "READER_LIMIT"},
		{"days out of range", acmesim.APIKey, `{"isbn":"` + acmesim.ISBNAvailable + `","reader":"r","days":90}`, http.StatusBadRequest, "BAD_REQUEST"},
		{"not JSON", acmesim.APIKey, `isbn=1`, http.StatusBadRequest, "BAD_REQUEST"},
	}
	for _, tc := range tests {
		status, out := post(t, srv.URL, tc.key, tc.body)
		if status != tc.status || out["error"] != tc.errCode {
			t.Errorf("%s: got %d %v, want %d %s", tc.name, status, out, tc.status, tc.errCode)
		}
		if tc.errCode == "" && (out["loan_id"] == "" || out["download_url"] == "" || out["expires"] == "") {
			t.Errorf("%s: incomplete answer %v", tc.name, out)
		}
	}
	if n := sim.Loans(); n != 1 {
		t.Errorf("Loans() = %d, want 1", n)
	}
}

// LoseAnswer makes the loan and then loses the answer, whichever way.
func TestLoseAnswerMakesTheLoan(t *testing.T) {
	sim := acmesim.New()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	for i, m := range lostanswer.Modes {
		sim.SetFaults(acmesim.Faults{LoseAnswer: m})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/loans", bytes.NewBufferString(`{"isbn":"`+acmesim.ISBNAvailable+`","reader":"r1"}`))
		req.Header.Set("Authorization", "Bearer "+acmesim.APIKey)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadGateway && json.Valid(raw) && len(raw) != lostanswer.OversizeBytes {
				t.Errorf("%s: the answer arrived as it was: %d %.100s", m, resp.StatusCode, raw)
			}
		} else if m != lostanswer.Cut {
			t.Errorf("%s: no answer: %v", m, err)
		}
		if n := sim.Loans(); n != i+1 {
			t.Errorf("%s: Acme made %d loans, want %d", m, n, i+1)
		}
	}
}
