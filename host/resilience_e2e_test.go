package host_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRateLimitThroughHTTP(t *testing.T) {
	cfg := fakeConfig(t)
	a := cfg.Providers["fake-a"]
	// 0.01 tokens a second: nothing refills during the test.
	a.Rate = host.RateConfig{PerSecond: 0.01, Burst: 3, MaxWait: host.Duration(time.Millisecond)}
	cfg.Providers["fake-a"] = a
	e := start(t, cfg)
	for i := range 3 {
		if r := e.do("POST", "/v1/providers/fake-a/loans", map[string]any{"item": isbnOK, "patron": "p1"}); r.status != 201 {
			t.Fatalf("call %d within the burst: %d %s", i, r.status, r.body)
		}
	}
	for range 2 {
		r := e.do("POST", "/v1/providers/fake-a/loans", map[string]any{"item": isbnOK, "patron": "p1"})
		e.expectProblem(r, 429, "rate_limited")
		ra, _ := strconv.Atoi(r.header.Get("Retry-After"))
		if ra < 90 || ra > 100 { // one token every 100 s
			t.Errorf("Retry-After %q, want about 100", r.header.Get("Retry-After"))
		}
	}
	// Another instance on the same plugin process is not slowed.
	if r := e.do("POST", "/v1/providers/fake-b/loans", map[string]any{"item": isbnOK, "patron": "p1"}); r.status != 201 {
		t.Fatalf("fake-b: %d %s", r.status, r.body)
	}
	if m := e.do("GET", "/metrics", nil, "Authorization", ""); !strings.Contains(string(m.body), `lendgate_rate_limited_total{provider="fake-a"} 2`) {
		t.Errorf("metrics do not count the refusals:\n%s", m.body)
	}
}

func TestBreakerCountsOnlyFailures(t *testing.T) {
	d := startDemarqueWith(t, func(pc *host.ProviderConfig) {
		pc.Rate = host.RateConfig{PerSecond: 10000, Burst: 10000}
		pc.Breaker = host.BreakerConfig{ConsecutiveFailures: 5, OpenFor: host.Duration(300 * time.Millisecond), HalfOpenRequests: 1}
	})
	loan := func() response {
		return d.do("POST", "/v1/providers/demarque-mtl/loans", d.loanBody("p1"))
	}
	// 100 refusals of the distributor (a publication it does not have) never open it.
	unknown := map[string]any{"item": demarquesim.ISBNUnknown, "patron": "p1",
		"options": map[string]string{"loan_url": d.sim.LoanURL(d.simURL, demarquesim.ISBNUnknown)}}
	for range 100 {
		d.expectProblem(d.do("POST", "/v1/providers/demarque-mtl/loans", unknown), 404, "item_not_found")
	}
	if s := providerStatus(t, d.h, "demarque-mtl").Breaker.State; s != "closed" {
		t.Fatalf("breaker %s after 100 not-found answers", s)
	}
	// 5 consecutive distributor failures open it.
	d.sim.SetFaults(demarquesim.Faults{Status: 500})
	for range 5 {
		d.expectProblem(loan(), 502, "provider_error")
	}
	if s := providerStatus(t, d.h, "demarque-mtl").Breaker.State; s != "open" {
		t.Fatalf("breaker %s after 5 failures, want open", s)
	}
	calls := d.sim.Calls()
	r := loan()
	d.expectProblem(r, 503, "circuit_open")
	if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra < 1 {
		t.Errorf("circuit_open Retry-After %q", r.header.Get("Retry-After"))
	}
	if d.sim.Calls() != calls {
		t.Errorf("calls reached the distributor while the breaker was open: %d → %d", calls, d.sim.Calls())
	}
	if m := d.do("GET", "/metrics", nil, "Authorization", ""); !strings.Contains(string(m.body), `lendgate_breaker_state{provider="demarque-mtl"} 2`) {
		t.Errorf("metrics do not show the open breaker")
	}
	// After open_for, one probe goes through; its success closes the breaker.
	d.sim.SetFaults(demarquesim.Faults{})
	waitFor(t, "half-open", 5*time.Second, func() bool { return providerStatus(t, d.h, "demarque-mtl").Breaker.State == "half-open" })
	if r := loan(); r.status != 201 {
		t.Fatalf("probe: %d %s", r.status, r.body)
	}
	if s := providerStatus(t, d.h, "demarque-mtl").Breaker.State; s != "closed" {
		t.Fatalf("breaker %s after a successful probe, want closed", s)
	}
}

func TestDeadlineBecomesProviderTimeout(t *testing.T) {
	d := startDemarqueWith(t, func(pc *host.ProviderConfig) { pc.Timeout = host.Duration(200 * time.Millisecond) })
	d.sim.SetFaults(demarquesim.Faults{Latency: 2 * time.Second})
	start := time.Now()
	d.expectProblem(d.do("POST", "/v1/providers/demarque-mtl/loans", d.loanBody("p1")), 504, "provider_timeout")
	if el := time.Since(start); el > 1500*time.Millisecond {
		t.Errorf("the call took %v: the deadline did not reach the plugin's request", el)
	}
}

func TestCancelledCallerIsNotABreakerFailure(t *testing.T) {
	d := startDemarqueWith(t, func(pc *host.ProviderConfig) {
		pc.Breaker = host.BreakerConfig{ConsecutiveFailures: 2, OpenFor: host.Duration(time.Minute)}
	})
	d.sim.SetFaults(demarquesim.Faults{Latency: 5 * time.Second})
	for range 4 {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err := d.h.Checkout(ctx, "demarque-mtl", host.CheckoutRequest{Item: demarquesim.ISBNAvailable, Patron: "p1",
			Options: map[string]string{"loan_url": d.sim.LoanURL(d.simURL, demarquesim.ISBNAvailable)}})
		if err == nil {
			t.Fatal("a cancelled call succeeded")
		}
	}
	if s := providerStatus(t, d.h, "demarque-mtl").Breaker.State; s != "closed" {
		t.Fatalf("breaker %s after callers cancelled, want closed", s)
	}
}
