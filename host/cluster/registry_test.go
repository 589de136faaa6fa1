package cluster_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lendgate/lendgate/host/cluster"
)

// A program that did not link the Redis driver learns which import links
// it (this test binary links none).
func TestOpenWithoutTheDriverNamesTheImport(t *testing.T) {
	_, err := cluster.Open(context.Background(), "redis", "127.0.0.1:6379", nil)
	if err == nil || !strings.Contains(err.Error(), `import _ "github.com/lendgate/lendgate/host/cluster/redis"`) {
		t.Fatalf("Open without the driver: %v, want an error naming the import", err)
	}
}
