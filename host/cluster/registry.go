package cluster

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/internal/registry"
)

// drivers is written only by drivers' init functions, as database/sql's is.
var drivers = registry.New[Driver]("cluster")

// Register makes a driver available by name. It panics if d is nil or the
// name is taken: both are programming errors of the driver.
func Register(name string, d Driver) { drivers.Register(name, d) }

// Drivers lists the registered drivers' names, sorted.
func Drivers() []string { return drivers.Names() }

// Open opens a Cluster with the driver registered as name. A driver that is
// not linked into the program is named with the import that links it.
func Open(ctx context.Context, name, addr string, log hclog.Logger) (Cluster, error) {
	d, ok := drivers.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("cluster.%s: the %s cluster driver is not linked into this program; add import _ %q", name, name, "github.com/lendgate/lendgate/host/cluster/"+name)
	}
	c, err := d.Open(ctx, addr, log)
	if err != nil {
		return nil, fmt.Errorf("cluster.%s: %w", name, err)
	}
	return c, nil
}
