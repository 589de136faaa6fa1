package journal

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/lendgate/lendgate/internal/registry"
)

// Driver opens a journal of one kind from its data source name (a file
// path, a PostgreSQL DSN; "" for the driver's default).
type Driver interface {
	Open(ctx context.Context, dsn string) (Store, error)
}

// DriverFunc is a Driver that is a function.
type DriverFunc func(ctx context.Context, dsn string) (Store, error)

// Open calls f.
func (f DriverFunc) Open(ctx context.Context, dsn string) (Store, error) { return f(ctx, dsn) }

// drivers is the registry, written by the drivers' init functions only,
// as database/sql's is.
var drivers = registry.New[Driver]("journal")

// Register makes a driver available by name to Open. It panics if d is nil
// or name is registered twice: both are programming errors found at init.
func Register(name string, d Driver) { drivers.Register(name, d) }

// Drivers lists the names of the registered drivers, sorted.
func Drivers() []string { return drivers.Names() }

// known are the drivers of this module, and the package that registers
// each, for the error that names the import a program lacks.
var known = map[string]string{
	"bolt":     "github.com/lendgate/lendgate/host/journal/bolt",
	"memory":   "github.com/lendgate/lendgate/host/journal/memory",
	"postgres": "github.com/lendgate/lendgate/host/journal/postgres",
}

// Open opens a journal with the driver registered as name.
func Open(ctx context.Context, name, dsn string) (Store, error) {
	d, ok := drivers.Lookup(name)
	if ok {
		return d.Open(ctx, dsn)
	}
	if pkg, ours := known[name]; ours {
		return nil, fmt.Errorf("journal driver %q is not linked into this program: add import _ %q", name, pkg)
	}
	names := Drivers()
	for n := range known {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return nil, fmt.Errorf("unknown store driver %q (%s)", name, strings.Join(names, ", "))
}
