package journaltest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
)

// webhookStore is a Store that journals webhook deliveries.
type webhookStore interface {
	journal.Store
	journal.Webhooks
}

func appendEvent(t *testing.T, s journal.Store, n int) journal.Event {
	t.Helper()
	id := fmt.Sprintf("ln_%d", n)
	rec := journal.Loan{ID: id, Provider: "p", Patron: "x", Item: "9780000000002", Status: journal.StatusActive}
	ev, _, err := s.Apply(t.Context(), rec, journal.Event{Type: "loan.created", Provider: "p", Loan: id, At: time.Now().UTC()}, "")
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// testWebhooks: a new endpoint starts at the end of the log and
// keeps its cursor when opened again; one holder at a time has the lease,
// a lapsed lease can be taken over, and the former holder can then no
// longer write; and (with reopen) all of it survives a restart.
func testWebhooks(t *testing.T, o *opened) {
	ctx := t.Context()
	if _, ok := o.s.(journal.Webhooks); !ok {
		t.Skipf("%T does not journal webhook deliveries", o.s)
	}
	s := o.s.(webhookStore)
	if _, _, err := s.LeaseWebhook(ctx, "ep", "a", time.Now(), time.Now()); !errors.Is(err, journal.ErrNotFound) {
		t.Fatalf("lease of an endpoint never opened: %v, want ErrNotFound", err)
	}
	if err := s.OpenWebhook(ctx, "empty"); err != nil {
		t.Fatal(err)
	}
	if st, err := s.WebhookState(ctx, "empty"); err != nil || st.Cursor != "" || st.Endpoint != "empty" {
		t.Fatalf("endpoint opened on an empty log: %+v, %v", st, err)
	}
	appendEvent(t, s, 1)
	ev2 := appendEvent(t, s, 2)
	if err := s.OpenWebhook(ctx, "ep"); err != nil {
		t.Fatal(err)
	}
	ev3 := appendEvent(t, s, 3)
	if err := s.OpenWebhook(ctx, "ep"); err != nil {
		t.Fatal(err)
	}
	if st, err := s.WebhookState(ctx, "ep"); err != nil || st.Cursor != ev2.Cursor {
		t.Fatalf("endpoint opened after event 2, opened again after 3: cursor %q (%v), want %q", st.Cursor, err, ev2.Cursor)
	}

	t0 := time.Now().Truncate(time.Millisecond)
	st, held, err := s.LeaseWebhook(ctx, "ep", "a", t0, t0.Add(time.Minute))
	if err != nil || !held || st.Cursor != ev2.Cursor {
		t.Fatalf("a takes a free lease: %+v %v %v", st, held, err)
	}
	if _, held, err := s.LeaseWebhook(ctx, "ep", "b", t0.Add(30*time.Second), t0.Add(90*time.Second)); err != nil || held {
		t.Fatalf("b takes a's running lease: %v %v", held, err)
	}
	st.Cursor, st.Attempts, st.FailingSince = ev3.Cursor, 2, t0.UTC()
	if err := s.SaveWebhook(ctx, st, "a", t0.Add(time.Minute)); err != nil {
		t.Fatalf("a saves under its lease: %v", err)
	}
	if _, _, err := s.LeaseWebhook(ctx, "ep", "a", t0, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if o.reopen != nil {
		o.closeAndReopen()
		s = o.s.(webhookStore)
	}
	if got, err := s.WebhookState(ctx, "ep"); err != nil || got.Cursor != ev3.Cursor || got.Attempts != 2 || !got.FailingSince.Equal(t0) {
		t.Fatalf("state after a save (and a reopen): %+v %v", got, err)
	}
	if _, held, err := s.LeaseWebhook(ctx, "ep", "b", t0.Add(30*time.Second), t0.Add(90*time.Second)); err != nil || held {
		t.Fatalf("b takes a's lease after a reopen: %v %v", held, err)
	}
	// a's lease lapses: b takes over, and a may no longer write.
	st, held, err = s.LeaseWebhook(ctx, "ep", "b", t0.Add(2*time.Minute), t0.Add(3*time.Minute))
	if err != nil || !held || st.Cursor != ev3.Cursor {
		t.Fatalf("b takes a lapsed lease: %+v %v %v", st, held, err)
	}
	if err := s.SaveWebhook(ctx, journal.WebhookState{Endpoint: "ep", Cursor: ev2.Cursor}, "a", t0.Add(3*time.Minute)); !errors.Is(err, journal.ErrWebhookLeaseLost) {
		t.Fatalf("a saves after losing the lease: %v, want ErrWebhookLeaseLost", err)
	}
	if got, _ := s.WebhookState(ctx, "ep"); got.Cursor != ev3.Cursor {
		t.Fatalf("a's refused save moved the cursor to %q", got.Cursor)
	}
	// a's release of b's lease changes nothing; b's own frees it.
	if err := s.ReleaseWebhook(ctx, "ep", "a"); err != nil {
		t.Fatal(err)
	}
	if _, held, _ := s.LeaseWebhook(ctx, "ep", "a", t0.Add(2*time.Minute), t0.Add(3*time.Minute)); held {
		t.Fatal("a took b's lease after releasing what it did not hold")
	}
	if err := s.ReleaseWebhook(ctx, "ep", "b"); err != nil {
		t.Fatal(err)
	}
	// Many holders racing for a free lease: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, held, err := s.LeaseWebhook(ctx, "ep", fmt.Sprintf("n%d", i), t0.Add(2*time.Minute), t0.Add(3*time.Minute))
			if err != nil {
				t.Error(err)
			}
			if held {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if winners != 1 {
		t.Fatalf("%d holders took one free lease at once, want 1", winners)
	}
}
