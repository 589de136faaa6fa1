package storetest_test

import (
	"testing"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/storetest"
)

// The suite against the memory store, its simplest driver: a check of the
// suite itself (host's store_drivers_test.go runs it against every driver).
func TestSuiteOnMemoryStore(t *testing.T) {
	storetest.Run(t, storetest.Driver{Open: func(t *testing.T) (host.Store, func() host.Store) {
		return host.NewMemoryStore(), nil
	}})
}
