package host_test

import (
	"context"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/memory"
)

func TestSweeperExpiresLoansAndSurfacesLostCheckouts(t *testing.T) {
	cfg := fakeConfig(t)
	store := memory.New()
	cfg.StoreImpl = store
	cfg.SweepInterval = 20 * time.Millisecond
	var expiredEvents []host.Event
	events := make(chan host.Event, 16)
	cfg.OnEvent = func(e host.Event) { events <- e }
	e := start(t, cfg)
	ctx := context.Background()

	l := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
	// The loan ran out an hour ago.
	rec, err := store.Loan(ctx, "fake-a", l.ID)
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour).UTC()
	rec.ExpiresAt = &past
	if err := store.PutLoan(ctx, rec); err != nil {
		t.Fatal(err)
	}
	// A checkout whose process died during the distributor call, long ago.
	lost := journal.Loan{ID: "ln_lost", Provider: "fake-a", Item: isbnOK, Patron: "p2",
		Status: host.StatusPending, CreatedAt: time.Now().Add(-time.Hour).UTC(), Links: []journal.Link{}}
	// And one still in flight.
	young := lost
	young.ID, young.CreatedAt = "ln_young", time.Now().UTC()
	for _, r := range []journal.Loan{lost, young} {
		if err := store.PutLoan(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the sweeper", 5*time.Second, func() bool {
		got, _ := e.h.Loan(ctx, "fake-a", l.ID)
		lostNow, _ := e.h.Loan(ctx, "fake-a", "ln_lost")
		return got.Status == "expired" && lostNow.Status == "unknown"
	})
	for len(events) > 0 {
		if ev := <-events; ev.Type == "loan.expired" {
			expiredEvents = append(expiredEvents, ev)
		}
	}
	// More sweeps change nothing: one expiry event.
	time.Sleep(100 * time.Millisecond) // several sweep intervals
	for len(events) > 0 {
		if ev := <-events; ev.Type == "loan.expired" {
			expiredEvents = append(expiredEvents, ev)
		}
	}
	if len(expiredEvents) != 1 || expiredEvents[0].Loan != l.ID {
		t.Errorf("loan.expired events %+v, want one for %s", expiredEvents, l.ID)
	}
	var unknown struct{ Loans []host.Loan }
	e.do("GET", "/v1/providers/fake-a/loans?status=unknown", nil).json(t, &unknown)
	if len(unknown.Loans) != 1 || unknown.Loans[0].ID != "ln_lost" {
		t.Errorf("status=unknown lists %+v, want ln_lost only", unknown.Loans)
	}
	if y, _ := e.h.Loan(ctx, "fake-a", "ln_young"); y.Status != "pending" {
		t.Errorf("a checkout still in flight became %q", y.Status)
	}
	e.expectProblem(e.do("GET", "/v1/providers/fake-a/loans?status=lost", nil), 400, "invalid_request")
}
