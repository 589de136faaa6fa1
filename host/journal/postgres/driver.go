// Package postgres is the journal driver "postgres": PostgreSQL through
// pgx, for several host nodes sharing one journal (DSN: a PostgreSQL URL
// or key=value string). Migrations are embedded and applied at open, and
// schema_migrations records the journal's version. A program links it
// (and pgx) only by importing it:
//
//	import _ "github.com/lendgate/lendgate/host/journal/postgres"
package postgres

import (
	"context"
	"errors"

	"github.com/lendgate/lendgate/host/journal"
)

func init() {
	journal.Register("postgres", journal.DriverFunc(func(ctx context.Context, dsn string) (journal.Store, error) {
		if dsn == "" {
			return nil, errors.New("store: driver postgres needs a dsn")
		}
		s, err := Open(ctx, dsn)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return s, nil
	}))
}
