package host_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal/memory"
	"github.com/lendgate/lendgate/internal/testbin"
	"github.com/lendgate/lendgate/plugins/cb/cbsim"
	"github.com/lendgate/lendgate/sdk/sdktest/lostanswer"
)

// The distributor acted and its answer was lost (api.md §7, "decided by
// what was sent"): the connection cut after the order, a gateway's 502
// page, an unreadable 200, a 200 over the plugin's size cap. Each is an
// unknown outcome: the loan is kept and named, the key parked, and a retry
// orders nothing twice.

// eventsOf returns the events of type typ for loan id.
func eventsOf(t *testing.T, e *env, id, typ string) []host.Event {
	t.Helper()
	page, err := e.h.Events(t.Context(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []host.Event
	for _, ev := range page.Events {
		if ev.Loan == id && ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// loanAt answers GET of loan id: never 404 for a loan that may have been
// placed.
func loanAt(t *testing.T, e *env, provider, id string) host.Loan {
	t.Helper()
	r := e.do("GET", "/v1/providers/"+provider+"/loans/"+id, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET loan %s: %d %s", id, r.status, r.body)
	}
	var l host.Loan
	r.json(t, &l)
	return l
}

// A CB checkout whose answer is lost keeps its loan as unknown and names
// it; the retry with the same key re-sends under the same OrderReference,
// CB answers EBS-10005, and the first order stands: one order, one loan.
func TestCBLostCheckoutAnswerOrdersOnce(t *testing.T) {
	e, sim := cbAt(t, memory.New(), time.Hour, 0) // no sweep: the retry settles the loan
	for _, m := range lostanswer.Modes {
		t.Run(m.String(), func(t *testing.T) {
			e.t = t
			key, patron := "K-"+m.String(), "patron-lost-"+m.String()
			body := map[string]any{"item": cbsim.EANAvailable, "patron": patron, "days": 14}
			orders, calls := len(sim.Orders()), sim.CallsTo(cbsim.OpPlaceOrder)
			sim.SetFaults(cbsim.Faults{LoseAnswer: m})
			first := e.do("POST", cbLoans, body, "Idempotency-Key", key)
			sim.SetFaults(cbsim.Faults{})
			p := e.expectProblem(first, http.StatusBadGateway, "provider_error")
			if p.Loan == "" {
				t.Fatalf("the lost answer names no loan: %s", first.body)
			}
			if _, ok := sim.Order(p.Loan); !ok || len(sim.Orders()) != orders+1 {
				t.Fatalf("CB holds no order %s (orders %d → %d)", p.Loan, orders, len(sim.Orders()))
			}
			if l := loanAt(t, e, cbMain, p.Loan); l.Status != host.StatusUnknown || l.Patron != patron {
				t.Errorf("loan after the lost answer: %+v, want it listed unknown", l)
			}

			retry := e.do("POST", cbLoans, body, "Idempotency-Key", key)
			if retry.status != http.StatusCreated {
				t.Fatalf("retry: %d %s", retry.status, retry.body)
			}
			var l host.Loan
			retry.json(t, &l)
			if l.ID != p.Loan || l.Status != host.StatusActive || l.ExpiresAt == nil {
				t.Errorf("retry answered %+v, want loan %s active with an expiry", l, p.Loan)
			}
			if got := len(sim.Orders()); got != orders+1 || sim.CallsTo(cbsim.OpPlaceOrder) != calls+2 {
				t.Errorf("CB holds %d new orders after %d placeOrder calls, want 1 after 2", got-orders, sim.CallsTo(cbsim.OpPlaceOrder)-calls)
			}
			if evs := eventsOf(t, e, p.Loan, "loan.created"); len(evs) != 1 {
				t.Errorf("%d loan.created events, want 1", len(evs))
			}
			if third := e.do("POST", cbLoans, body, "Idempotency-Key", key); third.status != http.StatusOK || third.header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("third try: %d %s, want the stored answer", third.status, third.body)
			}
		})
	}
	e.t = t
}

// A CB renewal whose answer is lost leaves the loan as it was and names it;
// the retry with the same key re-sends the addition under the same
// OrderReference (CB declares DedupesRenew), CB answers EBS-10005, and the
// first renewal stands: one paid addition, the expiry moved once, one
// loan.renewed event.
func TestCBLostRenewalAnswerRenewsOnce(t *testing.T) {
	e, sim := cbAt(t, memory.New(), time.Hour, 0)
	for _, m := range lostanswer.Modes {
		t.Run(m.String(), func(t *testing.T) {
			e.t = t
			l := checkout(e, cbMain, map[string]any{"item": cbsim.EANAvailable, "patron": "patron-renew-" + m.String(), "days": 14})
			renewal := cbLoans + "/" + l.ID + "/renewal"
			key := "R-" + m.String()
			orders := len(sim.Orders())
			sim.SetFaults(cbsim.Faults{LoseAnswer: m})
			first := e.do("POST", renewal, map[string]any{"days": 7}, "Idempotency-Key", key)
			sim.SetFaults(cbsim.Faults{})
			p := e.expectProblem(first, http.StatusBadGateway, "provider_error")
			if p.Loan != l.ID {
				t.Errorf("the lost answer names loan %q, want %s", p.Loan, l.ID)
			}
			if got := len(sim.Orders()); got != orders+1 {
				t.Fatalf("CB holds %d new orders after the renewal, want its addition", got-orders)
			}
			if cur := loanAt(t, e, cbMain, l.ID); cur.Status != host.StatusActive || !cur.ExpiresAt.Equal(*l.ExpiresAt) {
				t.Errorf("loan after the lost renewal: %+v, want it as it was", cur)
			}

			retry := e.do("POST", renewal, map[string]any{"days": 7}, "Idempotency-Key", key)
			if retry.status != http.StatusOK {
				t.Fatalf("retry: %d %s", retry.status, retry.body)
			}
			var got host.Loan
			retry.json(t, &got)
			if got.ExpiresAt == nil || got.ExpiresAt.Sub(*l.ExpiresAt) != 7*24*time.Hour {
				t.Errorf("renewed loan expires %v, want 7 days after %v", got.ExpiresAt, l.ExpiresAt)
			}
			if n := len(sim.Orders()); n != orders+1 {
				t.Errorf("CB holds %d new orders after the retry, want 1 addition", n-orders)
			}
			if evs := eventsOf(t, e, l.ID, "loan.renewed"); len(evs) != 1 || evs[0].Data["days"] != "7" {
				t.Errorf("loan.renewed events %+v, want one of 7 days", evs)
			}
			if third := e.do("POST", renewal, map[string]any{"days": 7}, "Idempotency-Key", key); third.status != http.StatusOK || third.header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("third try: %d %s, want the stored answer", third.status, third.body)
			}
			if cur := loanAt(t, e, cbMain, l.ID); !cur.ExpiresAt.Equal(*got.ExpiresAt) {
				t.Errorf("the journal's expiry %v, the answer's %v", cur.ExpiresAt, got.ExpiresAt)
			}
		})
	}
	e.t = t
}

// A loan left unknown by a lost answer (no key, no retry) is settled by
// the sweeper through CB's resolve: the re-placed order meets EBS-10005,
// the loan becomes active, CB holds one order.
func TestCBLostAnswerResolvedBySweeper(t *testing.T) {
	e, sim := cbAt(t, memory.New(), 20*time.Millisecond, 0)
	sim.SetFaults(cbsim.Faults{LoseAnswer: lostanswer.Gateway})
	p := e.expectProblem(e.do("POST", cbLoans, map[string]any{"item": cbsim.EANAvailable, "patron": cbPatron, "days": 14}), http.StatusBadGateway, "provider_error")
	sim.SetFaults(cbsim.Faults{})
	if p.Loan == "" {
		t.Fatalf("the lost answer names no loan")
	}
	waitFor(t, "the sweeper to resolve the loan", 10*time.Second, func() bool {
		l, _ := e.h.Loan(t.Context(), cbMain, p.Loan)
		return l.Status == host.StatusActive
	})
	if evs := resolvedEvents(t, e, p.Loan); len(evs) != 1 || evs[0].Data["outcome"] != "placed" {
		t.Errorf("loan.resolved events %+v, want one, placed", evs)
	}
	if n := len(sim.Orders()); n != 1 {
		t.Errorf("CB holds %d orders, want 1", n)
	}
}

// A failure that is not an unknown outcome keeps today's behaviour: CB's
// documented EBS-00001 (HTTP 500 with its code) and a refused connection
// (nothing sent) delete the pending loan and free the key, so the retry
// orders afresh.
func TestCBDefinitiveAndNotSentFailuresFreeTheKey(t *testing.T) {
	e, sim := cbAt(t, memory.New(), time.Hour, 0)
	r := e.do("POST", cbLoans, map[string]any{"item": cbsim.EANFailure, "patron": cbPatron}, "Idempotency-Key", "F")
	p := e.expectProblem(r, http.StatusBadGateway, "provider_error")
	if p.Loan != "" || p.ProviderCode != "EBS-00001" {
		t.Errorf("EBS-00001 answered %s, want provider_error naming no loan", r.body)
	}
	var all struct{ Loans []host.Loan }
	e.do("GET", cbLoans+"?patron="+cbPatron, nil).json(t, &all)
	if len(all.Loans) != 0 {
		t.Errorf("a refused order left loans %+v", all.Loans)
	}
	calls := sim.CallsTo(cbsim.OpPlaceOrder)
	e.expectProblem(e.do("POST", cbLoans, map[string]any{"item": cbsim.EANFailure, "patron": cbPatron}, "Idempotency-Key", "F"), http.StatusBadGateway, "provider_error")
	if sim.CallsTo(cbsim.OpPlaceOrder) != calls+1 {
		t.Errorf("the retry of a definitive refusal did not reach CB: the key was parked")
	}
}

// A CB instance whose distributor refuses the connection: nothing was
// sent, so no loan is kept and the key is free for the retry.
func TestCBNotSentFreesTheKey(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	cfg := pluginConfig(t, "cb", map[string]host.ProviderConfig{cbMain: {Plugin: "cb", AllowInsecureHTTP: true,
		Settings: map[string]string{"base_url": cbsim.BaseURL(url), "username": cbsim.DefaultUsername, "password": cbAccountPassword}}})
	cfg.StoreImpl = memory.New()
	e := start(t, cfg)
	for range 2 {
		r := e.do("POST", cbLoans, map[string]any{"item": cbsim.EANAvailable, "patron": cbPatron}, "Idempotency-Key", "N")
		if p := e.expectProblem(r, http.StatusBadGateway, "provider_error"); p.Loan != "" {
			t.Errorf("a refused connection names loan %s: nothing was sent", p.Loan)
		}
	}
	var all struct{ Loans []host.Loan }
	e.do("GET", cbLoans+"?patron="+cbPatron, nil).json(t, &all)
	if len(all.Loans) != 0 {
		t.Errorf("a checkout never sent left loans %+v", all.Loans)
	}
}

// lostFake is a host with the fake plugin (built with the dedupe
// declarations when dedupes is set) whose instance records every renewal
// and return that reaches it in a file, and a loan of mode "lose" on it.
func lostFake(t *testing.T, dedupes bool) (e *env, loan host.Loan, calls func() []string) {
	t.Helper()
	flags := ""
	if dedupes {
		flags = "-X main.dedupes=true"
	}
	bin := testbin.Build(t, "github.com/lendgate/lendgate/internal/testplugins/fakeplugin", flags)
	file := filepath.Join(t.TempDir(), "calls")
	cfg := fakeConfig(t)
	cfg.Plugins = map[string]host.PluginConfig{"fake": pinned(t, bin)}
	cfg.Providers = map[string]host.ProviderConfig{"fake-a": {Plugin: "fake", Settings: map[string]string{"calls_file": file},
		Defaults: host.Defaults{Format: "epub", Days: 14}}}
	e = start(t, cfg)
	loan = checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1", "options": map[string]string{"mode": "lose"}})
	return e, loan, func() []string {
		b, _ := os.ReadFile(file)
		return strings.Fields(strings.ReplaceAll(string(b), " ", "_"))
	}
}

// Where the plugin does not declare DedupesRenew or DedupesReturn, a retry
// of a renewal or return whose answer was lost sends nothing and answers
// outcome_unknown naming the loan; the loan stays as it was.
func TestLostRenewalAndReturnWithoutDedupeAnswerOutcomeUnknown(t *testing.T) {
	e, l, calls := lostFake(t, false)
	renewal := "/v1/providers/fake-a/loans/" + l.ID + "/renewal"
	p := e.expectProblem(e.do("POST", renewal, map[string]any{"days": 7}, "Idempotency-Key", "R"), http.StatusBadGateway, "provider_error")
	if p.Loan != l.ID {
		t.Errorf("the lost renewal names loan %q, want %s", p.Loan, l.ID)
	}
	for range 2 {
		p = e.expectProblem(e.do("POST", renewal, map[string]any{"days": 7}, "Idempotency-Key", "R"), http.StatusConflict, "outcome_unknown")
		if p.Loan != l.ID || p.Retryable {
			t.Errorf("retry: %+v, want outcome_unknown naming %s, not retryable", p, l.ID)
		}
	}
	if got := calls(); len(got) != 1 {
		t.Errorf("the plugin saw %v, want one renewal", got)
	}

	del := "/v1/providers/fake-a/loans/" + l.ID
	p = e.expectProblem(e.do("DELETE", del, nil, "Idempotency-Key", "D"), http.StatusBadGateway, "provider_error")
	if p.Loan != l.ID {
		t.Errorf("the lost return names loan %q, want %s", p.Loan, l.ID)
	}
	p = e.expectProblem(e.do("DELETE", del, nil, "Idempotency-Key", "D"), http.StatusConflict, "outcome_unknown")
	if p.Loan != l.ID {
		t.Errorf("retry of the return names loan %q, want %s", p.Loan, l.ID)
	}
	if got := calls(); len(got) != 2 {
		t.Errorf("the plugin saw %v, want one renewal and one return", got)
	}
	if cur := loanAt(t, e, "fake-a", l.ID); cur.Status != host.StatusActive || !cur.ExpiresAt.Equal(*l.ExpiresAt) {
		t.Errorf("loan %+v, want it as it was", cur)
	}
}

// Where the plugin declares DedupesRenew and DedupesReturn, the retry
// re-sends under the same RenewalID (duplicate_reference: the first
// renewal stands, journaled once) and the return (answered the returned
// loan, journaled once).
func TestLostRenewalAndReturnReSentWhereThePluginDedupes(t *testing.T) {
	e, l, calls := lostFake(t, true)
	renewal := "/v1/providers/fake-a/loans/" + l.ID + "/renewal"
	e.expectProblem(e.do("POST", renewal, map[string]any{"days": 7}, "Idempotency-Key", "R"), http.StatusBadGateway, "provider_error")
	r := e.do("POST", renewal, map[string]any{"days": 7}, "Idempotency-Key", "R")
	if r.status != http.StatusOK {
		t.Fatalf("retry of the renewal: %d %s", r.status, r.body)
	}
	var renewed host.Loan
	r.json(t, &renewed)
	if renewed.ExpiresAt == nil || renewed.ExpiresAt.Sub(*l.ExpiresAt) != 7*24*time.Hour {
		t.Errorf("renewed loan expires %v, want 7 days after %v", renewed.ExpiresAt, l.ExpiresAt)
	}
	got := calls()
	if len(got) != 2 || got[0] != got[1] || !strings.HasPrefix(got[0], "renew_"+l.ID+"_") {
		t.Errorf("the plugin saw %v, want the renewal twice under one renewal id", got)
	}
	if evs := eventsOf(t, e, l.ID, "loan.renewed"); len(evs) != 1 {
		t.Errorf("%d loan.renewed events, want 1", len(evs))
	}

	del := "/v1/providers/fake-a/loans/" + l.ID
	e.expectProblem(e.do("DELETE", del, nil, "Idempotency-Key", "D"), http.StatusBadGateway, "provider_error")
	if cur := loanAt(t, e, "fake-a", l.ID); cur.Status != host.StatusActive {
		t.Errorf("loan after the lost return: %s, want active", cur.Status)
	}
	r = e.do("DELETE", del, nil, "Idempotency-Key", "D")
	var returned host.Loan
	r.json(t, &returned)
	if r.status != http.StatusOK || returned.Status != host.StatusReturned {
		t.Fatalf("retry of the return: %d %s", r.status, r.body)
	}
	if got := calls(); len(got) != 4 || got[2] != "return_"+l.ID || got[3] != got[2] {
		t.Errorf("the plugin saw %v, want the return twice", got)
	}
	if evs := eventsOf(t, e, l.ID, "loan.returned"); len(evs) != 1 {
		t.Errorf("%d loan.returned events, want 1", len(evs))
	}
}
