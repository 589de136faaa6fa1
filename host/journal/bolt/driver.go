// Package bolt is the default journal driver, "bolt": one bbolt file on
// the host's disk (DSN: its path, ./lendgate.db by default), for one host
// process at a time. Writes are group-committed (commit.go) and every query
// is a range scan of an index (index.go); the file records its schema
// version in its meta bucket. The host links it by default.
//
// Decisions about a checkout's cost (issue #12; BenchmarkCheckout measures
// it, with pages and syncs per checkout):
//   - On this disk a sync costs more the more pages it flushes, so a commit
//     should dirty few pages. A checkout writes each large B-tree once: a
//     pending loan's record is kept in loans_pending, a small bucket whose
//     keys are also the pending range of the status index, and moves to
//     loans when the distributor answers; an event keeps its dedupe key in
//     its own record rather than in an index of its own (layout 3,
//     index.go). Files of layout 2 have their few pending loans moved at
//     open; their events keep their keys in event_dedupe_keys until purged.
//   - The freelist is not written at each commit (NoFreelistSync, with the
//     hashmap freelist): a commit writes one page fewer (two per
//     checkout), and bbolt rebuilds the freelist at open by walking the
//     file's pages, about a second for a file of a million loans and their
//     events (1.3 GB, in the page cache) against under a millisecond.
//   - One checkout alone still costs four syncs: bbolt syncs each commit
//     twice (pages, then meta) and the two commits cannot be folded (the
//     pending loan is on disk before the distributor is called, the active
//     loan and its event before the answer). NoSync is not used. Fewer
//     would take a log of our own beside the file for the pending write
//     (one sync), with the pending records replayed into the file at open
//     and a durable tombstone for a pending loan the distributor refused,
//     so that a crash never brings it back: not done.
//   - A program of layout 2 opening a file of layout 3 would not see the
//     loans pending in it (their records are in loans_pending): going back
//     to an older lendgate after a crash with checkouts in flight leaves
//     those to be found by hand.
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
