package memory_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/journaltest"
	"github.com/lendgate/lendgate/host/journal/memory"
)

func TestSuite(t *testing.T) {
	journaltest.Run(t, journaltest.Driver{Open: func(t *testing.T) (journal.Store, func() journal.Store) {
		return memory.New(), nil
	}})
}

// endingCtx is a context that ends after its Err was asked live times: a
// caller that goes away while a read is under way.
type endingCtx struct {
	context.Context
	live atomic.Int32
}

func (c *endingCtx) Err() error {
	if c.live.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// Reads over a large journal stop when their context ends in the middle
// of the read.
func TestReadsStopWhenTheContextEndsMidway(t *testing.T) {
	const n = 5000
	s := memory.New()
	exp := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		r := journal.Loan{ID: fmt.Sprintf("ln_%05d", i), Provider: "a", Patron: "p", Status: journal.StatusActive, ExpiresAt: &exp}
		if _, _, err := s.Apply(context.Background(), r, journal.Event{Type: "loan.created", Provider: "a", Loan: r.ID}, ""); err != nil {
			t.Fatal(err)
		}
	}
	reads := map[string]func(ctx context.Context) error{
		"Events": func(ctx context.Context) error { _, err := s.Events(ctx, "", n); return err },
		"LoansByStatus": func(ctx context.Context) error {
			_, err := s.LoansByStatus(ctx, "", journal.StatusActive, 0)
			return err
		},
		"ExpiredLoans": func(ctx context.Context) error { _, err := s.ExpiredLoans(ctx, exp.Add(time.Hour), 0); return err },
	}
	for name, read := range reads {
		ctx := &endingCtx{Context: context.Background()}
		ctx.live.Store(2) // the look before the read and the first within it
		if err := read(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("%s, the context ending midway: %v, want context.Canceled", name, err)
		}
	}
}
