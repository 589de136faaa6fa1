// Package memory is the journal driver "memory": a journal in memory, for
// tests and trials; it forgets everything on exit. The host links it by
// default.
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
