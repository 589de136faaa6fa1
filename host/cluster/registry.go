package cluster

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// The registry is written only by drivers' init functions, as database/sql's
// is; the lock keeps it honest if a driver registers later.
var (
	driversMu sync.RWMutex
	drivers   = map[string]Driver{}
)

// Register makes a driver available by name. It panics if d is nil or the
// name is taken: both are programming errors of the driver.
func Register(name string, d Driver) {
	driversMu.Lock()
	defer driversMu.Unlock()
	if d == nil {
		panic("cluster: Register driver is nil")
	}
	if _, dup := drivers[name]; dup {
		panic("cluster: Register called twice for driver " + name)
	}
	drivers[name] = d
}

// Drivers lists the registered drivers' names, sorted.
func Drivers() []string {
	driversMu.RLock()
	defer driversMu.RUnlock()
	names := make([]string, 0, len(drivers))
	for n := range drivers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Open opens a Cluster with the driver registered as name. A driver that is
// not linked into the program is named with the import that links it.
func Open(ctx context.Context, name, addr string, log hclog.Logger) (Cluster, error) {
	driversMu.RLock()
	d, ok := drivers[name]
	driversMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("cluster.%s: the %s cluster driver is not linked into this program; add import _ %q", name, name, "github.com/lendgate/lendgate/host/cluster/"+name)
	}
	c, err := d.Open(ctx, addr, log)
	if err != nil {
		return nil, fmt.Errorf("cluster.%s: %w", name, err)
	}
	return c, nil
}
