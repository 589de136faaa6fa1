// Package bolt is the default journal driver, "bolt": one bbolt file on
// the host's disk (DSN: its path, ./lendgate.db by default), for one host
// process at a time, and a write-ahead log beside it (<file>-wal, 2 MiB):
// writes of loans and events are synced to the log and committed into the
// file in the background (wal.go, overlay.go), other writes are
// group-committed to the file (commit.go), and every query is a range scan
// of an index (index.go); the file records its schema version in its meta
// bucket. The host links it by default.
//
// Decisions about a checkout's cost (BenchmarkCheckout measures it, with
// pages and syncs per checkout):
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
//   - A checkout costs two syncs of a page or two, not the four of two
//     bbolt commits (bbolt syncs each commit twice, pages then meta, and
//     writes a leaf and its branches in every B-tree the commit touches;
//     NoSync is not used). Every write of a loan or an event goes to a
//     write-ahead log beside the file, <file>-wal (wal.go): one append and
//     one sync, shared by the writers that append meanwhile. One sync runs
//     at a time; the writers that wait for it are woken together when it
//     ends, and the one that leads the next yields once first when others
//     wait, so that under load a sync covers more records (about twenty at
//     64 concurrent checkouts on 2 cores): a sync costs the kernel and the
//     disk more than the wait costs the writers. What the log
//     holds is kept in memory (overlay.go) and merged into every read, and
//     a checkpoint commits it into bolt in one transaction, in the
//     background: the log has two halves, written in turn, and a full half
//     is committed while the other is written, so a checkout waits for a
//     commit only if a whole half fills while one runs. The half being
//     written is also committed after a second, so a quiet journal is in
//     bolt within a second and a bolt file that takes no commit (a full
//     disk) is found then: until a commit succeeds again, the log refuses
//     writes too, and the host stops ordering (journal_unavailable).
//     Idempotency-Keys and webhooks are written to bolt directly (the
//     committer). A failed append or sync of the log fails the store for
//     good: the kernel may have dropped pages it could not write, so no
//     later sync would vouch for them (the host is restarted, and the log
//     replayed). A read returns what the log holds only once it is synced,
//     so an event's number, once read, is never given to another event
//     after a crash. At open the log is replayed and committed, and the
//     log goes on two passes later, so no record a crash left behind can
//     come back. A copy of a closed file is whole; a copy of the file of a
//     crashed process (or a filesystem snapshot) needs its -wal file beside
//     it, or the writes of its last second or two are lost.
//
// Decisions about damage (the journal never reads damage as absence):
//   - A crash can leave only the log's last write unfinished, and what it
//     did not write is still zeros: every pass is written into a half of
//     zeros (a checkpoint, once bolt has a pass, zeros what it wrote, the
//     first record's header last, each step synced). Replay (replay.go)
//     therefore ends the log at a record cut short (its end byte, a whole
//     sector of it, or part of its header unwritten, and nothing written
//     after it), and only there. A record whose checksum fails with every
//     byte written, anything written after a record that is not whole, a
//     record of another pass where a pass's belong, a log shorter than it
//     was written, and a missing log beside a file that was not closed
//     cleanly are damage: Open fails with a *DamageError naming the log and
//     the offset (errors.Is journal.ErrDamaged), changes nothing, and the
//     host does not start. A power cut can, rarely, leave a later sector of
//     the last unsynced write on disk without an earlier one; that reads as
//     damage too (nothing acknowledged is lost, but only the operator's
//     step opens it): a false alarm rather than a guess.
//   - Recover is that step: the records before the damage are committed,
//     the damaged log is moved to <file>-wal.damaged-<time> (never deleted),
//     and event numbers go on past every number the dropped part held or
//     could have held (its bytes bound how many), so no number is given
//     twice. At every open, too, event numbers resume past bolt's sequence,
//     the log's and every webhook's cursor.
//   - A clean Close records in the file that the log holds nothing more;
//     such a file opens without its log (a copy, a backup put back beside a
//     newer log), and the log beside it is zeroed, not read.
//   - The directory is synced at every open, once the file and its log
//     exist (they may just have been created, or moved there by an
//     operator), before anything is committed, and after Recover moves a
//     log aside.
//   - Detecting damage costs a checkout nothing it waits for: a record is
//     14 bytes longer (its pass, a header checksum, an end byte), and the
//     zeroing of a half (its written pages, two syncs, about a millisecond
//     against a checkpoint's commit of ten or more) runs in the background
//     with each checkpoint. BenchmarkCheckout measured about 0.1 page per
//     checkout more (3.33 against 3.21 alone, 1.63 against 1.53 at 64 at
//     once) and no change in time or syncs beyond the disk's noise.
//   - An older program opening a file would not read its -wal: going back
//     to an older lendgate needs a clean stop first (Close commits the log
//     into the file), or the last writes before a crash are not seen. A
//     program of layout 2 opening a file of layout 3 would not see the
//     loans pending in it either (their records are in loans_pending). A
//     log of an earlier build's format (no wal_format in the file) is read
//     once, as that build read it, and the log goes on in the current one.
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
