package memory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/memory"
)

// The event log is kept in chunks: events, dedupe keys and purges must
// read the same across chunk boundaries, and a purge that frees whole
// chunks must leave the rest readable.
func TestEventsAcrossChunks(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 2500 // more than two chunks
	for i := range n {
		l := journal.Loan{ID: fmt.Sprintf("ln_%d", i), Provider: "p", Status: journal.StatusActive}
		e := journal.Event{Type: "loan.created", Provider: "p", Loan: l.ID, At: t0.Add(time.Duration(i) * time.Second)}
		if _, applied, err := s.Apply(ctx, l, e, "created|"+l.ID); err != nil || !applied {
			t.Fatalf("apply %d: applied=%v err=%v", i, applied, err)
		}
	}
	// A repeated key answers the first event, wherever its chunk.
	got, applied, err := s.Apply(ctx, journal.Loan{ID: "ln_1500", Provider: "p"}, journal.Event{Type: "loan.created", At: t0}, "created|ln_1500")
	if err != nil || applied || got.Loan != "ln_1500" || got.Cursor != journal.FormatCursor(1501) {
		t.Fatalf("replayed key: %+v applied=%v err=%v", got, applied, err)
	}
	page, err := s.Events(ctx, journal.FormatCursor(1023), 3)
	if err != nil || len(page) != 3 || page[0].Loan != "ln_1023" || page[2].Loan != "ln_1025" {
		t.Fatalf("page across a chunk boundary: %+v err=%v", page, err)
	}
	purged, err := s.PurgeEvents(ctx, t0.Add(2100*time.Second))
	if err != nil || purged != 2100 {
		t.Fatalf("purged %d, err %v; want 2100", purged, err)
	}
	page, err = s.Events(ctx, "", 2)
	if err != nil || len(page) != 2 || page[0].Loan != "ln_2100" || page[0].Cursor != journal.FormatCursor(2101) {
		t.Fatalf("after the purge: %+v err=%v", page, err)
	}
	// A purged event's key is forgotten: the same key applies again, as
	// the next event.
	got, applied, err = s.Apply(ctx, journal.Loan{ID: "ln_5", Provider: "p", Version: 1}, journal.Event{Type: "loan.created", Loan: "ln_5", At: t0}, "created|ln_5")
	if err != nil || !applied || got.Cursor != journal.FormatCursor(n+1) {
		t.Fatalf("purged key: %+v applied=%v err=%v", got, applied, err)
	}
}
