// Package bolt is the default journal driver, "bolt": one bbolt file on
// the host's disk (DSN: its path, ./lendgate.db by default), for one host
// process at a time. Writes are group-committed (commit.go) and every query
// is a range scan of an index (index.go); the file records its schema
// version in its meta bucket. The host links it by default.
//
// Decisions about a checkout's cost (issue #12; BenchmarkCheckout measures
// it, with pages and syncs per checkout):
//   - On this disk a sync costs more the more pages it flushes, so a commit
//     should dirty few pages, and a checkout writes each large B-tree once.
//     A pending loan bolt keeps is in loans_pending, a small bucket whose
//     keys are also the pending range of the status index, and moves to
//     loans when it leaves pending; an event keeps its dedupe key in its
//     own record rather than in an index of its own (layout 3, index.go).
//     Files of layout 2 have their few pending loans moved at open; their
//     events keep their keys in event_dedupe_keys until purged.
//   - The freelist is not written at each commit (NoFreelistSync, with the
//     hashmap freelist): a commit writes one page fewer (two per
//     checkout), and bbolt rebuilds the freelist at open by walking the
//     file's pages, about a second for a file of a million loans and their
//     events (1.3 GB, in the page cache) against under a millisecond.
//   - A checkout costs three syncs, not four. bbolt syncs each commit twice
//     (pages, then meta; NoSync is not used), and the two writes of a
//     checkout cannot share a commit (the pending loan is on disk before
//     the distributor is called, the active loan and its event before the
//     answer). So the first goes to a log of its own beside the file,
//     <file>-pending (pendinglog.go): one append, one sync of a page or
//     two, shared by the checkouts that append meanwhile. The log's loans
//     are kept in memory and merged into every read; the second write
//     commits the loan to bolt like any other. Deleting a loan the log has
//     a put record of (a checkout the distributor refused) writes a synced
//     tombstone, so that no crash brings it back. When the log is full,
//     and at every open and close, a checkpoint commits the loans it holds
//     into bolt (loans_pending) and moves the log's epoch on in the same
//     transaction: its old records then fail their checksum, and the log
//     starts over without being rewritten. Under concurrency the log's
//     syncs are not shared with bolt's commits: a checkout averages more
//     syncs than before, each of the log's of a page or two, for fewer
//     pages. A copy of a closed file is whole; a copy of the file of a
//     crashed process needs its -pending file beside it, or the checkouts
//     then in flight are lost.
//   - A program of layout 2 opening a file of layout 3 would not see the
//     loans pending in it (their records are in loans_pending or the log):
//     going back to an older lendgate after a crash with checkouts in
//     flight leaves those to be found by hand.
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
