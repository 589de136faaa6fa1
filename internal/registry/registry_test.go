package registry_test

import (
	"slices"
	"testing"

	"github.com/lendgate/lendgate/internal/registry"
)

type driver interface{ Name() string }

type named string

func (n named) Name() string { return string(n) }

func TestRegisterLookupNames(t *testing.T) {
	r := registry.New[driver]("test")
	r.Register("b", named("b"))
	r.Register("a", named("a"))
	if d, ok := r.Lookup("a"); !ok || d.Name() != "a" {
		t.Fatalf("Lookup(a) = %v, %v", d, ok)
	}
	if _, ok := r.Lookup("c"); ok {
		t.Fatal("Lookup found an unregistered driver")
	}
	if got := r.Names(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Names() = %v", got)
	}
}

func TestRegisterPanics(t *testing.T) {
	for name, register := range map[string]func(*registry.Registry[driver]){
		"nil":   func(r *registry.Registry[driver]) { r.Register("x", nil) },
		"twice": func(r *registry.Registry[driver]) { r.Register("a", named("a")) },
	} {
		t.Run(name, func(t *testing.T) {
			r := registry.New[driver]("test")
			r.Register("a", named("a"))
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			register(r)
		})
	}
}
