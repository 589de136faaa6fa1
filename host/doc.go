// Package host is the embeddable lendgate host: it runs provider plugins
// (hashicorp/go-plugin over gRPC), wraps every provider instance in a rate
// limiter, a circuit breaker and a deadline, keeps a journal of loans and
// events, and serves the unified lending API of api.md three ways: as an
// http.Handler (Handler), as middleware in front of an ILS's own handlers
// (Middleware), and as Go methods (Checkout, Fulfill, …) with the same
// request and response types.
//
// A request reads as a chain of small files: http*.go (codec) → ops*.go
// (operation) → resilience.go (limit, break, deadline) → plugin.go (the
// current generation) → internal/wire (the gRPC client) → the plugin, which
// internal/launch started.
//
// Decisions where the contract is silent:
//   - Patron pseudonyms are computed by the host, so no plugin ever sees an
//     ILS patron id unless the instance sets send_patron_id: the key of
//     instance I is HMAC-SHA256(secret, "patron|"+I), the pseudonym the first
//     32 hex characters of HMAC-SHA256(key, patron id).
//   - A notification token is "<loan id>.<mac>" where mac is the base64url
//     HMAC-SHA256(secret, "notify|"+provider+"|"+loan id): the loan id makes
//     it routable, the mac unguessable.
//   - When a distributor asks the instance to pause (try_later with
//     Retry-After, scope instance), calls to that instance within the pause
//     wait if the pause is shorter than max_wait and otherwise answer
//     try_later with the time left. A pause about one request (scope
//     request, e.g. CB's EBS-10060) answers that request only.
//   - Idempotency-Key replays successful answers and the distributor's final
//     refusals; answers that never reached the distributor or may succeed on
//     retry (rate_limited, circuit_open, plugin_unavailable before the call
//     was sent, try_later, provider_error, journal_unavailable before the
//     call) are not stored, so a retry tries again. Answers of a call that
//     may have reached the distributor keep the claim instead (see the
//     at-most-once bullets below). A retry that
//     arrives while the first request runs waits for it (on another node:
//     polling the store) rather than answering 409; if the caller gives up
//     first it gets try_later with Retry-After. Keys are scoped per
//     operation and provider instance.
//   - A claim's owner beats (refreshes its UpdatedAt) every lease/4 while
//     its call runs; a claim is taken over only when no beat came for the
//     instance's lease (max_wait + timeout + 5 s), i.e. its owner died. A
//     slow store delays beats, not correctness: it takes four missed beats.
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
//   - Webhooks keep no copy of events: each endpoint has a cursor on the
//     log (the last event delivered or given up), journaled with its
//     failure count and failing-since in the store's own table or bucket.
//     A new endpoint starts at the end of the log; one removed and added
//     back resumes where it stopped. An endpoint is named by its URL
//     without query and user info (which may hold credentials): that name
//     keys the journal and labels logs, metrics and the admin view.
//   - One node at a time drives an endpoint: a lease of 60 s in its
//     journal record, renewed at half, taken over by another node (which
//     checks every 20 s) once it lapses or is handed back at Close. Every
//     journal write is fenced by the holder. The holder reads the log every
//     second for other nodes' events and is woken at once for its own.
//   - Webhook retries: first within 2 s, doubling with jitter in the upper
//     half, capped at 1 h; an event failing 3 days after its first failure
//     is given up and the next one is tried after the current delay (only
//     a 2xx resets the backoff, so a dead receiver gets one attempt an
//     hour). 3xx is a failure and never followed. Close lets an attempt in
//     flight finish and journals it, so a 2xx is not lost to a shutdown.
//   - Webhook secrets hold 24 to 64 bytes (the Standard Webhooks
//     recommendation); http URLs need allow_insecure_http, as providers'
//     base URLs do. Event filters must match a known type, so a typo is a
//     configuration error, not a silent endpoint.
//   - Outsiders grow nothing: a metric's provider label is a configured
//     instance or "unknown" (so no instance should be named "unknown"), op is
//     the host's own constant and code "ok" or a unified code. A call at an
//     unknown provider is counted but not timed: one series per operation
//     and code, no histogram. Every caller-supplied string in a log line
//     (provider, loan id, error text) is clipped to 120 bytes; a failed
//     request logs its route pattern, never its path (which holds tokens).
//   - A notification's token is checked before a byte of its body is read:
//     a forged one answers 404 with Connection: close, so net/http does not
//     drain the unread body either; a Content-Length beyond the 64 KiB cap
//     answers 413 the same way. examples/server reads headers within 10 s
//     and a request within 30 s, keeps idle connections 2 min, and lets a
//     write run 30 s + the longest instance call + 15 s.
//   - Links are http or https, the scheme read case-insensitively as a
//     browser does; an href with control characters is dropped too (browsers
//     strip tabs and newlines, making "java\tscript:" a scheme). An answer
//     keeps at most 32 links, each href at most 8 KiB; format, rel and name
//     are cut to 200 bytes. Dropped links are logged at warn with their
//     scheme and length only, and counted in
//     lendgate_links_dropped_total{provider}.
//   - Every plugin answer passes one guard (guard.go) on its way in, at
//     instance.do: provider_ref and event data keep at most 32 entries with
//     keys up to 128 bytes and values up to 4 KiB; an oversized entry is
//     dropped whole (a cut reference would be wrong, not shorter), surplus
//     entries in key order. A loan format over 100 bytes is ignored. Event
//     types outside api.md §5 (and the host's loan.resolved) become
//     loan.notified.
//   - Authorization's scheme matches "Bearer" in any case, followed by one
//     or more spaces; secret must have at least 32 bytes (New refuses less).
//   - A redirect URL reuses the fresh link it last got for 30 s, or until
//     10 s before that link expires if sooner, on the node that served it;
//     uses at the same moment wait for one distributor call; failures are
//     not reused; the loan must still be active at every use. So a leaked
//     URL costs at most one distributor call per 30 s (≤ 30 over its 15
//     minutes at most) instead of one per use, and gives its holder nothing
//     it did not have. At most 10 000 URLs are remembered per node; beyond
//     that, URLs not yet remembered ask the distributor every time.
//   - A plugin runs from the host's private copy of its binary, checked
//     against its pin (internal/launch says how). Crash restarts run the
//     same copy; only a reload or SIGHUP reads the path again. The copy is
//     removed when the plugin stops or is swapped out.
//   - A reload's optional sha256 becomes the plugin's pin for later crash
//     restarts too. Host.ReloadConfig takes a whole PluginConfig (path and
//     pin): it is the Go embedder's configuration, and what SIGHUP uses.
//   - An instance whose Configure is refused (any answer of the plugin
//     other than a timeout or plugin_unavailable) answers
//     provider_credentials with the plugin's reason until a new process is
//     configured (reload, SIGHUP, crash restart): settings that were refused
//     are refused again, so there is no retry loop. An instance whose
//     Health fails (or whose Configure got no answer) answers
//     plugin_unavailable, Retry-After = the next check, and is checked again
//     with capped backoff (1 s doubling to 1 min); a Health answering
//     provider_credentials answers that code. These answers do not count
//     towards the breaker (they asked nothing of the distributor) and do
//     not hold /readyz, which stays about the plugin processes: one
//     misconfigured account must not take its neighbours out of a load
//     balancer. GET /v1/providers shows such an instance with health "down"
//     and its "error".
//   - A swap goes through when only some instances fail their health check
//     on the new build (their distributor's state, not the binary's); it is
//     refused when the new build refuses settings the running one accepted,
//     or when every instance that serves now would fail on it.
//   - A pause applies to the instance only for try_later with Retry-After
//     and sdk.ScopeInstance (the distributor's 429, or 503 with
//     Retry-After); sdk.ScopeRequest (CB's EBS-10060) answers try_later with
//     Retry-After for that request and pauses nothing.
//   - At most once (api.md §7). A keyed call "may have reached the
//     distributor" when it was sent and then timed out (provider_timeout),
//     its plugin died or its connection broke (plugin_unavailable after the
//     send), its caller went away during it, or the journal could not record
//     the distributor's answer. Its claim is then parked, with its loan id,
//     until the key expires (IdempotencyRecord.Unknown; parked claims and
//     claims whose owner stopped beating are purged with the key after
//     idempotency_ttl). A retry of a checkout re-sends under the same loan id
//     only if the plugin declares sdk.Info.DedupesCheckout (De Marque, CB);
//     a duplicate_reference answer to such a re-send means the first order
//     stands, and the loan becomes active with what the host knows (no link,
//     no provider_ref; expiry = created_at + days). Otherwise, and while the
//     plugin is down (plugin_unavailable, key still parked), the retry sends
//     nothing and answers 409 outcome_unknown with "loan". A failed re-send
//     answers its own code, naming the loan, and keeps the claim. A key whose
//     loan was resolved meanwhile answers that loan (active) or
//     not_available (revoked: never placed). Takeovers of a dead owner's
//     claim follow the same rule, decided by the loan it journaled (none:
//     nothing was sent, it runs afresh).
//   - Renewals and returns under a key whose earlier attempt may have reached
//     the distributor (or whose owner died) answer outcome_unknown with the
//     loan id and send nothing: no distributor dedupes them by a reference
//     the host controls (CB's renewal is a paid addition). The caller checks
//     the loan and, if needed, retries with a new key.
//   - Go callers get the loan id of outcome_unknown and of
//     journal_unavailable-after-the-answer from *LoanError (errors.As).
//   - A journal write failure answers journal_unavailable (503, Retry-After
//     5 s; the store's own error is logged, never shown) and is never
//     counted by the breaker. The host's journal health turns bad on any
//     failed store write and good on the next successful one; while bad,
//     /readyz answers 503 {"status":"journal_unavailable"} and every sweep
//     probes the journal with a harmless claim-and-release.
//     Host.JournalWritable exposes it to embedders.
//   - The write that follows a distributor's answer is retried 4 times
//     within about a second (well inside the lease margin); if it still
//     fails, the loan is written as unknown (or, if even that fails, left
//     pending for the sweeper to turn unknown after the lease) and the
//     answer is journal_unavailable naming the loan.
//   - Resolution: each sweep asks, for each instance whose plugin declares
//     sdk.CapResolve, about up to 20 of its oldest unknown loans, through the
//     instance's limiter, breaker and deadline. Placed: the loan becomes
//     active with the distributor's data (expiry created_at + days when it
//     gives none). Not placed: the loan becomes revoked — the vocabulary has
//     no "never existed", and revoked reads right to a library: there is no
//     loan to serve. Both append loan.resolved {"outcome": "placed" |
//     "not_placed"} in the same transaction. A placement is journaled once:
//     loan.resolved (placed) and loan.created share a dedupe key, so a retry
//     racing the sweeper adds no second event. An error leaves the loan
//     unknown for the next pass.
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
