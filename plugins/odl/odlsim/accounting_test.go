package odlsim_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/odl/odlsim"
)

// TestAccountingUnderConcurrency: 64 checkouts at once never make more
// running loans than the concurrency, nor more checkouts than were left
// (run with -race).
func TestAccountingUnderConcurrency(t *testing.T) {
	tests := []struct {
		name                      string
		lic                       odlsim.License
		wantLent, wantLeft        int
		wantRunning               int
		checkoutsLeftBeforeSecond int
	}{
		{"one copy", odlsim.License{ID: "lic-one", Format: odlsim.TypeEPUB, Concurrency: 1, NoExpires: true}, 1, -1, 1, 0},
		{"ten copies", odlsim.License{ID: "lic-ten", Format: odlsim.TypeEPUB, Concurrency: 10, Checkouts: 50, NoExpires: true}, 10, 40, 10, 0},
		{"checkouts run out first", odlsim.License{ID: "lic-left", Format: odlsim.TypeEPUB, Concurrency: 100, Checkouts: 25, Used: 5, NoExpires: true}, 20, 0, 20, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, odlsim.WithCatalogue(odlsim.Publication{Identifier: "urn:isbn:" + odlsim.ISBNAvailable, Licenses: []odlsim.License{tt.lic}}))
			const n = 64
			var wg sync.WaitGroup
			var created, refused, other atomic.Int32
			for i := range n {
				wg.Go(func() {
					req, _ := http.NewRequest(http.MethodPost, e.srv.URL+e.checkoutURL(tt.lic.ID, fmt.Sprintf("c-%d", i), nil), nil)
					req.SetBasicAuth(odlsim.DefaultUsername, odlsim.DefaultPassword)
					resp, err := e.client.Do(req)
					if err != nil {
						other.Add(1)
						return
					}
					defer resp.Body.Close()
					body, _ := io.ReadAll(resp.Body)
					switch {
					case resp.StatusCode == http.StatusCreated:
						created.Add(1)
					case resp.StatusCode == http.StatusForbidden && strings.Contains(string(body), odlsim.TypeUnavailable):
						refused.Add(1)
					default:
						other.Add(1)
					}
				})
			}
			wg.Wait()
			left, running, _ := e.sim.License(tt.lic.ID)
			if int(created.Load()) != tt.wantLent || int(refused.Load()) != n-tt.wantLent || other.Load() != 0 {
				t.Errorf("%d lent, %d refused, %d other; want %d lent, the rest refused", created.Load(), refused.Load(), other.Load(), tt.wantLent)
			}
			if running != tt.wantRunning || left != tt.wantLeft || len(e.sim.Loans()) != tt.wantLent {
				t.Errorf("licence: %d running, %d left, %d loans; want %d, %d, %d", running, left, len(e.sim.Loans()), tt.wantRunning, tt.wantLeft, tt.wantLent)
			}
		})
	}
}

// receiver is a notification endpoint that fails its first fail answers.
type receiver struct {
	mu     sync.Mutex
	fail   int
	bodies []string
	tries  int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries++
	if r.fail > 0 {
		r.fail--
		http.Error(w, "not now", http.StatusServiceUnavailable)
		return
	}
	r.bodies = append(r.bodies, string(body))
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

// waitDeliveries waits until n deliveries are done.
func waitDeliveries(t *testing.T, e *env, n int) []odlsim.Delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := e.sim.Wait(ctx, func() bool {
		ds := e.sim.Deliveries()
		done := 0
		for _, d := range ds {
			if d.Done {
				done++
			}
		}
		return done >= n
	})
	if err != nil {
		t.Fatalf("waiting for %d deliveries: %v (%+v)", n, err, e.sim.Deliveries())
	}
	return e.sim.Deliveries()
}

// TestNotifications: active (from ready), returned, revoked and expired are
// POSTed as minimal LSDs, retried until answered 2xx; EndSilently sends
// nothing.
func TestNotifications(t *testing.T) {
	rcv := &receiver{fail: 2}
	hook := httptest.NewServer(rcv)
	t.Cleanup(hook.Close)
	e := newEnv(t, odlsim.WithReadyLoans(), odlsim.WithNotifyRetry(5, time.Millisecond))
	withHook := func(q url.Values) { q.Set("notification_url", hook.URL+"/n") }
	e.checkout(odlsim.LicenseAvailable, "c-1", withHook)
	if err := e.sim.Activate("c-1"); err != nil {
		t.Fatal(err)
	}
	ds := waitDeliveries(t, e, 1)
	if !ds[0].Delivered || ds[0].Attempts != 3 || ds[0].Status != odlsim.StatusActive {
		t.Fatalf("delivery %+v, want active delivered on the third try", ds[0])
	}
	lsd := e.checkout(odlsim.LicenseAvailable, "c-2", withHook)
	e.do(http.MethodPut, expand(href(lsd, "return"), nil), false)
	e.checkout(odlsim.LicenseAvailable, "c-3", withHook)
	if err := e.sim.Revoke("c-3"); err != nil {
		t.Fatal(err)
	}
	e.checkout(odlsim.LicenseAvailable, "c-4", withHook)
	if err := e.sim.EndSilently("c-4"); err != nil {
		t.Fatal(err)
	}
	e.checkout(odlsim.LicenseAvailable, "c-5", func(q url.Values) {
		withHook(q)
		q.Set("expires", e.clock.Now().Add(time.Hour).Format(time.RFC3339))
	})
	e.clock.Advance(2 * time.Hour)
	e.sim.Sweep()
	waitDeliveries(t, e, 4)
	id := func(c string) string { l, _ := e.sim.Loan(c); return l.ID }
	want := []string{
		fmt.Sprintf(`{"id":%q,"status":"active"}`, id("c-1")),
		fmt.Sprintf(`{"id":%q,"status":"cancelled"}`, id("c-2")),
		fmt.Sprintf(`{"id":%q,"status":"revoked"}`, id("c-3")),
		fmt.Sprintf(`{"id":%q,"status":"expired"}`, id("c-5")),
	}
	if got := rcv.got(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("notifications\n got %v\nwant %v", got, want)
	}
	if l, _ := e.sim.Loan("c-4"); l.Status != odlsim.StatusReturned {
		t.Errorf("EndSilently left the loan %s", l.Status)
	}

	// Out of tries: delivered false, done; Close drops the rest.
	rcv.mu.Lock()
	rcv.fail = 100
	rcv.mu.Unlock()
	lsd = e.checkout(odlsim.LicenseAvailable, "c-6", withHook)
	if err := e.sim.Activate("c-6"); err != nil {
		t.Fatal(err)
	}
	ds = waitDeliveries(t, e, 5)
	if last := ds[len(ds)-1]; last.Delivered || last.Attempts != 5 || last.LastStatus != http.StatusServiceUnavailable {
		t.Errorf("failing receiver: %+v", last)
	}
	e.sim.Close()
	e.do(http.MethodPut, expand(href(lsd, "return"), nil), false)
	if ds := e.sim.Deliveries(); !ds[len(ds)-1].Done || ds[len(ds)-1].Attempts != 0 {
		t.Errorf("after Close a notification was tried: %+v", ds[len(ds)-1])
	}
}

// TestFaults: faults before the request carry nothing out; faults after
// it do, and lose the answer; Times and Endpoints bound them.
func TestFaults(t *testing.T) {
	e := newEnv(t)
	e.sim.SetFaults(odlsim.Faults{Endpoints: []odlsim.Endpoint{odlsim.EndpointCheckout}, Status: 503, RetryAfter: 1500 * time.Millisecond, Times: 1})
	if a := e.do(http.MethodGet, "/feed", true); a.status != 200 {
		t.Errorf("a fault for checkouts hit the feed: %d", a.status)
	}
	a := e.do(http.MethodPost, e.checkoutURL(odlsim.LicenseAvailable, "c-1", nil), true)
	if a.status != 503 || a.header.Get("Retry-After") != "2" || a.problemType(t) != odlsim.TypeServer || e.sim.Lent("c-1") {
		t.Fatalf("503 fault: %d %v %s", a.status, a.header, a.body)
	}
	e.checkout(odlsim.LicenseAvailable, "c-1", nil) // Times: 1 is spent

	e.sim.SetFaults(odlsim.Faults{BadGatewayAfter: true})
	a = e.do(http.MethodPost, e.checkoutURL(odlsim.LicenseAvailable, "c-2", nil), true)
	if a.status != http.StatusBadGateway || !strings.Contains(string(a.body), "502 Bad Gateway") || !e.sim.Lent("c-2") {
		t.Errorf("BadGatewayAfter: %d, lent %v", a.status, e.sim.Lent("c-2"))
	}
	e.sim.SetFaults(odlsim.Faults{GarbageAfter: true})
	a = e.do(http.MethodPost, e.checkoutURL(odlsim.LicenseAvailable, "c-3", nil), true)
	if a.status != http.StatusCreated || string(a.body) != odlsim.GarbageBody || !e.sim.Lent("c-3") {
		t.Errorf("GarbageAfter: %d %q, lent %v", a.status, a.body, e.sim.Lent("c-3"))
	}
	e.sim.SetFaults(odlsim.Faults{DropAfter: true})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+e.checkoutURL(odlsim.LicenseAvailable, "c-4", nil), nil)
	req.SetBasicAuth(odlsim.DefaultUsername, odlsim.DefaultPassword)
	if resp, err := e.client.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("DropAfter answered %d", resp.StatusCode)
	}
	if !e.sim.Lent("c-4") {
		t.Errorf("DropAfter did not lend")
	}
	e.sim.SetFaults(odlsim.Faults{Drop: true})
	if resp, err := e.client.Do(req.Clone(context.Background())); err == nil {
		resp.Body.Close()
		t.Errorf("Drop answered %d", resp.StatusCode)
	}
	e.sim.SetFaults(odlsim.Faults{Garbage: true})
	if a := e.do(http.MethodGet, "/feed", true); a.status != 200 || string(a.body) != odlsim.GarbageBody {
		t.Errorf("Garbage: %d %q", a.status, a.body)
	}
	e.sim.SetFaults(odlsim.Faults{})
	if n := e.sim.CallsTo(odlsim.EndpointCheckout); n != 6 {
		t.Errorf("%d checkout calls counted, want 6", n)
	}
	for _, r := range e.sim.Requests() {
		if r.Endpoint == odlsim.EndpointCheckout && r.Auth != "basic" {
			t.Errorf("request %+v", r)
		}
	}
}
