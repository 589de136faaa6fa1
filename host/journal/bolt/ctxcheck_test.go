package bolt

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
)

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

// fill applies n events, one loan each, from 32 writers at once (so that
// they share the log's syncs).
func fill(t *testing.T, s *Store, n int) {
	t.Helper()
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 32 {
				exp := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
				r := journal.Loan{ID: fmt.Sprintf("ln_%05d", i), Provider: "a", Patron: "p", Status: journal.StatusActive, ExpiresAt: &exp}
				if _, _, err := s.Apply(context.Background(), r, journal.Event{Type: "loan.created", Provider: "a", Loan: r.ID, At: exp}, ""); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		t.Fatal(err)
	}
}

// Reads over a large journal stop when their context ends in the middle of
// the read, rather than reading on for a caller that has gone: events from
// the log's overlays and from bolt's own records, loans from bolt's
// indexes. (The loans still in the log are bounded by its size.)
func TestBoltReadsStopWhenTheContextEndsMidway(t *testing.T) {
	const n = 3000
	s, err := Open(filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fill(t, s, n)
	reads := map[string]func(ctx context.Context) error{
		"Events": func(ctx context.Context) error { _, err := s.Events(ctx, "", n); return err },
		"LoansByStatus": func(ctx context.Context) error {
			_, err := s.LoansByStatus(ctx, "", journal.StatusActive, 0)
			return err
		},
		"ExpiredLoans": func(ctx context.Context) error {
			_, err := s.ExpiredLoans(ctx, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), 0)
			return err
		},
	}
	for _, where := range []string{"the log", "bolt"} {
		if where == "bolt" {
			if err := s.flush(); err != nil {
				t.Fatal(err)
			}
		}
		for name, read := range reads {
			if where == "the log" && name != "Events" {
				continue
			}
			// Live for the first three looks: the one before the read and
			// the first ones within it; it ends while the read is under
			// way.
			ctx := &endingCtx{Context: context.Background()}
			ctx.live.Store(3)
			if err := read(ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("%s from %s, the context ending midway: %v, want context.Canceled", name, where, err)
			}
			if err := read(context.Background()); err != nil {
				t.Errorf("%s from %s: %v", name, where, err)
			}
		}
	}
}
