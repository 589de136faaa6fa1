package demarquesim_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
	"github.com/lendgate/lendgate/sdk/sdktest/lostanswer"
)

func TestFaults(t *testing.T) {
	clk := newClock()
	sim, srv := start(t, demarquesim.WithClock(clk.Now))
	loanURL := sim.LoanURL(srv.URL, demarquesim.ISBNAvailable)
	form := lendForm(clk.Now(), "b", "t", 2)

	sim.SetFaults(demarquesim.Faults{Status: http.StatusTooManyRequests, RetryAfter: 1500 * time.Millisecond})
	if a := post(t, loanURL, form); a.status != 429 || a.Error != "too_many_requests" || a.header.Get("Retry-After") != "2" {
		t.Fatalf("429: %d %q Retry-After %q", a.status, a.Error, a.header.Get("Retry-After"))
	}
	sim.SetFaults(demarquesim.Faults{Status: http.StatusBadRequest, Code: "missing_transaction_id"})
	if a := post(t, loanURL, form); a.status != 400 || a.Error != "missing_transaction_id" {
		t.Fatalf("400 with code: %+v", a)
	}
	sim.SetFaults(demarquesim.Faults{Status: http.StatusBadGateway})
	if a := post(t, loanURL, form); a.status != 502 || a.Error != "server_error" {
		t.Fatalf("502: %+v", a)
	}
	sim.SetFaults(demarquesim.Faults{Garbage: true})
	if a := post(t, loanURL, form); a.status != 200 || a.URL != "" {
		t.Fatalf("garbage: %+v", a)
	}
	sim.SetFaults(demarquesim.Faults{Drop: true})
	if _, err := http.PostForm(loanURL, form); err == nil {
		t.Fatalf("drop: got an answer")
	}
	if len(sim.Loans()) != 0 {
		t.Fatalf("a faulted request made a loan")
	}
	if sim.CallsTo(demarquesim.EndpointLending) != 5 {
		t.Fatalf("lending calls: %d", sim.CallsTo(demarquesim.EndpointLending))
	}

	sim.SetFaults(demarquesim.Faults{})
	if a := post(t, loanURL, form); a.status != 200 || a.URL == "" {
		t.Fatalf("cleared faults: %+v", a)
	}
}

func TestFaultsApplyToDownloadsNotContent(t *testing.T) {
	clk := newClock()
	sim, srv := start(t, demarquesim.WithClock(clk.Now))
	ok := post(t, sim.LoanURL(srv.URL, demarquesim.ISBNAvailable), lendForm(clk.Now(), "b", "t", 2))
	sim.SetFaults(demarquesim.Faults{Status: 503})
	a := getDownload(t, srv.URL, downloadPath("123", "c", "t", demarquesim.ISBNAvailable, "epub"), "?uname=J",
		demarquesim.DefaultUsername, demarquesim.DefaultPassword)
	if a.status != 503 {
		t.Fatalf("download under fault: %+v", a)
	}
	if st, _ := getStatus(t, ok.URL); st != http.StatusOK {
		t.Fatalf("content is not an API request, faults must not apply: %d", st)
	}
	if sim.Calls() != 2 {
		t.Fatalf("calls: %d", sim.Calls())
	}
}

func TestLatencyFaultHonoursClientDeadline(t *testing.T) {
	clk := newClock()
	sim, srv := start(t, demarquesim.WithClock(clk.Now))
	sim.SetFaults(demarquesim.Faults{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	body := lendForm(clk.Now(), "b", "t", 2).Encode()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, sim.LoanURL(srv.URL, demarquesim.ISBNAvailable), stringsReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline exceeded, got %v", err)
	}
	// srv.Close in cleanup returns only if the handler gave up with the client.
}

// LoseAnswer makes the loan and then loses the answer, whichever way.
func TestLoseAnswerMakesTheLoan(t *testing.T) {
	clk := newClock()
	sim, srv := start(t, demarquesim.WithClock(clk.Now))
	loanURL := sim.LoanURL(srv.URL, demarquesim.ISBNAvailable)
	for i, m := range lostanswer.Modes {
		sim.SetFaults(demarquesim.Faults{LoseAnswer: m})
		tx := fmt.Sprintf("lost-%d", i)
		resp, err := http.PostForm(loanURL, lendForm(clk.Now(), "b", tx, 2))
		ok := false
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			ok = resp.StatusCode == http.StatusBadGateway || (resp.StatusCode == http.StatusOK && (!json.Valid(body) || len(body) == lostanswer.OversizeBytes))
		} else {
			ok = m == lostanswer.Cut
		}
		if !ok {
			t.Errorf("%s: the answer arrived as it was (%v)", m, err)
		}
		if _, made := sim.Loan(tx); !made {
			t.Errorf("%s: the warehouse made no loan %s", m, tx)
		}
	}
}
