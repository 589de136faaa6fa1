package demarquesim_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
	"github.com/lendgate/lendgate/sdk/isbn"
)

func TestTestDataISBNsHaveValidCheckDigits(t *testing.T) {
	for _, s := range []string{demarquesim.ISBNAvailable, demarquesim.ISBNSecond, demarquesim.ISBNThird, demarquesim.ISBNUnknown} {
		if !isbn.Valid(s) {
			t.Errorf("%s: invalid check digit", s)
		}
	}
}

func TestLendingErrors(t *testing.T) {
	clk := newClock()
	now := clk.Now()
	with := func(f url.Values, k, v string) url.Values {
		f.Set(k, v)
		return f
	}
	without := func(f url.Values, k string) url.Values {
		f.Del(k)
		return f
	}
	long := strings.Repeat("x", 255)
	tests := []struct {
		name   string
		isbn   string
		form   url.Values
		status int
		code   string
	}{
		{"unknown publication", demarquesim.ISBNUnknown, lendForm(now, "b", "t", 21), 404, "publication_not_found"},
		{"no transaction", demarquesim.ISBNAvailable, without(lendForm(now, "b", "t", 21), "transaction_id"), 400, "missing_transaction_id"},
		{"no borrower", demarquesim.ISBNAvailable, without(lendForm(now, "b", "t", 21), "borrower_id"), 400, "missing_borrower_id"},
		{"long transaction", demarquesim.ISBNAvailable, lendForm(now, "b", long, 21), 400, "invalid_transaction_id"},
		{"long borrower", demarquesim.ISBNAvailable, lendForm(now, long, "t", 21), 400, "invalid_borrower_id"},
		{"expire_at unparsable", demarquesim.ISBNAvailable, with(lendForm(now, "b", "t", 1), "expire_at", "2026-12-01"), 400, "invalid_expire_at"},
		{"expire_at past", demarquesim.ISBNAvailable, lendForm(now, "b", "t", -1), 400, "invalid_expire_at"},
		{"expire_at beyond 60 days", demarquesim.ISBNAvailable, lendForm(now, "b", "t", 61), 400, "invalid_expire_at"},
		{"bad medium", demarquesim.ISBNAvailable, with(lendForm(now, "b", "t", 1), "medium", "paper"), 400, "invalid_medium"},
		{"bad localisation", demarquesim.ISBNAvailable, with(lendForm(now, "b", "t", 1), "localisation", "moon"), 400, "invalid_localisation"},
		{"streaming without localisation", demarquesim.ISBNAvailable, with(lendForm(now, "b", "t", 1), "medium", "streaming"), 400, "missing_localisation"},
		{"regenerate unknown loan", demarquesim.ISBNAvailable, without(lendForm(now, "b", "t", 1), "expire_at"), 404, "loan_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, srv := start(t, demarquesim.WithClock(clk.Now))
			a := post(t, sim.LoanURL(srv.URL, tt.isbn), tt.form)
			if a.status != tt.status || a.Error != tt.code {
				t.Fatalf("got %d %q, want %d %q", a.status, a.Error, tt.status, tt.code)
			}
			if len(sim.Loans()) != 0 {
				t.Fatalf("a refused request made a loan")
			}
		})
	}
}

func TestLendingCreateRegenerateAndContent(t *testing.T) {
	clk := newClock()
	sim, srv := start(t, demarquesim.WithClock(clk.Now))
	loanURL := sim.LoanURL(srv.URL, demarquesim.ISBNAvailable)

	form := lendForm(clk.Now(), "pseudo-1", "ln_1", 21)
	form.Set("notify_url", "http://ils.example/notify/ln_1")
	form.Set("medium", "streaming")
	form.Set("localisation", "on-site")
	first := post(t, loanURL, form)
	if first.status != http.StatusOK || !strings.HasPrefix(first.URL, srv.URL+"/content/") {
		t.Fatalf("create: %d %+v", first.status, first)
	}
	l, ok := sim.Loan("ln_1")
	if !ok || l.Borrower != "pseudo-1" || l.ISBN != demarquesim.ISBNAvailable || l.NotifyURL != "http://ils.example/notify/ln_1" ||
		l.Medium != "streaming" || l.Localisation != "on-site" || !l.ExpireAt.Equal(clk.Now().Add(21*24*time.Hour)) || l.Links != 1 {
		t.Fatalf("loan: %+v", l)
	}

	// The seed's lost-file recipe: same ids, no expire_at.
	second := post(t, loanURL, url.Values{"borrower_id": {"pseudo-1"}, "transaction_id": {"ln_1"}})
	if second.status != http.StatusOK || second.URL == first.URL {
		t.Fatalf("regenerate: %d %q (first %q)", second.status, second.URL, first.URL)
	}
	if l, _ := sim.Loan("ln_1"); l.Links != 2 || l.Regenerations != 1 || len(sim.Loans()) != 1 {
		t.Fatalf("after regeneration: %+v", l)
	}
	reqs := sim.Requests()
	if len(reqs) != 2 || reqs[1].Form.Has("expire_at") || !reqs[0].Form.Has("expire_at") || reqs[0].Endpoint != demarquesim.EndpointLending {
		t.Fatalf("requests: %+v", reqs)
	}

	for _, u := range []string{first.URL, second.URL} {
		if st, body := getStatus(t, u); st != http.StatusOK || !strings.Contains(body, demarquesim.ISBNAvailable) {
			t.Fatalf("content %s: %d %q", u, st, body)
		}
	}
	if st, _ := getStatus(t, srv.URL+"/content/nope"); st != http.StatusNotFound {
		t.Fatalf("unknown content token: %d", st)
	}

	// Another borrower cannot regenerate, nor reuse the transaction id.
	if a := post(t, loanURL, url.Values{"borrower_id": {"pseudo-2"}, "transaction_id": {"ln_1"}}); a.status != 404 || a.Error != "loan_not_found" {
		t.Fatalf("regenerate as another borrower: %+v", a)
	}
	if a := post(t, loanURL, lendForm(clk.Now(), "pseudo-2", "ln_1", 3)); a.status != 400 || a.Error != "transaction_id_in_use" {
		t.Fatalf("reuse transaction: %+v", a)
	}

	// Once expired, the link cannot be regenerated.
	clk.Advance(22 * 24 * time.Hour)
	if a := post(t, loanURL, url.Values{"borrower_id": {"pseudo-1"}, "transaction_id": {"ln_1"}}); a.status != 404 || a.Error != "loan_not_found" {
		t.Fatalf("regenerate expired: %+v", a)
	}
}

func TestRoutingAndMethods(t *testing.T) {
	sim, srv := start(t)
	if st, _ := getStatus(t, sim.LoanURL(srv.URL, demarquesim.ISBNAvailable)); st != http.StatusMethodNotAllowed {
		t.Fatalf("GET loan_url: %d", st)
	}
	if st, _ := getStatus(t, srv.URL+"/nowhere"); st != http.StatusNotFound {
		t.Fatalf("unknown path: %d", st)
	}
	if sim.Calls() != 0 {
		t.Fatalf("refused methods and unknown paths are not API calls: %d", sim.Calls())
	}
}

func TestReset(t *testing.T) {
	clk := newClock()
	sim, srv := start(t, demarquesim.WithClock(clk.Now))
	post(t, sim.LoanURL(srv.URL, demarquesim.ISBNAvailable), lendForm(clk.Now(), "b", "t", 2))
	sim.SetFaults(demarquesim.Faults{Status: 500})
	sim.Reset()
	if sim.Calls() != 0 || len(sim.Loans()) != 0 || len(sim.Requests()) != 0 {
		t.Fatalf("after Reset: calls %d, loans %d", sim.Calls(), len(sim.Loans()))
	}
	if a := post(t, sim.LoanURL(srv.URL, demarquesim.ISBNAvailable), lendForm(clk.Now(), "b", "t", 2)); a.status != 200 {
		t.Fatalf("faults survived Reset: %+v", a)
	}
}
