package host

import (
	"context"
	"fmt"
)

// storeDrivers opens a store by driver name. The postgres driver registers
// itself here from store_postgres.go.
func openStore(ctx context.Context, c StoreConfig) (Store, error) {
	switch c.Driver {
	case "", "bolt":
		dsn := c.DSN
		if dsn == "" {
			dsn = "./lendgate.db"
		}
		return OpenBoltStore(dsn)
	case "memory":
		return NewMemoryStore(), nil
	case "postgres":
		if c.DSN == "" {
			return nil, fmt.Errorf("store: driver postgres needs a dsn")
		}
		return OpenPostgresStore(ctx, c.DSN)
	default:
		return nil, fmt.Errorf("unknown store driver %q (bolt, postgres, memory)", c.Driver)
	}
}
