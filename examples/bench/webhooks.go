package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/bolt"
)

// The webhook drain: a backlog of events on the bolt journal, delivered to
// a receiver on loopback that answers 204 after 1 ms of its own work.
const (
	webhookBacklog       = 40_000
	webhookBacklogStrict = 10_000 // concurrency 1 sends one at a time: a smaller backlog keeps the run short
	webhookAnswerDelay   = time.Millisecond
	webhookDrainBound    = 5 * time.Minute
)

// webhookRow is one drain of a backlog.
type webhookRow struct {
	concurrency int
	events      int
	underLoad   bool          // 64 clients checked out on the same host meanwhile
	took        time.Duration // from the host's start to the backlog's last delivery
	checkouts   int64         // checkouts made meanwhile (under load)
	repeats     int64         // deliveries of an event already delivered
}

func (w webhookRow) rate() float64 { return float64(w.events) / w.took.Seconds() }

// webhookDrains runs the drains the report shows: the default concurrency
// idle and under load, and concurrency 1 idle.
func webhookDrains(ctx context.Context, plugin string) ([]webhookRow, error) {
	var out []webhookRow
	for _, c := range []struct {
		concurrency, events int
		load                bool
	}{{8, webhookBacklog, false}, {8, webhookBacklog, true}, {1, webhookBacklogStrict, false}} {
		progress("webhooks: %d events, concurrency %d, under load %v", c.events, c.concurrency, c.load)
		r, err := webhookDrain(ctx, plugin, c.events, c.concurrency, c.load)
		if err != nil {
			return out, err
		}
		out = append(out, r)
		settle()
	}
	return out, nil
}

// benchReceiver counts the distinct events of the backlog (cursors 1…n)
// it has answered, and closes done when it has them all.
type benchReceiver struct {
	n       int
	mu      sync.Mutex
	seen    map[string]bool
	repeats atomic.Int64
	done    chan struct{}
}

func (b *benchReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	time.Sleep(webhookAnswerDelay) // the receiver's own work: storing the event
	id := r.Header.Get("webhook-id")
	c, err := journal.ParseCursor(strings.TrimPrefix(id, "ev_"))
	w.WriteHeader(http.StatusNoContent)
	if err != nil || c == 0 || c > uint64(b.n) {
		return // an event of the checkouts under load
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[id] {
		b.repeats.Add(1)
		return
	}
	b.seen[id] = true
	if len(b.seen) == b.n {
		close(b.done)
	}
}

// webhookDrain journals an endpoint on a new bolt file (a host started and
// closed), appends n events to the file with no host running, then starts
// the host again and times the delivery of them all.
func webhookDrain(ctx context.Context, plugin string, n, concurrency int, underLoad bool) (webhookRow, error) {
	row := webhookRow{concurrency: concurrency, events: n, underLoad: underLoad}
	recv := &benchReceiver{n: n, seen: map[string]bool{}, done: make(chan struct{})}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	dir, err := os.MkdirTemp(benchDir(), "lendgate-bench-webhooks-")
	if err != nil {
		return row, err
	}
	defer os.RemoveAll(dir)
	store, err := bolt.Open(filepath.Join(dir, "journal.db"))
	if err != nil {
		return row, err
	}
	defer store.Close()
	cfg := host.Config{
		APIKeys: []string{benchAPIKey}, Secret: benchSecret,
		Plugins: map[string]host.PluginConfig{"fake": {Path: plugin, Unpinned: true}},
		Providers: map[string]host.ProviderConfig{
			fakeInstance: {Plugin: "fake", Defaults: host.Defaults{Format: benchFormat, Days: benchDays}, Rate: unlimited},
		},
		StoreImpl: store, Logger: quietLogger(), SweepInterval: time.Hour,
		Webhooks: []host.WebhookConfig{{URL: srv.URL + "/hooks", Secret: "whsec_" + base64.StdEncoding.EncodeToString([]byte(benchSecret[:32])),
			Concurrency: concurrency}},
	}
	// The endpoint is journaled at the end of the (empty) log…
	h, err := host.New(ctx, cfg)
	if err != nil {
		return row, err
	}
	closeHost(h)
	// …and the backlog appended while no host runs.
	if err := fillThroughStore(ctx, store, n, time.Now().UTC()); err != nil {
		return row, err
	}
	dctx, cancel := context.WithTimeout(ctx, webhookDrainBound)
	defer cancel()
	t0 := time.Now()
	h, err = host.New(dctx, cfg)
	if err != nil {
		return row, err
	}
	defer closeHost(h)
	stop := make(chan struct{})
	var clients sync.WaitGroup
	var checkouts atomic.Int64
	var failed atomic.Value
	if underLoad {
		req := host.CheckoutRequest{Item: benchItem, Patron: benchPatron, PatronName: benchPatronName}
		for range swapClients {
			clients.Add(1)
			go func() {
				defer clients.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := h.Checkout(dctx, fakeInstance, req); err != nil {
						failed.CompareAndSwap(nil, err)
						return
					}
					checkouts.Add(1)
				}
			}()
		}
	}
	select {
	case <-recv.done:
		row.took = time.Since(t0)
	case <-dctx.Done():
	}
	close(stop)
	clients.Wait()
	if row.took == 0 {
		recv.mu.Lock()
		got := len(recv.seen)
		recv.mu.Unlock()
		return row, fmt.Errorf("%d of %d events delivered within %s", got, n, webhookDrainBound)
	}
	if err, ok := failed.Load().(error); ok {
		return row, fmt.Errorf("a checkout under load: %w", err)
	}
	row.checkouts, row.repeats = checkouts.Load(), recv.repeats.Load()
	return row, nil
}

// webhookSection writes the drains' table.
func (r *report) webhookSection(w func(string, ...any)) {
	if len(r.webhooks) == 0 {
		return
	}
	w("\n## Webhooks\n\n")
	w("A backlog of events on the bolt journal (appended while no host ran) is delivered to a receiver on loopback that answers 204 after %s of its own work; "+
		"timed from the host's start to the backlog's last delivery. Under load, %d clients check out on the same host meanwhile (their events are delivered too, and not counted).\n\n",
		fmtDur(webhookAnswerDelay), swapClients)
	w("| concurrency | events | under load | drained in | events/s | checkouts meanwhile | repeats |\n|--:|--:|---|--:|--:|--:|--:|\n")
	for _, x := range r.webhooks {
		load := "no"
		if x.underLoad {
			load = fmt.Sprintf("yes (%.0f checkouts/s)", float64(x.checkouts)/x.took.Seconds())
		}
		w("| %d | %d | %s | %s | %.0f | %d | %d |\n", x.concurrency, x.events, load, fmtDur(x.took), x.rate(), x.checkouts, x.repeats)
	}
	for _, x := range r.webhooks {
		if x.concurrency == 8 && !x.underLoad {
			mark := "met"
			if x.rate() < targetWebhookDrain {
				mark = "**missed**"
			}
			w("\nTarget: the default concurrency drains at least %d events/s: %.0f/s, %s.\n", targetWebhookDrain, x.rate(), mark)
		}
	}
}
