package demarquesim_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
)

// Faults.Late makes the loan and holds the answer: a client that gives up
// first gets none, and the loan stands.
func TestLateAnswerMakesTheLoan(t *testing.T) {
	clk := newClock()
	sim, srv := start(t, demarquesim.WithClock(clk.Now))
	sim.SetFaults(demarquesim.Faults{Late: time.Minute})
	loanURL := sim.LoanURL(srv.URL, demarquesim.ISBNAvailable)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, loanURL, strings.NewReader(lendForm(clk.Now(), "b", "ln_late", 21).Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	// The loan exists while its answer is held.
	for {
		if _, ok := sim.Loan("ln_late"); ok {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("answered before the loan was made: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("a client that gave up got %v, want no answer", err)
	}
	if l, ok := sim.Loan("ln_late"); !ok || l.Borrower != "b" {
		t.Fatalf("the loan after the client gave up: %+v, %v", l, ok)
	}
	// Without the fault, a repeated creation answers at once and makes no
	// second loan.
	sim.SetFaults(demarquesim.Faults{})
	if a := post(t, loanURL, lendForm(clk.Now(), "b", "ln_late", 21)); a.status != http.StatusOK || len(sim.Loans()) != 1 {
		t.Fatalf("repeated creation: %+v, %d loans", a, len(sim.Loans()))
	}
}
