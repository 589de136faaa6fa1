package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/internal/launch"
	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
	"github.com/lendgate/lendgate/plugins/odl/odlsim"
	"github.com/lendgate/lendgate/sdk"
)

// The rows of the report.
const (
	rowFloorCheckout = "floor (checkout)"
	rowFloorFulfill  = "floor (fulfill)"
	rowGoCheckout    = "go api (checkout, bolt)"
	rowGoCheckoutPG  = "go api (checkout, postgres)"
	rowGoCheckoutMem = "go api (checkout, memory)"
	rowGoFulfill     = "go api (fulfill)"
	rowHTTPCheckout  = "http (checkout, bolt)"
	rowHTTPCheckoutM = "http (checkout, memory)"
	rowHTTPAlone     = "http alone (loopback, no host, no plugin)"
	rowHTTPFloor     = "http → floor (no host)"
	rowFullCheckout  = "full (checkout, De Marque + simulator)"
	rowFullODL       = "full (checkout, ODL + simulator)"
	rowPGAlone       = "postgres alone (two durable commits of a small row, no host, no plugin)"
)

// One payload for every scenario.
const (
	fakeInstance     = "fake-a"
	demarqueInstance = "demarque-mtl"
	odlInstance      = "odl-library"
	benchItem        = demarquesim.ISBNAvailable
	benchPatron      = "patron-42"
	benchPatronName  = "Jane Doe"
	benchFormat      = "epub"
	benchDays        = 14
	benchSecret      = "bench-secret-not-for-production-0123456789"
	benchAPIKey      = "bench-api-key-0123456789"
	// floorLoanID and floorPatron have the length of the host's loan ids
	// (ln_ + ULID) and patron pseudonyms (32 hex characters).
	floorLoanID = "ln_01JBENCH0000000000000000000"
	floorPatron = "0123456789abcdef0123456789abcdef"
)

// unlimited is the lifted rate limit of every benchmarked instance.
var unlimited = host.RateConfig{PerSecond: 1e9, Burst: 1e9}

// quietLogger formats at the host's default level (info: one line per
// call) and discards, so the cost of the log line is measured but not a
// terminal's.
func quietLogger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "lendgate", Level: hclog.Info, Output: io.Discard})
}

// startPlugin starts a plugin binary exactly as the host does (the same
// internal/launch) and configures the fake instance: the floor's client. stop
// kills the plugin and removes its private copy.
func startPlugin(ctx context.Context, path string) (stop func(), prov sdk.Provider, pid int, err error) {
	img, err := launch.Copy("bench", path, "", launch.CopyOptions{})
	if err != nil {
		return nil, nil, 0, err
	}
	p, err := launch.Start(ctx, launch.Config{Image: img, Args0: path, Logger: quietLogger()})
	if err != nil {
		img.Remove()
		return nil, nil, 0, fmt.Errorf("starting %s: %w", path, err)
	}
	stop = func() { p.Kill(); img.Remove() }
	_, err = p.Provider.Describe(ctx)
	if err == nil {
		err = p.Provider.Configure(ctx, fakeInstance, map[string]string{})
	}
	if err != nil {
		stop()
		return nil, nil, 0, err
	}
	return stop, p.Provider, p.PID, nil
}

// floorCheckoutRequest is what the host sends the plugin for the go api's
// checkout.
func floorCheckoutRequest() sdk.CheckoutRequest {
	return sdk.CheckoutRequest{Instance: fakeInstance, LoanID: floorLoanID, Item: benchItem, Patron: floorPatron,
		PatronName: benchPatronName, Format: benchFormat, Days: benchDays}
}

func floorCheckout(ctx context.Context, path string) (*target, error) {
	stop, prov, pid, err := startPlugin(ctx, path)
	if err != nil {
		return nil, err
	}
	req := floorCheckoutRequest()
	return &target{
		call: func(ctx context.Context) error {
			_, err := prov.Checkout(ctx, req)
			return err
		},
		pids:  func() []int { return []int{pid} },
		close: stop,
	}, nil
}

func floorFulfill(ctx context.Context, path string) (*target, error) {
	stop, prov, pid, err := startPlugin(ctx, path)
	if err != nil {
		return nil, err
	}
	l, err := prov.Checkout(ctx, floorCheckoutRequest())
	if err != nil {
		stop()
		return nil, err
	}
	// The loan reference the host sends for a journaled loan.
	req := sdk.FulfillRequest{Instance: fakeInstance, Loan: sdk.LoanRef{ID: floorLoanID, Item: benchItem, Patron: floorPatron,
		PatronName: benchPatronName, Format: l.Format, ProviderRef: l.ProviderRef, ExpiresAt: l.ExpiresAt.UTC()}}
	return &target{
		call: func(ctx context.Context) error {
			_, err := prov.Fulfill(ctx, req)
			return err
		},
		pids:  func() []int { return []int{pid} },
		close: stop,
	}, nil
}

// startHost runs a host on store with the given plugins and
// instances, and waits until it is ready.
func startHost(ctx context.Context, store journal.Store, plugins map[string]host.PluginConfig, providers map[string]host.ProviderConfig) (*host.Host, error) {
	h, err := host.New(ctx, host.Config{
		APIKeys: []string{benchAPIKey}, Secret: benchSecret,
		Plugins: plugins, Providers: providers,
		StoreImpl: store, Logger: quietLogger(),
		SweepInterval: time.Hour, // no housekeeping while the store is emptied
	})
	if err != nil {
		return nil, err
	}
	if !h.Ready() {
		h.Close(context.Background())
		return nil, fmt.Errorf("the host did not start its plugins")
	}
	return h, nil
}

// fakeHost is a host with the fake plugin behind one unlimited instance.
func fakeHost(ctx context.Context, store journal.Store, path string) (*host.Host, error) {
	return startHost(ctx, store, map[string]host.PluginConfig{"fake": {Path: path, Unpinned: true}}, map[string]host.ProviderConfig{
		fakeInstance: {Plugin: "fake", Defaults: host.Defaults{Format: benchFormat, Days: benchDays}, Rate: unlimited},
	})
}

// fakeHostOn is fakeHost on a new journal of the given store.
func fakeHostOn(ctx context.Context, store, path string) (*host.Host, *benchJournal, error) {
	j, err := newJournal(store)
	if err != nil {
		return nil, nil, err
	}
	h, err := fakeHost(ctx, j, path)
	if err != nil {
		j.close()
		return nil, nil, err
	}
	return h, j, nil
}

func pluginPIDs(h *host.Host, instance string) func() []int {
	return func() []int {
		p, err := h.Provider(context.Background(), instance)
		if err != nil || !p.Plugin.Up {
			return nil
		}
		return []int{p.Plugin.PID}
	}
}

func closeHost(h *host.Host) { h.Close(context.Background()) }

// goCheckout is h.Checkout on a host journaling in the given store.
func goCheckout(store string) func(ctx context.Context, path string) (*target, error) {
	return func(ctx context.Context, path string) (*target, error) {
		h, j, err := fakeHostOn(ctx, store, path)
		if err != nil {
			return nil, err
		}
		req := host.CheckoutRequest{Item: benchItem, Patron: benchPatron, PatronName: benchPatronName}
		return &target{
			call: func(ctx context.Context) error {
				_, err := h.Checkout(ctx, fakeInstance, req)
				return err
			},
			pids:  pluginPIDs(h, fakeInstance),
			reset: j.reset,
			close: func() { closeHost(h); j.close() },
		}, nil
	}
}

func goFulfill(ctx context.Context, path string) (*target, error) {
	h, j, err := fakeHostOn(ctx, storeBolt, path)
	if err != nil {
		return nil, err
	}
	l, err := h.Checkout(ctx, fakeInstance, host.CheckoutRequest{Item: benchItem, Patron: benchPatron, PatronName: benchPatronName})
	if err != nil {
		closeHost(h)
		return nil, err
	}
	return &target{
		call: func(ctx context.Context) error {
			_, err := h.Fulfill(ctx, fakeInstance, l.ID, host.FulfillRequest{})
			return err
		},
		pids:  pluginPIDs(h, fakeInstance),
		close: func() { closeHost(h); j.close() },
	}, nil
}

// httpClient keeps a connection per client goroutine alive.
func httpClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * maxConcurrency, MaxIdleConnsPerHost: 2 * maxConcurrency,
		IdleConnTimeout: time.Minute}}
}

// httpCall POSTs body to url and wants 201 Created.
func httpCall(c *http.Client, url string, body []byte) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+benchAPIKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("status %d: %s", resp.StatusCode, b)
		}
		return nil
	}
}

// httpCheckout is POST /v1/providers/fake-a/loans on a host journaling in
// the given store.
func httpCheckout(store string) func(ctx context.Context, path string) (*target, error) {
	return func(ctx context.Context, path string) (*target, error) {
		h, j, err := fakeHostOn(ctx, store, path)
		if err != nil {
			return nil, err
		}
		srv := httptest.NewServer(h.Handler())
		body, _ := json.Marshal(host.CheckoutRequest{Item: benchItem, Patron: benchPatron, PatronName: benchPatronName})
		c := httpClient()
		return &target{
			call:  httpCall(c, srv.URL+"/v1/providers/"+fakeInstance+"/loans", body),
			pids:  pluginPIDs(h, fakeInstance),
			reset: j.reset,
			close: func() {
				c.CloseIdleConnections()
				srv.Close()
				closeHost(h)
				j.close()
			},
		}, nil
	}
}

// httpAlone is the HTTP half of the http scenario without the host and the
// plugin: the same client and request, a handler that reads the body and
// answers a loan of the host's size. It shows what loopback HTTP costs on
// this machine.
func httpAlone(context.Context, string) (*target, error) {
	exp := time.Now().Add(benchDays * 24 * time.Hour).UTC()
	answer, _ := json.Marshal(host.Loan{ID: floorLoanID, Provider: fakeInstance, Item: benchItem, Patron: benchPatron, Status: host.StatusActive,
		Format: benchFormat, CreatedAt: time.Now().UTC(), ExpiresAt: &exp,
		Links:       []host.Link{{Format: benchFormat, Rel: "content", Href: "https://content.example/" + floorLoanID}},
		ProviderRef: map[string]string{"patron_seen": floorPatron, "notify_url": "", "version": "1.0.0"}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req host.CheckoutRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusCreated)
		w.Write(answer)
	}))
	body, _ := json.Marshal(host.CheckoutRequest{Item: benchItem, Patron: benchPatron, PatronName: benchPatronName})
	c := httpClient()
	return &target{
		call: httpCall(c, srv.URL+"/v1/providers/"+fakeInstance+"/loans", body),
		pids: func() []int { return nil },
		close: func() {
			c.CloseIdleConnections()
			srv.Close()
		},
	}, nil
}

// httpFloor is the http scenario with the host taken out: a handler that
// decodes the request, makes the floor's bare Provider.Checkout and answers
// the loan as JSON. http (checkout) minus this row is the host's own cost
// on the HTTP path.
func httpFloor(ctx context.Context, path string) (*target, error) {
	stop, prov, pid, err := startPlugin(ctx, path)
	if err != nil {
		return nil, err
	}
	preq := floorCheckoutRequest()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req host.CheckoutRequest
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got, err := prov.Checkout(r.Context(), preq)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		exp := got.ExpiresAt.UTC()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(host.Loan{ID: preq.LoanID, Provider: fakeInstance, Item: req.Item, Patron: req.Patron, Status: host.StatusActive,
			Format: got.Format, CreatedAt: time.Now().UTC(), ExpiresAt: &exp,
			Links: []host.Link{{Format: got.Format, Rel: "content", Href: got.Links[0].Href}}, ProviderRef: got.ProviderRef})
	}))
	body, _ := json.Marshal(host.CheckoutRequest{Item: benchItem, Patron: benchPatron, PatronName: benchPatronName})
	c := httpClient()
	return &target{
		call: httpCall(c, srv.URL+"/v1/providers/"+fakeInstance+"/loans", body),
		pids: func() []int { return []int{pid} },
		close: func() {
			c.CloseIdleConnections()
			srv.Close()
			stop()
		},
	}, nil
}

// fullCheckout is the real connectors' path: HTTP into the host, the De
// Marque plugin, and its outbound HTTP call to the simulator (in this
// process, on httptest).
func fullCheckout(ctx context.Context, path string) (*target, error) {
	sim := demarquesim.New()
	simSrv := httptest.NewServer(sim)
	j, err := newJournal(storeBolt)
	if err != nil {
		simSrv.Close()
		return nil, err
	}
	h, err := startHost(ctx, j, map[string]host.PluginConfig{"demarque": {Path: path, Unpinned: true}}, map[string]host.ProviderConfig{
		demarqueInstance: {
			Plugin: "demarque",
			Settings: map[string]string{"base_url": simSrv.URL, "organisation_id": demarquesim.DefaultOrganisation,
				"username": demarquesim.DefaultUsername, "password": demarquesim.DefaultPassword},
			Defaults:          host.Defaults{Format: benchFormat, Days: benchDays},
			Rate:              unlimited,
			AllowInsecureHTTP: true, // the simulator speaks plain http on loopback
		},
	})
	if err != nil {
		simSrv.Close()
		j.close()
		return nil, err
	}
	srv := httptest.NewServer(h.Handler())
	body, _ := json.Marshal(host.CheckoutRequest{Item: benchItem, Patron: benchPatron, PatronName: benchPatronName,
		Options: map[string]string{"loan_url": sim.LoanURL(simSrv.URL, benchItem)}})
	c := httpClient()
	return &target{
		call: httpCall(c, srv.URL+"/v1/providers/"+demarqueInstance+"/loans", body),
		pids: pluginPIDs(h, demarqueInstance),
		reset: func() {
			j.reset()
			sim.Reset()
		},
		close: func() {
			c.CloseIdleConnections()
			srv.Close()
			closeHost(h)
			simSrv.Close()
			j.close()
		},
	}, nil
}

// fullODL is the ODL connector's path: HTTP into the host, the ODL plugin,
// and its two outbound calls per checkout to the simulator (the licence's
// info document, then the borrow link), on a licence without limits so
// that every checkout lends. The feed is read once, before the first.
func fullODL(ctx context.Context, path string) (*target, error) {
	sim := odlsim.New()
	simSrv := httptest.NewServer(sim)
	stopSim := func() {
		simSrv.Close()
		sim.Close()
	}
	j, err := newJournal(storeBolt)
	if err != nil {
		stopSim()
		return nil, err
	}
	h, err := startHost(ctx, j, map[string]host.PluginConfig{"odl": {Path: path, Unpinned: true}}, map[string]host.ProviderConfig{
		odlInstance: {
			Plugin: "odl",
			Settings: map[string]string{"feed_url": sim.FeedURL(simSrv.URL), "username": odlsim.DefaultUsername,
				"password": odlsim.DefaultPassword},
			Defaults:          host.Defaults{Format: benchFormat, Days: benchDays},
			Rate:              unlimited,
			AllowInsecureHTTP: true, // the simulator speaks plain http on loopback
		},
	})
	if err != nil {
		stopSim()
		j.close()
		return nil, err
	}
	srv := httptest.NewServer(h.Handler())
	body, _ := json.Marshal(host.CheckoutRequest{Item: odlsim.ISBNUnlimited, Patron: benchPatron, PatronName: benchPatronName})
	c := httpClient()
	return &target{
		call: httpCall(c, srv.URL+"/v1/providers/"+odlInstance+"/loans", body),
		pids: pluginPIDs(h, odlInstance),
		reset: func() {
			j.reset()
			sim.Reset()
		},
		close: func() {
			c.CloseIdleConnections()
			srv.Close()
			closeHost(h)
			stopSim()
			j.close()
		},
	}, nil
}
