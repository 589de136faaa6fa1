// Package host is the embeddable lendgate host: it runs provider plugins
// (hashicorp/go-plugin over gRPC), wraps every provider instance in a rate
// limiter, a circuit breaker and a deadline, keeps a journal of loans and
// events, and serves the unified lending API of api.md three ways: as an
// http.Handler (Handler), as middleware in front of an ILS's own handlers
// (Middleware), and as Go methods (Checkout, Fulfill, …) with the same
// request and response types.
//
// A request reads as a chain of small files: http*.go (codec) → ops*.go
// (operation) → resilience.go (limit, break, deadline) → plugin.go (process
// and client) → sdk (wire) → the plugin.
//
// Decisions where the contract is silent:
//   - Patron pseudonyms are computed by the host, so no plugin ever sees an
//     ILS patron id unless the instance sets send_patron_id: the key of
//     instance I is HMAC-SHA256(secret, "patron|"+I), the pseudonym the first
//     32 hex characters of HMAC-SHA256(key, patron id).
//   - A notification token is "<loan id>.<mac>" where mac is the base64url
//     HMAC-SHA256(secret, "notify|"+provider+"|"+loan id): the loan id makes
//     it routable, the mac unguessable.
//   - When a distributor asks for a pause (try_later with Retry-After), calls
//     to that instance within the pause wait if the pause is shorter than
//     max_wait and otherwise answer try_later with the time left.
//   - Idempotency-Key replays successful answers and the distributor's final
//     refusals; answers that never reached the distributor or may succeed on
//     retry (rate_limited, circuit_open, plugin_unavailable, try_later,
//     provider_error, provider_timeout) are not stored, so a retry tries
//     again, with the loan id the first attempt reserved. A retry that
//     arrives while the first request runs waits for it (on another node:
//     polling the store) rather than answering 409; if the caller gives up
//     first it gets try_later with Retry-After. Keys are scoped per
//     operation and provider instance.
//   - A claim on a key whose owner died is taken over after the instance's
//     lease: max_wait + timeout + 5 s, the longest a call can run.
//   - Calls that were in flight when their plugin process died answer
//     plugin_unavailable but do not count towards the breaker: a crash is
//     the restart logic's business, and counting it would open the breaker
//     for open_for after every crash under load.
//   - A failed hot swap answers plugin_unavailable (503) with the reason;
//     the running plugin keeps serving.
//   - With cluster.redis, a node that cannot reach Redis falls back to its
//     own limiter (and logs it) rather than refusing every call. A breaker
//     opened on one node holds on every node until open_for has passed;
//     after that each node probes on its own.
//
// Decisions about the journal (issue #12):
//   - The bolt store group-commits with a committer goroutine of its own
//     rather than bbolt's DB.Batch: a write arriving while no commit runs
//     starts one at once (Batch would wait up to its 10 ms timer), and the
//     writes queued meanwhile share the next transaction and its syncs.
//     A write that fails rolls its group back; it is then run alone (its
//     error is its own) and the others committed again, so every write
//     function may run twice and sets its results afresh each time.
//   - bbolt syncs each commit twice (its pages, then its meta page), and a
//     checkout is durable twice (pending before the distributor call, active
//     with its event before the answer), so one checkout alone costs four
//     syncs on bolt. Folding the two phases is not safe (pending must be on
//     disk before the distributor is called); they are shared between
//     concurrent checkouts instead. The bolt file keeps an index for every
//     query (patron, status, expiry, events by cursor, keys by creation):
//     see store_bolt_index.go.
//   - PostgreSQL events commit in parallel, with no lock across a commit:
//     a number drawn by a transaction not yet committed leaves a gap, and a
//     reader never steps over a gap below an event it returns. It settles
//     the gap by inserting a tombstone at the missing number, which waits
//     on the primary key for a writer still holding it; a writer whose
//     number was tombstoned applies again with a new one. So GET /v1/events
//     may wait for a commit in flight, and may write a tombstone.
//   - The PostgreSQL pool has 16 connections unless the DSN sets
//     pool_max_conns: enough for concurrent checkouts to share PostgreSQL's
//     WAL flush, few enough for several nodes on one server.
//   - Events are kept store.event_retention (default 90 days), never less
//     than the Idempotency-Key TTL (a retried checkout finds its
//     loan.created event by its dedupe key); an event's dedupe key is purged
//     with it, so a distributor notification replayed after the retention
//     would apply again. Purges delete a few thousand records per
//     transaction. bbolt reuses freed pages but never shrinks its file;
//     compaction is offline (README, storage).
package host
