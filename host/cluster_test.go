package host_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host"
	_ "github.com/lendgate/lendgate/host/cluster/redis" // cluster.redis
	"github.com/lendgate/lendgate/internal/testserver"
	goredis "github.com/redis/go-redis/v9"
)

// A New that fails after connecting to Redis closes that connection: a
// Host that is not returned is never closed.
func TestClusterConnectionClosedWhenNewFails(t *testing.T) {
	addr := testserver.Redis(t)
	cfg := host.Config{
		APIKeys: []string{testAPIKey}, Secret: testSecret,
		Store:     host.StoreConfig{Driver: "memory"},
		Cluster:   host.ClusterConfig{Redis: addr},
		Providers: map[string]host.ProviderConfig{"cb": {Plugin: "missing"}},
		Logger:    hclog.NewNullLogger(),
	}
	for range 3 {
		if _, err := host.New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), `no plugin named "missing"`) {
			t.Fatalf("New with a provider of no plugin: %v", err)
		}
	}
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rdb.Close()
	// Redis drops a closed connection from its list as its event loop gets
	// to it: wait for that, not a fixed time.
	var list string
	for deadline := time.Now().Add(5 * time.Second); ; {
		var err error
		if list, err = rdb.ClientList(context.Background()).Result(); err != nil {
			t.Fatal(err)
		}
		if strings.Count(strings.TrimSpace(list), "\n") == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("connections to Redis after three failed New, want only this test's:\n%s", list)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
