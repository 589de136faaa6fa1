package host_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host"
	_ "github.com/lendgate/lendgate/host/cluster/redis"    // cluster.redis
	_ "github.com/lendgate/lendgate/host/journal/postgres" // the store of the nodes
	"github.com/lendgate/lendgate/internal/testbin"
	"github.com/lendgate/lendgate/internal/testserver"
	"github.com/lendgate/lendgate/plugins/cb/cbsim"
)

// config.md: sharing breaker state across nodes must not serialise calls to
// an instance (as gobreaker's DistributedCircuitBreaker, holding a Redis
// lock around each call, would). Two nodes share postgres and Redis; each
// batch sends n checkouts at once, alternating between the nodes, to one
// instance whose distributor answers after a fixed latency. "parallelism"
// is n×latency over the batch's wall time: about n when the calls overlap,
// about 1 when they are serialised. No wall-clock assertion: the numbers
// are reported.
func BenchmarkClusterCallsToOneInstanceRunInParallel(b *testing.B) {
	const latency = 20 * time.Millisecond
	const n = 32
	dsn := testserver.SharedPostgres(b)
	redis := testserver.Redis(b)
	sim := cbsim.New()
	sim.SetFaults(cbsim.Faults{Latency: latency})
	simSrv := httptest.NewServer(sim)
	b.Cleanup(simSrv.Close)
	cfg := host.Config{
		APIKeys: []string{testAPIKey}, Secret: testSecret,
		Store:   host.StoreConfig{Driver: "postgres", DSN: dsn},
		Cluster: host.ClusterConfig{Redis: redis},
		Plugins: map[string]host.PluginConfig{"cb": pinned(b, testbin.Build(b, "github.com/lendgate/lendgate/plugins/cb", ""))},
		Providers: map[string]host.ProviderConfig{"cb": {
			Plugin:   "cb",
			Settings: map[string]string{"base_url": cbsim.BaseURL(simSrv.URL), "username": cbsim.DefaultUsername, "password": cbsim.DefaultPassword},
			// Not the subject: roomy enough that no call waits for a token.
			Rate:              host.RateConfig{PerSecond: 1e5, Burst: 1e5},
			AllowInsecureHTTP: true,
		}},
		Logger: hclog.NewNullLogger(),
	}
	ctx := context.Background()
	nodes := make([]*host.Host, 2)
	for i := range nodes {
		h, err := host.New(ctx, cfg)
		if err != nil {
			b.Fatalf("node %d: %v", i, err)
		}
		b.Cleanup(func() { h.Close(context.Background()) })
		nodes[i] = h
	}
	var seq atomic.Int64
	var wall time.Duration
	batches := 0
	for b.Loop() {
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				patron := fmt.Sprintf("bench-%d", seq.Add(1))
				if _, err := nodes[i%2].Checkout(ctx, "cb", host.CheckoutRequest{Item: cbsim.EANAvailable, Patron: patron}); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		wall += time.Since(start)
		batches++
		close(errs)
		for err := range errs {
			b.Fatalf("checkout: %v", err)
		}
	}
	if batches > 0 && wall > 0 {
		b.ReportMetric(float64(n)*float64(latency)*float64(batches)/float64(wall), "parallelism")
		b.ReportMetric(float64(wall.Milliseconds())/float64(batches), "ms/batch")
	}
}
