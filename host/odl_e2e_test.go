package host_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/plugins/odl/odlsim"
)

const (
	odlLib   = "odl-lib"
	odlLoans = "/v1/providers/" + odlLib + "/loans"
)

// odlEnv is a host with the real ODL plugin in front of its simulator.
type odlEnv struct {
	*env
	sim    *odlsim.Sim
	simURL string
}

func startODL(t *testing.T) *odlEnv { return startODLWith(t, nil) }

// startODLWith lets a test change the instance's config.
func startODLWith(t *testing.T, edit func(*host.ProviderConfig)) *odlEnv {
	t.Helper()
	sim := odlsim.New()
	t.Cleanup(sim.Close)
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	cfg := pluginConfig(t, "odl", map[string]host.ProviderConfig{odlLib: {
		Plugin: "odl",
		Settings: map[string]string{"feed_url": sim.FeedURL(simSrv.URL), "username": odlsim.DefaultUsername,
			"password": odlsim.DefaultPassword, "hint": "Your library card PIN", "hint_url": "https://library.example/pin"},
		Defaults: host.Defaults{Format: "epub", Days: 14},
		// Not the subject here: roomy, so that no call waits for a token.
		Rate:              host.RateConfig{PerSecond: 1000, Burst: 1000},
		AllowInsecureHTTP: true, // the simulator speaks plain http on loopback
	}})
	if edit != nil {
		pc := cfg.Providers[odlLib]
		edit(&pc)
		cfg.Providers[odlLib] = pc
	}
	return &odlEnv{env: start(t, cfg), sim: sim, simURL: simSrv.URL}
}

func odlBody(item, patron string) map[string]any {
	return map[string]any{"item": item, "patron": patron}
}

// TestOdlEndToEnd: a loan lent, fulfilled with its LCP licence, renewed
// and returned early through the real plugin process and the simulator;
// a revocation notified by the distributor ends another.
func TestOdlEndToEnd(t *testing.T) {
	e := startODL(t)
	ctx := context.Background()

	l := checkout(e.env, odlLib, odlBody(odlsim.ISBNAvailable, "patron-42"))
	sl, ok := e.sim.Loan(l.ID)
	if !ok {
		t.Fatalf("the distributor has no checkout %s", l.ID)
	}
	if sl.Patron != pseudonymOf(odlLib, "patron-42") || !strings.HasPrefix(sl.NotificationURL, e.srv.URL+"/v1/notifications/") {
		t.Errorf("the distributor's loan %+v: want the pseudonym and the host's callback", sl)
	}
	licence := e.simURL + "/loans/" + sl.ID + "/license"
	if l.Status != "active" || l.ExpiresAt == nil || !l.ExpiresAt.Equal(sl.End) || len(l.Links) != 1 || l.Links[0].Href != licence || l.Links[0].Rel != "content" {
		t.Fatalf("loan %+v, want active until %s with the LCP licence %s", l, sl.End, licence)
	}

	var f host.Fulfillment
	r := e.do("POST", odlLoans+"/"+l.ID+"/fulfillment", nil)
	r.json(t, &f)
	if r.status != http.StatusOK || len(f.Links) != 1 || f.Links[0].Href != licence {
		t.Fatalf("fulfillment %d %s", r.status, r.body)
	}

	r = e.do("POST", odlLoans+"/"+l.ID+"/renewal", map[string]any{"days": 7})
	var renewed host.Loan
	r.json(t, &renewed)
	if want := l.ExpiresAt.Add(7 * 24 * time.Hour); r.status != http.StatusOK || renewed.ExpiresAt == nil || !renewed.ExpiresAt.Equal(want) || !e.sim.Renewed(l.ID) {
		t.Fatalf("renewal %d %s, want expiry %s", r.status, r.body, want)
	}

	// The library returns the loan early: the distributor frees the copy.
	_, running, _ := e.sim.License(odlsim.LicenseAvailable)
	r = e.do("DELETE", odlLoans+"/"+l.ID, nil)
	var returned host.Loan
	r.json(t, &returned)
	if r.status != http.StatusOK || returned.Status != "returned" || !e.sim.Returned(l.ID) {
		t.Fatalf("return %d %s", r.status, r.body)
	}
	if _, after, _ := e.sim.License(odlsim.LicenseAvailable); after != running-1 {
		t.Errorf("%d loans running on the licence after the return, want %d", after, running-1)
	}

	// The distributor revokes another loan and notifies the host.
	l2 := checkout(e.env, odlLib, odlBody(odlsim.ISBNOneCopy, "patron-43"))
	if err := e.sim.Revoke(l2.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the revocation's notification", 10*time.Second, func() bool {
		got, _ := e.h.Loan(ctx, odlLib, l2.ID)
		return got.Status == "revoked"
	})
	// Both the return and the revocation were notified, and the host
	// took each at the first try.
	ds := e.sim.Deliveries()
	if len(ds) != 2 || ds[0].Status != "returned" || ds[1].Status != "revoked" {
		t.Fatalf("deliveries %+v", ds)
	}
	for _, d := range ds {
		if !d.Delivered || d.Attempts != 1 || d.LastStatus/100 != 2 {
			t.Errorf("delivery %+v, want delivered at the first try", d)
		}
	}
	var page host.EventPage
	e.do("GET", "/v1/events?limit=100", nil).json(t, &page)
	kinds := map[string]int{}
	for _, ev := range page.Events {
		kinds[ev.Type]++
	}
	// The return's notification may add a loan.returned of its own.
	if kinds["loan.created"] != 2 || kinds["loan.renewed"] != 1 || kinds["loan.returned"] < 1 || kinds["loan.revoked"] != 1 {
		t.Errorf("events %v", kinds)
	}
}

// TestOdlRetryAfterLostAnswer: the distributor lends and its answer comes
// after the instance's timeout; the checkout retried with its
// Idempotency-Key is re-sent under the same checkout_id, the distributor
// answers 303 to the loan it made (though it was its only copy), and there
// is one loan at the distributor and one in the journal.
func TestOdlRetryAfterLostAnswer(t *testing.T) {
	e := startODLWith(t, func(pc *host.ProviderConfig) { pc.Timeout = host.Duration(time.Second) })
	body := odlBody(odlsim.ISBNOneCopy, "patron-42")
	e.sim.SetFaults(odlsim.Faults{Endpoints: []odlsim.Endpoint{odlsim.EndpointCheckout}, Times: 1, Late: time.Minute})
	p := e.expectProblem(e.do("POST", odlLoans, body, "Idempotency-Key", "K"), http.StatusGatewayTimeout, "provider_timeout")
	if p.Loan == "" || !e.sim.Lent(p.Loan) {
		t.Fatalf("the lost answer names loan %q; the distributor lent it: %v", p.Loan, e.sim.Lent(p.Loan))
	}
	if l, err := e.h.Loan(t.Context(), odlLib, p.Loan); err != nil || l.Status != host.StatusUnknown {
		t.Fatalf("journal after the lost answer: %+v, %v; want the loan, unknown", l, err)
	}
	posts := e.sim.CallsTo(odlsim.EndpointCheckout)

	again := e.do("POST", odlLoans, body, "Idempotency-Key", "K")
	if again.status != http.StatusCreated && again.status != http.StatusOK {
		t.Fatalf("retry: %d %s", again.status, again.body)
	}
	var l host.Loan
	again.json(t, &l)
	sl, _ := e.sim.Loan(p.Loan)
	if l.ID != p.Loan || l.Status != host.StatusActive || l.ExpiresAt == nil || !l.ExpiresAt.Equal(sl.End) {
		t.Errorf("retry answered loan %+v, want %s active until %s", l, p.Loan, sl.End)
	}
	if n := e.sim.CallsTo(odlsim.EndpointCheckout); n != posts+1 {
		t.Errorf("%d checkout requests for the retry, want 1 (answered 303)", n-posts)
	}
	if n := e.sim.LoansOf(p.Loan); n != 1 || len(e.sim.Loans()) != 1 {
		t.Errorf("the distributor holds %d loans under %s (%d in all), want 1", n, p.Loan, len(e.sim.Loans()))
	}
	if ls, _ := e.h.PatronLoans(t.Context(), odlLib, "patron-42"); len(ls) != 1 {
		t.Errorf("the journal holds %d loans for the patron, want 1: %+v", len(ls), ls)
	}
}
