package journaltest_test

import (
	"testing"

	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/journaltest"
	"github.com/lendgate/lendgate/host/journal/memory"
)

// The suite against the memory store, its simplest driver: a check of the
// suite itself (each driver's package runs it against that driver).
func TestSuiteOnMemoryStore(t *testing.T) {
	journaltest.Run(t, journaltest.Driver{Open: func(t *testing.T) (journal.Store, func() journal.Store) {
		return memory.New(), nil
	}})
}
