// Package registry is the driver registry that host/journal and host/cluster
// share, as database/sql's: drivers register themselves by name from their
// init functions, so a program links only the drivers it imports.
package registry

import (
	"slices"
	"sync"
)

// Registry maps names to drivers of one kind. Its zero value is not usable:
// make one with New.
type Registry[D comparable] struct {
	kind string // "journal", "cluster": the prefix of a panic's message

	// The lock keeps the registry honest if a driver registers after init.
	mu      sync.RWMutex
	drivers map[string]D
}

// New returns an empty registry whose panics name kind.
func New[D comparable](kind string) *Registry[D] {
	return &Registry[D]{kind: kind, drivers: map[string]D{}}
}

// Register makes d available by name. It panics if d is nil or the name is
// taken: both are programming errors of the driver, found at init.
func (r *Registry[D]) Register(name string, d D) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var none D
	if d == none {
		panic(r.kind + ": Register of a nil driver")
	}
	if _, dup := r.drivers[name]; dup {
		panic(r.kind + ": Register called twice for driver " + name)
	}
	r.drivers[name] = d
}

// Lookup returns the driver registered as name.
func (r *Registry[D]) Lookup(name string) (D, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	d, ok := r.drivers[name]
	return d, ok
}

// Names lists the registered drivers' names, sorted.
func (r *Registry[D]) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.drivers))
	for n := range r.drivers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
