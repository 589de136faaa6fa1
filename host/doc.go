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
//     again. A retry that arrives while the first request runs waits for it.
package host
