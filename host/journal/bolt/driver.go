package bolt

import (
	"cmp"
	"context"

	"github.com/lendgate/lendgate/host/journal"
)

// DefaultPath is the file the driver opens for an empty DSN.
const DefaultPath = "./lendgate.db"

func init() {
	journal.Register("bolt", journal.DriverFunc(func(_ context.Context, dsn string) (journal.Store, error) {
		s, err := Open(cmp.Or(dsn, DefaultPath))
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return s, nil
	}))
}
