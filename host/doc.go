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
//   - A plugin runs from the host's private copy of its binary: read once
//     from the configured path and hashed while copied (on Linux into a
//     sealed memfd executed as /proc/self/fd/N; elsewhere, or without
//     memfd or /proc, into a 0700 temp directory of the host's own). The
//     path is never opened again for that start; go-plugin's SecureConfig
//     checks the copy once more. Crash restarts run the same copy (the
//     bytes already checked); only a reload or SIGHUP reads the path again.
//     The copy is removed when the plugin stops or is swapped out.
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
package host
