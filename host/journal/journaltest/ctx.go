package journaltest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
)

// testReadsStopWhenTheContextEnds: a read whose context has ended returns
// the context's error (errors.Is) rather than reading the log or the
// loans, however many there are.
func testReadsStopWhenTheContextEnds(t *testing.T, o *opened) {
	s := o.s
	const n = 400
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := loan("a", fmt.Sprintf("ln_%04d", i), "p1", journal.StatusActive)
			exp := at(i)
			r.ExpiresAt = &exp
			if _, _, err := s.Apply(t.Context(), r, event(r, "loan.created", i), ""); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	reads := map[string]func() error{
		"Events": func() error { _, err := s.Events(ctx, "", 2*n); return err },
		"LoansByStatus": func() error {
			_, err := s.LoansByStatus(ctx, "", journal.StatusActive, 0)
			return err
		},
		"ExpiredLoans": func() error { _, err := s.ExpiredLoans(ctx, at(2*n), 0); return err },
		"PatronLoans":  func() error { _, err := s.PatronLoans(ctx, "a", "p1"); return err },
	}
	for name, read := range reads {
		if err := read(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with an ended context: %v, want context.Canceled", name, err)
		}
	}
	// The same reads with a live context see everything.
	if evs, err := s.Events(t.Context(), "", 2*n); err != nil || len(evs) != n {
		t.Fatalf("Events: %d, %v", len(evs), err)
	}
	if ls, err := s.ExpiredLoans(t.Context(), at(2*n).Add(time.Second), 0); err != nil || len(ls) != n {
		t.Fatalf("ExpiredLoans: %d, %v", len(ls), err)
	}
}
