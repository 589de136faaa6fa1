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
package host
