package memory_test

import (
	"testing"

	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/journaltest"
	"github.com/lendgate/lendgate/host/journal/memory"
)

func TestSuite(t *testing.T) {
	journaltest.Run(t, journaltest.Driver{Open: func(t *testing.T) (journal.Store, func() journal.Store) {
		return memory.New(), nil
	}})
}
