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
