// Package bolt is the default journal driver, "bolt": one bbolt file on
// the host's disk (DSN: its path, ./lendgate.db by default), for one host
// process at a time. Writes are group-committed (commit.go) and every query
// is a range scan of an index (index.go); the file records its schema
// version in its meta bucket. The host links it by default.
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
