// Package journal is the host's journal: the Store interface its drivers
// implement, the records they keep (types of their own, so that renaming a
// field of the HTTP or Go API never changes what is on disk), the schema
// version, and a registry of drivers in the manner of database/sql. A
// driver registers itself in its package's init; a program links only the
// drivers it imports:
//
//	import _ "github.com/lendgate/lendgate/host/journal/postgres"
//
// The host imports the bolt (default) and memory drivers, so an embedder
// that keeps the bolt file links no PostgreSQL client. The behavioural
// suite every driver passes is journaltest.
//
// Decisions about the journal:
//   - The bolt store journals every write of a loan or an event in a
//     write-ahead log beside its file, one append and one sync shared by
//     the writers that append meanwhile, and commits the log into the
//     bbolt file in the background (the bolt package's doc says how). The
//     writes that go to the file itself (Idempotency-Keys, webhooks, the
//     log's commits) are group-committed by a committer goroutine of its
//     own rather than bbolt's DB.Batch: a write arriving while no commit
//     runs starts one at once (Batch would wait up to its 10 ms timer), and
//     the writes queued meanwhile share the next transaction and its syncs.
//     A write that fails rolls its group back; it is then run alone (its
//     error is its own) and the others committed again, so every write
//     function may run twice and sets its results afresh each time.
//   - A journal that cannot be read whole is not opened: a driver's Open
//     fails with an error matching ErrDamaged, and the host does not start
//     (its server exits naming the file and the offset). The bolt store
//     reads past one thing only, the last record of its log cut short by
//     a crash; recovering from anything else is an operator's step
//     (bolt.Recover, the server's -recover-journal) that keeps what
//     precedes the damage and never deletes the damaged log. An event
//     number once given is never given again, even after a recovery drops
//     events: numbering resumes past every event, log record and webhook
//     cursor the journal has, and past what a dropped part could have held.
//   - A checkout is durable twice (pending before the distributor call,
//     active with its event before the answer). Folding the two phases is
//     not safe (pending must be on disk before the distributor is called),
//     so a checkout alone costs two syncs of the bolt store's log. The bolt
//     file keeps an index for every query (patron, status, expiry, events
//     by cursor, keys by creation): see bolt/index.go.
//   - PostgreSQL events commit in parallel, with no lock across a commit:
//     a number drawn by a transaction not yet committed leaves a gap, and a
//     reader never steps over a gap below an event it returns. It settles
//     the gap by inserting a tombstone at the missing number, which waits
//     on the primary key for a writer still holding it; a writer whose
//     number was tombstoned applies again with a new one. So GET /v1/events
//     may wait for a commit in flight, and may write a tombstone.
//   - The PostgreSQL pool has 32 connections unless the DSN sets
//     pool_max_conns: enough for concurrent checkouts to share PostgreSQL's
//     WAL flush (at 64 checkouts at once, a fifth more a second than 16),
//     few enough for three nodes on one server.
//   - Events are kept store.event_retention (default 90 days), never less
//     than the Idempotency-Key TTL (a retried checkout finds its
//     loan.created event by its dedupe key); an event's dedupe key is purged
//     with it, so a distributor notification replayed after the retention
//     would apply again. Purges delete a few thousand records per
//     transaction. bbolt reuses freed pages but never shrinks its file;
//     compaction is offline (README, storage).
//   - Every loan write is compare-and-set on Loan.Version, a count of the
//     record's writes kept in the record itself (no column or bucket of its
//     own), so a journal written before versions needs no migration: its
//     records read as version 1 (StoredVersion). A write expects the
//     version it read (0: no record), and a record that moved answers
//     ErrConflict with nothing written; Apply's dedupe key is checked
//     first and is not used by an Apply that conflicts. Status alone could
//     not tell "active" from "active, renewed since". The bolt store
//     compares under its log's lock, in the same hold as the append, with
//     the loan's latest state (the log's passes, else bolt's record, read
//     again if a checkpoint moved it meanwhile); memory under its lock;
//     PostgreSQL in the writing statement (an UPDATE … WHERE on the
//     record's version, which a concurrent writer makes wait and compare
//     again; an INSERT … ON CONFLICT DO NOTHING for a creation). A node of
//     an older release in the same PostgreSQL cluster writes without
//     comparing and drops the version (its records read as 1 again): the
//     guarantee holds once every node runs this release.
//   - Records are JSON (a bolt value, a PostgreSQL jsonb) of this package's
//     own types. Schema 1 (every journal written before this package) kept
//     a loan nested under "loan" with the API's field names and an
//     idempotency outcome as an HTTP status; schema 2 keeps a loan flat and
//     an outcome as what the Go path needs (an answer or a refusal). Readers
//     take both shapes, so a journal of schema 1 is not rewritten: opening
//     it only records schema 2, and a journal of a newer schema than the
//     code's is refused rather than misread.
package journal

// SchemaVersion is the version of the records this code writes; each
// driver keeps the version of its journal (bolt in its meta bucket,
// PostgreSQL in schema_migrations) and refuses a newer one.
const SchemaVersion = 2
