package host_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/memory"
	"github.com/prometheus/client_golang/prometheus"
)

// slowCollector is a metric whose collection waits until released, so that
// a test holds scrapes in flight.
type slowCollector struct {
	desc    *prometheus.Desc
	entered chan struct{}
	release chan struct{}
}

func newSlowCollector() *slowCollector {
	return &slowCollector{desc: prometheus.NewDesc("test_slow", "A collection that waits.", nil, nil),
		entered: make(chan struct{}, 64), release: make(chan struct{})}
}

func (c *slowCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *slowCollector) Collect(ch chan<- prometheus.Metric) {
	c.entered <- struct{}{}
	<-c.release
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, 1)
}

// scrape reads /metrics with a plain client (the bound only keeps a broken
// build from hanging).
func scrape(url string) (int, string, error) {
	client := &http.Client{Timeout: 60 * time.Second}
	resp, err := client.Get(url + "/metrics")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func waitEntered(t *testing.T, c *slowCollector, n int) {
	t.Helper()
	bound := time.NewTimer(60 * time.Second)
	defer bound.Stop()
	for range n {
		select {
		case <-c.entered:
		case <-bound.C:
			t.Fatalf("fewer than %d scrapes reached the collectors within 60 s", n)
		}
	}
}

// /metrics needs no key, so anyone may scrape it: only a few scrapes run at
// once, and the others are answered 503 at once rather than queued.
func TestMetricsScrapesInFlightAreBounded(t *testing.T) {
	e := start(t, fakeConfig(t))
	slow := newSlowCollector()
	e.h.RegisterCollector(slow)
	type result struct {
		status int
		body   string
		err    error
	}
	results := make(chan result, host.MaxScrapesInFlight)
	for range host.MaxScrapesInFlight {
		go func() {
			status, body, err := scrape(e.srv.URL)
			results <- result{status, body, err}
		}()
	}
	waitEntered(t, slow, host.MaxScrapesInFlight)
	r := e.do("GET", "/metrics", nil, "Authorization", "")
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("a scrape beyond %d in flight: status %d, want 503", host.MaxScrapesInFlight, r.status)
	}
	close(slow.release)
	for range host.MaxScrapesInFlight {
		res := <-results
		if res.err != nil || res.status != http.StatusOK || !strings.Contains(res.body, "test_slow 1") {
			t.Errorf("a scrape in flight: %d %v %.200s", res.status, res.err, res.body)
		}
	}
	// Once they are done, scrapes are served again.
	if status, _, err := scrape(e.srv.URL); err != nil || status != http.StatusOK {
		t.Errorf("a scrape after the others: %d %v", status, err)
	}
}

// A scrape that takes longer than the timeout is answered 503.
func TestMetricsScrapeTimesOut(t *testing.T) {
	cfg := fakeConfig(t)
	host.SetScrapeTimeout(&cfg, 50*time.Millisecond)
	e := start(t, cfg)
	slow := newSlowCollector()
	e.h.RegisterCollector(slow)
	defer close(slow.release)
	if r := e.do("GET", "/metrics", nil, "Authorization", ""); r.status != http.StatusServiceUnavailable {
		t.Errorf("a scrape stuck in a collector: status %d, want 503: %.200s", r.status, r.body)
	}
}

// gatedStore is a memory store whose event and webhook reads hang while
// the gate is shut, as a journal that does not answer: a scrape that read
// the journal would hang with it.
type gatedStore struct {
	*memory.Store
	mu   sync.Mutex
	gate chan struct{} // nil: open
}

func (s *gatedStore) shut() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate = make(chan struct{})
}

func (s *gatedStore) open() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate != nil {
		close(s.gate)
		s.gate = nil
	}
}

func (s *gatedStore) wait() {
	s.mu.Lock()
	g := s.gate
	s.mu.Unlock()
	if g != nil {
		<-g // ignoring ctx, as a journal stuck in a system call does
	}
}

func (s *gatedStore) Events(ctx context.Context, after string, limit int) ([]journal.Event, error) {
	s.wait()
	return s.Store.Events(ctx, after, limit)
}

func (s *gatedStore) WebhookState(ctx context.Context, endpoint string) (journal.WebhookState, error) {
	s.wait()
	return s.Store.WebhookState(ctx, endpoint)
}

// waitMetric waits until series reads want on /metrics (a condition, polled;
// the bound only keeps a broken build from hanging).
func (e *env) waitMetric(series, want string) {
	e.t.Helper()
	bound := time.After(60 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		got := e.metric(series)
		if got == want {
			return
		}
		select {
		case <-bound:
			e.t.Fatalf("%s = %q after 60 s, want %s", series, got, want)
		case <-tick.C:
		}
	}
}

// appendEvents appends n events straight to the store (as another node
// would), one loan each, every tenth a return.
func appendEvents(t *testing.T, s journal.Store, n int) {
	t.Helper()
	for i := range n {
		typ := "loan.created"
		if i%10 == 9 {
			typ = "loan.returned"
		}
		id := fmt.Sprintf("ln_direct_%d", i)
		l := journal.Loan{ID: id, Provider: "fake-a", Item: isbnOK, Patron: "p", Status: "active"}
		if _, _, err := s.Apply(context.Background(), l, journal.Event{Type: typ, Provider: "fake-a", Loan: id, Patron: "p", Item: isbnOK,
			At: time.Now().UTC(), Data: map[string]string{}}, ""); err != nil {
			t.Fatal(err)
		}
	}
}

// The webhook queue gauge is a number the driver keeps: a scrape answers
// while the journal does not, whatever the journal holds, and counts past
// the events the driver holds in memory (more than its window here).
func TestWebhookQueueGaugeReadsNoJournal(t *testing.T) {
	const n = 3000
	store := &gatedStore{Store: memory.New()}
	r := newReceiver(t)
	r.setAnswer(func(string, int) int { return http.StatusServiceUnavailable })
	cfg := fakeConfig(t)
	cfg.StoreImpl = store
	webhookConfig(&cfg, r, "/all")
	webhookConfig(&cfg, r, "/returns", "loan.returned")
	cfg.Webhooks[1].Name = "returns"
	useTiming(t, &cfg, testWebhookTiming)
	e := start(t, cfg)
	t.Cleanup(store.open) // before Close (cleanups run last first)

	appendEvents(t, store.Store, n)
	all, returns := `lendgate_webhook_queued{endpoint="webhook-1"}`, `lendgate_webhook_queued{endpoint="returns"}`
	e.waitMetric(all, fmt.Sprint(n))
	e.waitMetric(returns, fmt.Sprint(n/10))

	store.shut()
	for i := range 3 {
		status, body, err := scrape(e.srv.URL)
		if err != nil || status != http.StatusOK {
			t.Fatalf("scrape %d with the journal not answering: %d %v", i, status, err)
		}
		for series, want := range map[string]int{all: n, returns: n / 10} {
			if !strings.Contains(body, fmt.Sprintf("%s %d\n", series, want)) {
				t.Errorf("scrape %d: want %s %d", i, series, want)
			}
		}
	}
}
