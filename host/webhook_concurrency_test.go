package host_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/memory"
)

// appendLoanEvents appends, straight to the store as another node would,
// the events of loans loans: each created, renewed and returned, the loans'
// events interleaved in the log.
func appendLoanEvents(t *testing.T, s journal.Store, loans int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	next := make([]int, loans) // the next event of each loan
	types := []string{"loan.created", "loan.renewed", "loan.returned"}
	for left := loans * len(types); left > 0; {
		i := rng.IntN(loans)
		if next[i] == len(types) {
			continue
		}
		id := fmt.Sprintf("ln_%04d", i)
		// Each write expects the version the loan's last one left.
		l := journal.Loan{ID: id, Provider: "fake-a", Item: isbnOK, Patron: "p", Status: "active", Version: int64(next[i])}
		ev := journal.Event{Type: types[next[i]], Provider: "fake-a", Loan: id, Patron: "p", Item: isbnOK, At: time.Now().UTC(), Data: map[string]string{}}
		if _, _, err := s.Apply(context.Background(), l, ev, ""); err != nil {
			t.Fatal(err)
		}
		next[i]++
		left--
	}
}

// inFlight tracks the calls a receiver is answering at once.
type inFlight struct {
	mu       sync.Mutex
	now, max int
}

func (f *inFlight) enter() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now++
	f.max = max(f.max, f.now)
}

func (f *inFlight) leave() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now--
}

func (f *inFlight) highest() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.max
}

// With the default concurrency, deliveries to different loans run at once
// (the receiver holds the first ones until that many are in flight
// together), never more than the concurrency; each loan's events still
// arrive in log order, and a failed attempt is retried before the loan's
// next event is sent.
func TestWebhooksKeepEachLoansOrderUnderConcurrency(t *testing.T) {
	const loans, concurrency = 150, 8
	store := memory.New()
	r := newReceiver(t)
	var flight inFlight
	// The first `concurrency` calls wait for each other: only deliveries
	// in flight together get past (the bound keeps a broken build from
	// hanging).
	together := make(chan struct{})
	var first atomic.Int32
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(7, 7))
	r.setAnswer(func(id string, n int) int {
		flight.enter()
		defer flight.leave()
		if k := first.Add(1); k <= concurrency {
			if k == concurrency {
				close(together)
			}
			select {
			case <-together:
			case <-time.After(60 * time.Second):
				return http.StatusInternalServerError
			}
		}
		mu.Lock()
		fail, pause := rng.IntN(5) == 0 && n == 0, time.Duration(rng.IntN(2000))*time.Microsecond
		mu.Unlock()
		time.Sleep(pause) // a receiver's own work, so that answers overtake each other
		if fail {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	cfg := fakeConfig(t)
	cfg.StoreImpl = store
	webhookConfig(&cfg, r, "/hook")
	watch := useTiming(t, &cfg, testWebhookTiming)
	start(t, cfg)

	appendLoanEvents(t, store, loans, 1)
	log, err := store.Events(context.Background(), "", 10*loans)
	if err != nil || len(log) != 3*loans {
		t.Fatalf("the log: %d events, %v", len(log), err)
	}
	hostLog := make([]host.Event, len(log))
	for i, ev := range log {
		hostLog[i] = host.Event(ev)
	}
	calls := r.waitDelivered(len(log))
	checkDeliveries(t, calls, hostLog)
	if got := flight.highest(); got != concurrency {
		t.Errorf("at most %d deliveries were in flight together, want %d", got, concurrency)
	}
	watch.waitCursor(r.srv.URL+"/hook", log[len(log)-1].Cursor)
}

// Concurrency 1 sends the whole log in order, one event at a time.
func TestWebhooksConcurrencyOneKeepsTheLogOrder(t *testing.T) {
	const loans = 40
	store := memory.New()
	r := newReceiver(t)
	var flight inFlight
	r.setAnswer(func(id string, n int) int {
		flight.enter()
		defer flight.leave()
		if n == 0 && len(id)%3 == 0 {
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	})
	cfg := fakeConfig(t)
	cfg.StoreImpl = store
	webhookConfig(&cfg, r, "/hook")
	cfg.Webhooks[0].Concurrency = 1
	useTiming(t, &cfg, testWebhookTiming)
	start(t, cfg)

	appendLoanEvents(t, store, loans, 2)
	log, _ := store.Events(context.Background(), "", 10*loans)
	hostLog := make([]host.Event, len(log))
	for i, ev := range log {
		hostLog[i] = host.Event(ev)
	}
	checkDeliveriesInLogOrder(t, r.waitDelivered(len(log)), hostLog)
	if got := flight.highest(); got != 1 {
		t.Errorf("%d deliveries were in flight together, want 1", got)
	}
}

// An event that keeps failing holds back its own loan's events only: the
// receiver refuses it until every other loan's event is delivered (which
// would never happen if it held the endpoint), and the events behind it on
// its loan wait for it.
func TestWebhooksAFailingEventHoldsOnlyItsLoan(t *testing.T) {
	const loans = 20
	store := memory.New()
	r := newReceiver(t)
	cfg := fakeConfig(t)
	cfg.StoreImpl = store
	webhookConfig(&cfg, r, "/hook")
	useTiming(t, &cfg, testWebhookTiming)
	start(t, cfg)

	var mu sync.Mutex // held until the log is known
	var stuck journal.Event
	others, delivered := 0, 0 // other loans' events, and those delivered
	loanOf := map[string]string{}
	r.setAnswer(func(id string, n int) int {
		mu.Lock()
		defer mu.Unlock()
		if id == stuck.ID && delivered < others {
			return http.StatusServiceUnavailable
		}
		if loanOf[id] != stuck.Loan && n == 0 {
			delivered++
		}
		return http.StatusOK
	})
	mu.Lock()
	appendLoanEvents(t, store, loans, 3)
	log, _ := store.Events(context.Background(), "", 10*loans)
	stuck = log[0] // its loan's created event
	for _, ev := range log {
		loanOf[ev.ID] = ev.Loan
		if ev.Loan != stuck.Loan {
			others++
		}
	}
	mu.Unlock()
	hostLog := make([]host.Event, len(log))
	for i, ev := range log {
		hostLog[i] = host.Event(ev)
	}
	calls := r.waitDelivered(len(log))
	checkDeliveries(t, calls, hostLog)
	if failedCalls(calls, stuck.ID) == 0 {
		t.Errorf("the held event was never refused")
	}
}

// The window past the cursor is bounded: while the first event fails, the
// endpoint delivers the events after it up to the window's size and no
// further, and the rest once it is delivered.
func TestWebhooksWindowIsBounded(t *testing.T) {
	n := host.WebhookWindowSize + 100
	store := memory.New()
	r := newReceiver(t)
	cfg := fakeConfig(t)
	cfg.StoreImpl = store
	webhookConfig(&cfg, r, "/hook")
	useTiming(t, &cfg, testWebhookTiming)
	e := start(t, cfg)

	var mu sync.Mutex
	var log []journal.Event
	index := map[string]int{}
	seenBeyond := -1 // the furthest event sent while the first was not delivered
	released := false
	r.setAnswer(func(id string, _ int) int {
		mu.Lock()
		defer mu.Unlock()
		i := index[id]
		if !released {
			seenBeyond = max(seenBeyond, i)
		}
		if i == 0 {
			if seenBeyond < host.WebhookWindowSize-1 {
				return http.StatusServiceUnavailable
			}
			released = true
		}
		return http.StatusOK
	})
	mu.Lock()
	appendEvents(t, store, n)
	var err error
	log, err = store.Events(context.Background(), "", n)
	for i, ev := range log {
		index[ev.ID] = i
	}
	mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	r.waitDelivered(n)
	mu.Lock()
	defer mu.Unlock()
	if seenBeyond != host.WebhookWindowSize-1 {
		t.Errorf("while the first event failed, events up to index %d were sent, want up to %d (the window)", seenBeyond, host.WebhookWindowSize-1)
	}
	e.waitMetric(`lendgate_webhook_queued{endpoint="webhook-1"}`, "0")
}
