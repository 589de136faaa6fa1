package host_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/memory"
	"github.com/lendgate/lendgate/plugins/cb/cbsim"
	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
	"github.com/lendgate/lendgate/plugins/ehub/ehubsim"
)

// flakyStore is a journal whose writes fail on demand (a full disk, a
// database down): a test double of a journal.Store, below no
// plugin boundary.
type flakyStore struct {
	*memory.Store
	// failAll fails every write; failApply fails Apply only (the write
	// that follows a distributor's answer); failUnknown fails writing a
	// loan as unknown (so that a loan the distributor placed stays pending).
	failAll, failApply, failUnknown atomic.Bool
}

var errDiskFull = errors.New("write /var/lib/lendgate/lendgate.db: no space left on device")

func newFlakyStore() *flakyStore { return &flakyStore{Store: memory.New()} }

func (s *flakyStore) fail() error {
	if s.failAll.Load() {
		return errDiskFull
	}
	return nil
}

func (s *flakyStore) PutLoan(ctx context.Context, r journal.Loan) error {
	if err := s.fail(); err != nil {
		return err
	}
	if r.Status == host.StatusUnknown && s.failUnknown.Load() {
		return errDiskFull
	}
	return s.Store.PutLoan(ctx, r)
}

func (s *flakyStore) DeleteLoan(ctx context.Context, provider, id string, version int64) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.DeleteLoan(ctx, provider, id, version)
}

func (s *flakyStore) Apply(ctx context.Context, r journal.Loan, e journal.Event, dedupeKey string) (journal.Event, bool, error) {
	if err := s.fail(); err != nil || s.failApply.Load() {
		return journal.Event{}, false, errDiskFull
	}
	return s.Store.Apply(ctx, r, e, dedupeKey)
}

func (s *flakyStore) ClaimIdempotency(ctx context.Context, r journal.IdempotencyRecord, staleBefore time.Time) (journal.IdempotencyRecord, bool, error) {
	if err := s.fail(); err != nil {
		return journal.IdempotencyRecord{}, false, err
	}
	return s.Store.ClaimIdempotency(ctx, r, staleBefore)
}

func (s *flakyStore) CompleteIdempotency(ctx context.Context, r journal.IdempotencyRecord) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.CompleteIdempotency(ctx, r)
}

func (s *flakyStore) ReleaseIdempotency(ctx context.Context, scope, key string) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.ReleaseIdempotency(ctx, scope, key)
}

// demarqueAt is a host with the real De Marque plugin in front of its
// simulator, on store, with a short instance timeout.
func demarqueAt(t *testing.T, store journal.Store, sweep time.Duration) *demarqueEnv {
	t.Helper()
	return startDemarqueHost(t, func(cfg *host.Config) {
		pc := cfg.Providers["demarque-mtl"]
		pc.Timeout = host.Duration(time.Second)
		cfg.Providers["demarque-mtl"] = pc
		cfg.StoreImpl, cfg.SweepInterval = store, sweep
	})
}

const demarqueLoans = "/v1/providers/demarque-mtl/loans"

// transactions are the distinct transaction_ids of the lending requests the
// warehouse received that create a loan (with expire_at).
func transactions(sim *demarquesim.Sim) map[string]int {
	out := map[string]int{}
	for _, r := range sim.Requests() {
		if r.Endpoint == demarquesim.EndpointLending && r.Form.Get("expire_at") != "" {
			out[r.Form.Get("transaction_id")]++
		}
	}
	return out
}

// Issue 10 point 1: the warehouse takes the loan but answers after the
// instance's timeout. The retry with the same key re-sends under the same
// transaction_id (De Marque dedupes by it): one loan at the warehouse, one
// loan id, one loan in the journal.
func TestDemarqueRetryAfterTimeoutReordersNothing(t *testing.T) {
	d := demarqueAt(t, memory.New(), 0)
	body := d.loanBody("patron-42")
	d.sim.SetFaults(demarquesim.Faults{Late: time.Minute}) // held until the plugin gives up
	first := d.do("POST", demarqueLoans, body, "Idempotency-Key", "K")
	p := d.expectProblem(first, http.StatusGatewayTimeout, "provider_timeout")
	if p.Loan == "" {
		t.Fatalf("the timeout names no loan: %s", first.body)
	}
	waitFor(t, "the warehouse to make the late loan", 5*time.Second, func() bool { _, ok := d.sim.Loan(p.Loan); return ok })
	if l, err := d.h.Loan(t.Context(), "demarque-mtl", p.Loan); err != nil || l.Status != host.StatusUnknown {
		t.Fatalf("journal after the timeout: %+v, %v; want the loan, unknown", l, err)
	}

	d.sim.SetFaults(demarquesim.Faults{})
	again := d.do("POST", demarqueLoans, body, "Idempotency-Key", "K")
	if again.status != http.StatusCreated && again.status != http.StatusOK {
		t.Fatalf("retry: %d %s", again.status, again.body)
	}
	var l host.Loan
	again.json(t, &l)
	if l.ID != p.Loan || l.Status != host.StatusActive {
		t.Errorf("retry answered loan %s (%s), want %s active", l.ID, l.Status, p.Loan)
	}
	if tx := transactions(d.sim); len(tx) != 1 || tx[p.Loan] == 0 {
		t.Errorf("the warehouse saw transactions %v, want only %s", tx, p.Loan)
	}
	if n := len(d.sim.Loans()); n != 1 {
		t.Errorf("the warehouse holds %d loans, want 1", n)
	}
	if ls, _ := d.h.PatronLoans(t.Context(), "demarque-mtl", "patron-42"); len(ls) != 1 {
		t.Errorf("the journal holds %d loans for the patron, want 1: %+v", len(ls), ls)
	}
	// Settled now: a third try is the stored answer.
	if third := d.do("POST", demarqueLoans, body, "Idempotency-Key", "K"); third.status != http.StatusOK || third.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("third try: %d %s", third.status, third.body)
	}
}

// ehubSlow is a host with the real eHUB plugin (its distributor cannot tell
// a repeated checkout) and a short instance timeout.
func ehubSlow(t *testing.T) (*env, *ehubsim.Sim) {
	t.Helper()
	return startEhubHost(t, func(url string) map[string]host.ProviderConfig {
		return map[string]host.ProviderConfig{ehubMain: {
			Plugin:   "ehub",
			Settings: map[string]string{"base_url": url, "api_key": ehubAPIKey},
			Rate:     host.RateConfig{PerSecond: 1000, Burst: 1000}, AllowInsecureHTTP: true,
			Timeout: host.Duration(time.Second),
		}}
	})
}

// Issue 10 point 1 where the distributor does not dedupe: the retry sends
// nothing and answers outcome_unknown with the reserved loan id, over HTTP
// and through Go; the loan is listed as unknown.
func TestEHubRetryAfterTimeoutAnswersOutcomeUnknown(t *testing.T) {
	e, sim := ehubSlow(t)
	body := ehubBody(ehubsim.RecordMultiFormat, "patron-42")
	sim.SetFaults(ehubsim.Faults{Latency: time.Minute}) // until the plugin gives up
	p := e.expectProblem(e.do("POST", ehubLoans, body, "Idempotency-Key", "K"), http.StatusGatewayTimeout, "provider_timeout")
	sim.SetFaults(ehubsim.Faults{})
	calls := sim.Calls()
	if calls != 1 {
		t.Fatalf("eHUB saw %d checkouts, want 1", calls)
	}

	retry := e.expectProblem(e.do("POST", ehubLoans, body, "Idempotency-Key", "K"), http.StatusConflict, "outcome_unknown")
	if retry.Loan == "" || retry.Loan != p.Loan || retry.Retryable {
		t.Errorf("outcome_unknown problem %+v, want loan %s, not retryable", retry, p.Loan)
	}
	_, err := e.h.Checkout(host.WithIdempotencyKey(t.Context(), "unused"), ehubMain, host.CheckoutRequest{
		Item: ehubsim.RecordMultiFormat, Patron: "patron-42", IdempotencyKey: "K"})
	var le *host.LoanError
	if !errors.As(err, &le) || le.Loan != p.Loan || host.CodeOf(err) != "outcome_unknown" {
		t.Errorf("Go retry: %v, want outcome_unknown naming %s", err, p.Loan)
	}
	if n := sim.Calls(); n != calls {
		t.Errorf("the retries reached eHUB: %d checkouts, want %d", n, calls)
	}
	var unknown struct{ Loans []host.Loan }
	e.do("GET", ehubLoans+"?status=unknown", nil).json(t, &unknown)
	if len(unknown.Loans) != 1 || unknown.Loans[0].ID != p.Loan {
		t.Errorf("status=unknown lists %+v, want %s", unknown.Loans, p.Loan)
	}
}

// Issue 10 point 11: while the pending write fails, a checkout answers 503
// journal_unavailable without calling the distributor and /readyz is 503;
// both recover when the journal writes again, /readyz by the sweeper's
// probe, without a request.
func TestJournalFailingStopsOrders(t *testing.T) {
	store := newFlakyStore()
	d := demarqueAt(t, store, 20*time.Millisecond)
	if r := d.do("GET", "/readyz", nil); r.status != http.StatusOK {
		t.Fatalf("readyz before: %d %s", r.status, r.body)
	}
	store.failAll.Store(true)
	for _, key := range []string{"", "K"} {
		r := d.do("POST", demarqueLoans, d.loanBody("patron-42"), "Idempotency-Key", key)
		p := d.expectProblem(r, http.StatusServiceUnavailable, "journal_unavailable")
		if r.header.Get("Retry-After") == "" || !p.Retryable {
			t.Errorf("journal_unavailable without Retry-After or not retryable: %v %s", r.header, r.body)
		}
	}
	if n := d.sim.Calls(); n != 0 {
		t.Errorf("the warehouse got %d calls while the journal could not write, want 0", n)
	}
	if r := d.do("GET", "/readyz", nil); r.status != http.StatusServiceUnavailable {
		t.Errorf("readyz while the journal fails: %d %s, want 503", r.status, r.body)
	}
	store.failAll.Store(false)
	waitFor(t, "the journal to recover by the probe", 5*time.Second, func() bool { return d.h.JournalWritable() })
	// /readyz holds 503 for a while after the last failure (a nearly full
	// disk lets some writes through), then answers 200.
	waitFor(t, "readyz to answer 200", 15*time.Second, func() bool { return d.do("GET", "/readyz", nil).status == http.StatusOK })
	// The key was released (nothing was sent): it orders now.
	l := checkout(d.env, "demarque-mtl", d.loanBody("patron-42"), "Idempotency-Key", "K")
	if tx := transactions(d.sim); len(tx) != 1 || tx[l.ID] != 1 {
		t.Errorf("the warehouse saw %v, want one order %s", tx, l.ID)
	}
}

// resolvedEvents returns the loan.resolved events of loan id.
func resolvedEvents(t *testing.T, e *env, id string) []host.Event {
	t.Helper()
	page, err := e.h.Events(t.Context(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []host.Event
	for _, ev := range page.Events {
		if ev.Type == "loan.resolved" && ev.Loan == id {
			out = append(out, ev)
		}
	}
	return out
}

// Issue 10 point 11, after the answer: the warehouse placed the loan and
// the journal cannot record it. The answer is journal_unavailable (never
// provider_error, not counted by the breaker) naming the loan; the key is
// kept; the loan is unknown, then resolved by the sweeper through the
// plugin's Resolve (a regeneration), with a loan.resolved event; the retry
// with the key answers that loan and orders nothing.
func TestDemarqueJournalFailsAfterAnswerResolves(t *testing.T) {
	store := newFlakyStore()
	d := demarqueAt(t, store, 20*time.Millisecond)
	store.failApply.Store(true)
	r := d.do("POST", demarqueLoans, d.loanBody("patron-42"), "Idempotency-Key", "K")
	p := d.expectProblem(r, http.StatusServiceUnavailable, "journal_unavailable")
	if p.Loan == "" {
		t.Fatalf("journal_unavailable names no loan: %s", r.body)
	}
	if _, ok := d.sim.Loan(p.Loan); !ok {
		t.Fatalf("the warehouse has no loan %s", p.Loan)
	}
	var prov host.Provider
	d.do("GET", "/v1/providers/demarque-mtl", nil).json(t, &prov)
	if prov.Breaker.Failures != 0 {
		t.Errorf("the breaker counted the journal's failure: %+v", prov.Breaker)
	}
	rec, err := store.Idempotency(t.Context(), "checkout/demarque-mtl", "K")
	if err != nil || !rec.Unknown || rec.Ref != p.Loan {
		t.Fatalf("the key's record %+v, %v; want kept, unknown, ref %s", rec, err, p.Loan)
	}
	store.failApply.Store(false)
	waitFor(t, "the sweeper to resolve the loan", 10*time.Second, func() bool {
		l, _ := d.h.Loan(t.Context(), "demarque-mtl", p.Loan)
		return l.Status == host.StatusActive
	})
	evs := resolvedEvents(t, d.env, p.Loan)
	if len(evs) != 1 || evs[0].Data["outcome"] != "placed" {
		t.Errorf("loan.resolved events %+v, want one, placed", evs)
	}
	l, _ := d.h.Loan(t.Context(), "demarque-mtl", p.Loan)
	if len(l.Links) != 1 || l.ExpiresAt == nil {
		t.Errorf("resolved loan %+v, want the warehouse's link and an expiry", l)
	}
	again := d.do("POST", demarqueLoans, d.loanBody("patron-42"), "Idempotency-Key", "K")
	var got host.Loan
	again.json(t, &got)
	if got.ID != p.Loan || got.Status != host.StatusActive {
		t.Errorf("retry: %d %s, want loan %s", again.status, again.body, p.Loan)
	}
	if tx := transactions(d.sim); len(tx) != 1 || tx[p.Loan] != 1 {
		t.Errorf("the warehouse saw orders %v, want one, %s", tx, p.Loan)
	}
}

// The same with CB: its Resolve places the order again under the same
// OrderReference, CB answers EBS-10005 (the first order stands), the loan
// becomes active without a delivery URL; CB holds one order.
func TestCBJournalFailsAfterAnswerResolves(t *testing.T) {
	store := newFlakyStore()
	e, sim := cbAt(t, store, 20*time.Millisecond, 0)
	body := map[string]any{"item": cbsim.EANAvailable, "patron": cbPatron, "days": 14}
	store.failApply.Store(true)
	p := e.expectProblem(e.do("POST", cbLoans, body, "Idempotency-Key", "K"), http.StatusServiceUnavailable, "journal_unavailable")
	if _, ok := sim.Order(p.Loan); !ok {
		t.Fatalf("CB has no order %q", p.Loan)
	}
	store.failApply.Store(false)
	waitFor(t, "the sweeper to resolve the loan", 10*time.Second, func() bool {
		l, _ := e.h.Loan(t.Context(), cbMain, p.Loan)
		return l.Status == host.StatusActive
	})
	if evs := resolvedEvents(t, e, p.Loan); len(evs) != 1 || evs[0].Data["outcome"] != "placed" {
		t.Errorf("loan.resolved events %+v, want one, placed", evs)
	}
	l, _ := e.h.Loan(t.Context(), cbMain, p.Loan)
	if l.ExpiresAt == nil || l.ProviderRef["order_reference"] != p.Loan {
		t.Errorf("resolved loan %+v, want an expiry and its order reference", l)
	}
	if n := len(sim.Orders()); n != 1 {
		t.Errorf("CB holds %d orders, want 1", n)
	}
	// The retry answers the resolved loan and places nothing.
	var got host.Loan
	e.do("POST", cbLoans, body, "Idempotency-Key", "K").json(t, &got)
	if got.ID != p.Loan || len(sim.Orders()) != 1 {
		t.Errorf("retry answered %s; CB holds %d orders", got.ID, len(sim.Orders()))
	}
}

// CB resolves a loan whose first order never arrived by placing it: the
// simulator makes no order while the plugin waits past its timeout, so the
// sweeper's Resolve places the only one.
func TestCBResolvePlacesAnOrderThatNeverArrived(t *testing.T) {
	e, sim := cbAt(t, memory.New(), 20*time.Millisecond, time.Second)
	sim.SetFaults(cbsim.Faults{Latency: time.Minute}) // until the plugin gives up
	p := e.expectProblem(e.do("POST", cbLoans, map[string]any{"item": cbsim.EANAvailable, "patron": cbPatron, "days": 14}), http.StatusGatewayTimeout, "provider_timeout")
	sim.SetFaults(cbsim.Faults{})
	waitFor(t, "the sweeper to resolve the loan", 10*time.Second, func() bool {
		l, _ := e.h.Loan(t.Context(), cbMain, p.Loan)
		return l.Status == host.StatusActive
	})
	l, _ := e.h.Loan(t.Context(), cbMain, p.Loan)
	o, ok := sim.Order(p.Loan)
	if !ok || len(sim.Orders()) != 1 || len(l.Links) != 1 || l.Links[0].Href != o.URL {
		t.Errorf("resolved loan %+v; CB orders %+v", l, sim.Orders())
	}
}

// A renewal or a return whose outcome is unknown (here: the distributor
// answered, the journal could not record it) keeps its key: the retry
// sends nothing and answers outcome_unknown naming the loan.
func TestRenewAndReturnRetryAfterUnknownOutcome(t *testing.T) {
	cfg := fakeConfig(t)
	store := newFlakyStore()
	cfg.StoreImpl = store
	e := start(t, cfg)
	l := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
	renewal := "/v1/providers/fake-a/loans/" + l.ID + "/renewal"

	store.failApply.Store(true)
	p := e.expectProblem(e.do("POST", renewal, map[string]any{"days": 7}, "Idempotency-Key", "R"), http.StatusServiceUnavailable, "journal_unavailable")
	if p.Loan != l.ID {
		t.Errorf("journal_unavailable names loan %q, want %s", p.Loan, l.ID)
	}
	store.failApply.Store(false)
	events := e.eventCount()
	p = e.expectProblem(e.do("POST", renewal, map[string]any{"days": 7}, "Idempotency-Key", "R"), http.StatusConflict, "outcome_unknown")
	if p.Loan != l.ID {
		t.Errorf("outcome_unknown names loan %q, want %s", p.Loan, l.ID)
	}
	if got, _ := e.h.Loan(t.Context(), "fake-a", l.ID); !got.ExpiresAt.Equal(*l.ExpiresAt) || e.eventCount() != events {
		t.Errorf("the retried renewal was applied: expiry %v (was %v)", got.ExpiresAt, l.ExpiresAt)
	}

	store.failApply.Store(true)
	e.expectProblem(e.do("DELETE", "/v1/providers/fake-a/loans/"+l.ID, nil, "Idempotency-Key", "D"), http.StatusServiceUnavailable, "journal_unavailable")
	store.failApply.Store(false)
	p = e.expectProblem(e.do("DELETE", "/v1/providers/fake-a/loans/"+l.ID, nil, "Idempotency-Key", "D"), http.StatusConflict, "outcome_unknown")
	if p.Loan != l.ID {
		t.Errorf("outcome_unknown names loan %q, want %s", p.Loan, l.ID)
	}
}

// A re-sent checkout that CB answers EBS-10005 (duplicate_reference): the
// first order stands, so the loan is placed, under the key's loan id, and
// CB holds one order.
func TestCBRetryAfterLostAnswerFirstOrderStands(t *testing.T) {
	store := newFlakyStore()
	e, sim := cbAt(t, store, time.Hour, 0) // no resolution: the retry settles the loan
	body := map[string]any{"item": cbsim.EANAvailable, "patron": cbPatron, "days": 14}
	store.failApply.Store(true)
	p := e.expectProblem(e.do("POST", cbLoans, body, "Idempotency-Key", "K"), http.StatusServiceUnavailable, "journal_unavailable")
	store.failApply.Store(false)

	r := e.do("POST", cbLoans, body, "Idempotency-Key", "K")
	if r.status != http.StatusCreated {
		t.Fatalf("retry: %d %s", r.status, r.body)
	}
	var l host.Loan
	r.json(t, &l)
	if l.ID != p.Loan || l.Status != host.StatusActive || l.ExpiresAt == nil {
		t.Errorf("retry answered %+v, want loan %s active with an expiry", l, p.Loan)
	}
	if n := len(sim.Orders()); n != 1 || sim.CallsTo(cbsim.OpPlaceOrder) != 2 {
		t.Errorf("CB holds %d orders after %d placeOrder calls, want 1 after 2", n, sim.CallsTo(cbsim.OpPlaceOrder))
	}
}

// A plugin that dies during the checkout leaves its outcome unknown: the
// retry (the plugin does not dedupe) sends nothing and answers
// outcome_unknown with the loan id.
func TestCrashMidCheckoutRetryAnswersOutcomeUnknown(t *testing.T) {
	e := start(t, fakeConfig(t))
	body := map[string]any{"item": isbnOK, "patron": "p1", "options": map[string]string{"mode": "exit"}}
	r := e.do("POST", "/v1/providers/fake-a/loans", body, "Idempotency-Key", "K")
	p := e.expectProblem(r, http.StatusServiceUnavailable, "plugin_unavailable")
	if p.Loan == "" {
		t.Fatalf("the crash names no loan: %s", r.body)
	}
	waitFor(t, "the plugin to restart", 10*time.Second, func() bool {
		prov, _ := e.h.Provider(t.Context(), "fake-a")
		return prov.Plugin.Up && prov.Plugin.Restarts > 0
	})
	retry := e.expectProblem(e.do("POST", "/v1/providers/fake-a/loans", body, "Idempotency-Key", "K"), http.StatusConflict, "outcome_unknown")
	if retry.Loan != p.Loan {
		t.Errorf("outcome_unknown names %q, want %s", retry.Loan, p.Loan)
	}
	if l, err := e.h.Loan(t.Context(), "fake-a", p.Loan); err != nil || l.Status != host.StatusUnknown {
		t.Errorf("the loan is %+v, %v; want unknown", l, err)
	}
}

// Issue 10 point 11, the worst case: the warehouse placed the loan, the
// journal refused both its record and its unknown mark, so the journal
// holds it pending. As soon as the journal writes again the loan is marked
// unknown (and resolved), without waiting for the sweeper's interval (an
// hour here) or the lease after which a pending loan counts as lost.
func TestPendingLoanMarkedOnceTheJournalWritesAgain(t *testing.T) {
	store := newFlakyStore()
	d := demarqueAt(t, store, time.Hour)
	store.failApply.Store(true)
	store.failUnknown.Store(true)
	r := d.do("POST", demarqueLoans, d.loanBody("patron-42"), "Idempotency-Key", "K")
	p := d.expectProblem(r, http.StatusServiceUnavailable, "journal_unavailable")
	if l, err := d.h.Loan(t.Context(), "demarque-mtl", p.Loan); err != nil || l.Status != host.StatusPending {
		t.Fatalf("loan %s: %+v, %v; want it pending while the journal fails", p.Loan, l, err)
	}
	store.failApply.Store(false)
	store.failUnknown.Store(false)
	waitFor(t, "the pending loan to be settled", 5*time.Second, func() bool {
		l, _ := d.h.Loan(t.Context(), "demarque-mtl", p.Loan)
		return l.Status == host.StatusUnknown || l.Status == host.StatusActive
	})
	if tx := transactions(d.sim); len(tx) != 1 {
		t.Errorf("the warehouse saw orders %v, want one", tx)
	}
}

// cbAt is a host with one CB instance (cbMain) on a simulator, its journal
// store, its sweep interval and, when positive, its timeout.
func cbAt(t *testing.T, store journal.Store, sweep, timeout time.Duration) (*env, *cbsim.Sim) {
	t.Helper()
	sim := cbsim.New(cbsim.WithCredentials(cbsim.DefaultUsername, cbAccountPassword))
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	cfg := pluginConfig(t, "cb", map[string]host.ProviderConfig{cbMain: {Plugin: "cb", AllowInsecureHTTP: true, Timeout: host.Duration(timeout),
		Settings: map[string]string{"base_url": cbsim.BaseURL(simSrv.URL), "username": cbsim.DefaultUsername, "password": cbAccountPassword}}})
	cfg.StoreImpl, cfg.SweepInterval = store, sweep
	return start(t, cfg), sim
}
