package host_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/bolt"
	"github.com/lendgate/lendgate/host/journal/memory"
	"github.com/lendgate/lendgate/host/journal/postgres"
	"github.com/lendgate/lendgate/internal/launch"
	"github.com/lendgate/lendgate/internal/testserver"
	"github.com/lendgate/lendgate/sdk"
)

// The host's cost over a bare go-plugin call, one call at a time:
//
//	go test -run xxx -bench . -benchtime 2000x ./host
//
// examples/bench measures the same paths under concurrency, plus swaps,
// crashes and memory. Allocations are the test process's: the host plus the
// gRPC client side (and the HTTP client for BenchmarkHTTPCheckout); the
// floor benchmarks are the gRPC client alone.

// benchPatronKey and benchLoanID have the length of the host's patron
// pseudonyms and loan ids, so the floor sends the host's payload.
const (
	benchPatronKey = "0123456789abcdef0123456789abcdef"
	benchLoanID    = "ln_01JBENCH0000000000000000000"
)

// benchLogger formats at the host's default level (info) and discards.
func benchLogger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "lendgate", Level: hclog.Info, Output: io.Discard})
}

// benchFloor starts the fake plugin exactly as the host does (the same
// launch) and returns its Provider, with fake-a configured.
func benchFloor(b *testing.B) sdk.Provider {
	b.Helper()
	img, err := launch.Copy("fake", fakePlugin(b), "", launch.CopyOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(img.Remove)
	p, err := launch.Start(context.Background(), launch.Config{Image: img, Logger: benchLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.Kill)
	if err := p.Provider.Configure(context.Background(), "fake-a", map[string]string{}); err != nil {
		b.Fatal(err)
	}
	return p.Provider
}

// benchHost is fakeConfig's host with fake-a's rate limit lifted, on the
// memory store.
func benchHost(b *testing.B) *host.Host { return benchHostOn(b, memory.New()) }

// benchHostOn is benchHost journaling in store.
func benchHostOn(b *testing.B, store journal.Store) *host.Host {
	b.Helper()
	cfg := fakeConfig(b)
	cfg.StoreImpl = store
	a := cfg.Providers["fake-a"]
	a.Rate = host.RateConfig{PerSecond: 1e9, Burst: 1e9}
	cfg.Providers["fake-a"] = a
	cfg.Logger = benchLogger()
	h, err := host.New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close(context.Background()) })
	if !h.Ready() {
		p, _ := h.Provider(context.Background(), "fake-a")
		b.Fatalf("the fake plugin did not start: %s", p.Plugin.Error)
	}
	return h
}

var benchCheckout = host.CheckoutRequest{Item: isbnOK, Patron: "patron-42", PatronName: "Jane Doe"}

func benchFloorCheckoutRequest() sdk.CheckoutRequest {
	return sdk.CheckoutRequest{Instance: "fake-a", LoanID: benchLoanID, Item: isbnOK, Patron: benchPatronKey,
		PatronName: "Jane Doe", Format: "epub", Days: 14}
}

// benchRun calls fn b.N times after a short warm-up, failing on the first
// error.
func benchRun(b *testing.B, fn func(context.Context) error) {
	b.Helper()
	ctx := context.Background()
	for range 50 {
		if err := fn(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := fn(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFloorCheckout(b *testing.B) {
	prov := benchFloor(b)
	req := benchFloorCheckoutRequest()
	benchRun(b, func(ctx context.Context) error {
		_, err := prov.Checkout(ctx, req)
		return err
	})
}

func BenchmarkFloorFulfill(b *testing.B) {
	prov := benchFloor(b)
	l, err := prov.Checkout(context.Background(), benchFloorCheckoutRequest())
	if err != nil {
		b.Fatal(err)
	}
	req := sdk.FulfillRequest{Instance: "fake-a", Loan: sdk.LoanRef{ID: benchLoanID, Item: isbnOK, Patron: benchPatronKey,
		PatronName: "Jane Doe", Format: l.Format, ProviderRef: l.ProviderRef, ExpiresAt: l.ExpiresAt.UTC()}}
	benchRun(b, func(ctx context.Context) error {
		_, err := prov.Fulfill(ctx, req)
		return err
	})
}

func BenchmarkGoAPICheckout(b *testing.B) {
	h := benchHost(b)
	benchRun(b, func(ctx context.Context) error {
		_, err := h.Checkout(ctx, "fake-a", benchCheckout)
		return err
	})
}

// The same checkout on the durable stores: one client, each call durable
// twice. The Parallel forms run 32 × GOMAXPROCS goroutines (b.SetParallelism):
// 64 clients on 2 cores, where the journal's commits are shared. (-cpu N sets
// GOMAXPROCS, so -cpu 32 would run 1024.) pages/op is what bbolt wrote per
// checkout.
func BenchmarkGoAPICheckoutBolt(b *testing.B) {
	s, err := bolt.Open(filepath.Join(b.TempDir(), "journal.db"))
	if err != nil {
		b.Fatal(err)
	}
	h := benchHostOn(b, s) // closed (with its store) at cleanup
	pages := s.PagesWritten()
	benchRun(b, func(ctx context.Context) error {
		_, err := h.Checkout(ctx, "fake-a", benchCheckout)
		return err
	})
	b.ReportMetric(float64(s.PagesWritten()-pages)/float64(b.N+50), "pages/op") // with the warm-up's
}

func BenchmarkGoAPICheckoutBoltParallel(b *testing.B) {
	s, err := bolt.Open(filepath.Join(b.TempDir(), "journal.db"))
	if err != nil {
		b.Fatal(err)
	}
	h := benchHostOn(b, s)
	pages := s.PagesWritten()
	benchParallel(b, h)
	b.ReportMetric(float64(s.PagesWritten()-pages)/float64(b.N+50), "pages/op") // with the warm-up's
}

func BenchmarkGoAPICheckoutPostgres(b *testing.B) {
	h := benchHostOn(b, benchPostgres(b))
	benchRun(b, func(ctx context.Context) error {
		_, err := h.Checkout(ctx, "fake-a", benchCheckout)
		return err
	})
}

func BenchmarkGoAPICheckoutPostgresParallel(b *testing.B) {
	benchParallel(b, benchHostOn(b, benchPostgres(b)))
}

// benchPostgres is a store on a new database of the tests' server (which
// runs without fsync: these figures show the host's and the driver's
// cost; examples/bench measures a durable server).
func benchPostgres(b *testing.B) journal.Store {
	s, err := postgres.Open(b.Context(), testserver.SharedPostgres(b))
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// benchParallel times b.N checkouts made by 32 × -cpu goroutines. The
// host's start (its plugin process) and a warm-up are left out of the
// timing: with them a short run measured mostly the start.
func benchParallel(b *testing.B, h *host.Host) {
	for range 50 {
		if _, err := h.Checkout(context.Background(), "fake-a", benchCheckout); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Checkout(context.Background(), "fake-a", benchCheckout); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkGoAPICheckoutParallel is the memory store's checkout at 64
// clients: the host's own CPU per call competes with the gRPC client's and
// the plugin's on the same cores, so it shows as throughput.
func BenchmarkGoAPICheckoutParallel(b *testing.B) {
	benchParallel(b, benchHost(b))
}

// BenchmarkFloorCheckoutParallel is the floor at 64 clients.
func BenchmarkFloorCheckoutParallel(b *testing.B) {
	prov := benchFloor(b)
	req := benchFloorCheckoutRequest()
	b.ReportAllocs()
	b.ResetTimer()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := prov.Checkout(context.Background(), req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkGoAPIFulfill(b *testing.B) {
	h := benchHost(b)
	l, err := h.Checkout(context.Background(), "fake-a", benchCheckout)
	if err != nil {
		b.Fatal(err)
	}
	benchRun(b, func(ctx context.Context) error {
		_, err := h.Fulfill(ctx, "fake-a", l.ID, host.FulfillRequest{})
		return err
	})
}

func BenchmarkHTTPCheckout(b *testing.B) {
	h := benchHost(b)
	srv := httptest.NewServer(h.Handler())
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	b.Cleanup(client.CloseIdleConnections)
	body, err := json.Marshal(benchCheckout)
	if err != nil {
		b.Fatal(err)
	}
	url := srv.URL + "/v1/providers/fake-a/loans"
	benchRun(b, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+testAPIKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("status %d", resp.StatusCode)
		}
		return nil
	})
}
