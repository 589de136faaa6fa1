//go:build linux

package systemtest

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/internal/testserver"
	"github.com/lendgate/lendgate/plugins/cb/cbsim"
)

// Issue #6: two nodes on postgres+redis: one instance's limit holds across
// both, a breaker opened through node A is open on node B, an idempotency
// key used on A replays on B. Each property has its own instance and
// simulator, so that one does not disturb another.
func TestTwoNodesOnPostgresAndRedis(t *testing.T) {
	simRate, simBreak, simIdem := startSim(t, nil), startSim(t, nil), startSim(t, nil)
	cfg := baseConfig(t, postgresStore(t))
	cfg.Cluster.Redis = testserver.Redis(t)

	rateIn := cbInstance(simRate)
	rateIn.Rate = host.RateConfig{PerSecond: 5, Burst: 5, MaxWait: host.Duration(time.Millisecond)}
	cfg.Providers["cb-rate"] = rateIn
	breakIn := cbInstance(simBreak)
	breakIn.Breaker = host.BreakerConfig{ConsecutiveFailures: 3, OpenFor: host.Duration(2 * time.Second), HalfOpenRequests: 1}
	cfg.Providers["cb-break"] = breakIn
	cfg.Providers["cb-idem"] = cbInstance(simIdem)

	config := writeConfig(t, cfg)
	a := startServer(t, "node-a", config)
	b := startServer(t, "node-b", config)
	nodes := []*server{a, b}

	t.Run("rate limit holds across both nodes", func(t *testing.T) {
		const perNode, perClient = 4, 1000
		const rate, burst = 5.0, 5
		const bound = 2 * time.Second
		statuses := make([]counter, len(nodes))
		var mu sync.Mutex
		successes := 0
		var wg sync.WaitGroup
		start := time.Now()
		deadline := start.Add(bound)
		for ni, node := range nodes {
			for g := range perNode {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < perClient && time.Now().Before(deadline); i++ {
						body := checkoutBody(cbsim.EANAvailable, fmt.Sprintf("rate-%d-%d-%d", ni, g, i))
						r := node.do(http.MethodPost, "/v1/providers/cb-rate/loans", body, "")
						switch {
						case r.err != nil:
							statuses[ni].add("lost: " + r.err.Error())
						case r.status == http.StatusCreated:
							statuses[ni].add("201")
							mu.Lock()
							successes++
							mu.Unlock()
						default:
							statuses[ni].add(fmt.Sprintf("%d %s", r.status, r.code()))
							if r.status == http.StatusTooManyRequests && r.header.Get("Retry-After") == "" {
								t.Errorf("%s: 429 without Retry-After", node.name)
							}
						}
					}
				}()
			}
		}
		wg.Wait()
		elapsed := time.Since(start)
		limit := rate*elapsed.Seconds() + burst
		t.Logf("in %v: %d checkouts lent (limit %.1f); node A answered %v, node B %v", elapsed.Round(time.Millisecond),
			successes, limit, &statuses[0], &statuses[1])
		if float64(successes) > limit+2 {
			t.Errorf("%d checkouts lent in %v across both nodes, more than rate×time+burst = %.1f (+2 slack)", successes, elapsed, limit)
		}
		if successes < burst {
			t.Errorf("only %d checkouts lent in %v, fewer than the burst %d", successes, elapsed, burst)
		}
		for i, node := range nodes {
			if statuses[i].get("429 rate_limited") == 0 {
				t.Errorf("%s never answered 429 rate_limited: %v", node.name, &statuses[i])
			}
			if statuses[i].get("201")+statuses[i].get("429 rate_limited") != total(&statuses[i]) {
				t.Errorf("%s answered other than 201 and 429 rate_limited: %v", node.name, &statuses[i])
			}
		}
		if got := simRate.CallsTo(cbsim.OpPlaceOrder); got != successes {
			t.Errorf("CB received %d orders for %d checkouts lent", got, successes)
		}
	})

	t.Run("breaker opened through A is open on B", func(t *testing.T) {
		simBreak.SetFaults(cbsim.Faults{Status: http.StatusInternalServerError})
		for i := range 3 {
			r := a.do(http.MethodPost, "/v1/providers/cb-break/loans", checkoutBody(cbsim.EANAvailable, fmt.Sprintf("brk-%d", i)), "")
			if r.status != http.StatusBadGateway || r.code() != "provider_error" {
				t.Fatalf("failing checkout %d on A: %v, want 502 provider_error", i, r)
			}
		}
		if st := a.provider("cb-break").Breaker; st.State != "open" {
			t.Fatalf("A's breaker after 3 failures: %+v, want open", st)
		}
		// B learns it from Redis (it caches the shared state for 50 ms).
		var st host.BreakerStatus
		if !waitUntil(time.Second, func() bool { st = b.provider("cb-break").Breaker; return st.State == "open" }) {
			t.Fatalf("B's breaker 1s after A's opened: %+v, want open", st)
		}
		calls := simBreak.Calls()
		r := b.do(http.MethodPost, "/v1/providers/cb-break/loans", checkoutBody(cbsim.EANAvailable, "brk-b"), "")
		if r.status != http.StatusServiceUnavailable || r.code() != "circuit_open" || r.header.Get("Retry-After") == "" {
			t.Errorf("checkout on B: %v (Retry-After %q), want 503 circuit_open with Retry-After", r, r.header.Get("Retry-After"))
		}
		if got := simBreak.Calls(); got != calls {
			t.Errorf("the checkout on B reached CB (%d calls, was %d) although the breaker is open", got, calls)
		}
		if st := b.provider("cb-break").Breaker; st.Failures != 0 {
			t.Errorf("B's own breaker counted %d failures: the open state should come from A", st.Failures)
		}
		simBreak.SetFaults(cbsim.Faults{})
	})

	t.Run("idempotency key used on A replays on B", func(t *testing.T) {
		body := checkoutBody(cbsim.EANAvailable, "idem-patron")
		first := a.do(http.MethodPost, "/v1/providers/cb-idem/loans", body, "cluster-key-1")
		if first.status != http.StatusCreated {
			t.Fatalf("checkout on A: %v, want 201", first)
		}
		again := b.do(http.MethodPost, "/v1/providers/cb-idem/loans", body, "cluster-key-1")
		if again.status != http.StatusOK || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("same key and body on B: %v, want 200 (replayed) with A's answer %s", again, first.body)
		}
		if got := simIdem.CallsTo(cbsim.OpPlaceOrder); got != 1 || len(simIdem.Orders()) != 1 {
			t.Errorf("CB received %d placeOrder calls and holds %d orders, want 1", got, len(simIdem.Orders()))
		}
	})
}

func total(c *counter) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.m {
		n += v
	}
	return n
}
