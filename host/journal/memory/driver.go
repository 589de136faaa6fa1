package memory

import (
	"context"

	"github.com/lendgate/lendgate/host/journal"
)

func init() {
	journal.Register("memory", journal.DriverFunc(func(context.Context, string) (journal.Store, error) {
		return New(), nil
	}))
}
