// Package host is the embeddable lendgate host: it runs provider plugins
// (hashicorp/go-plugin over gRPC), wraps every provider instance in a rate
// limiter, a circuit breaker and a deadline, keeps a journal of loans and
// events, and serves the unified lending API of api.md three ways: as an
// http.Handler (Handler), as middleware in front of an ILS's own handlers
// (Middleware), and as Go methods (Checkout, Fulfill, …) with the same
// request and response types.
//
// A request crosses one package per layer: internal/httpapi (the HTTP
// codec) → one file here per operation (checkout.go, fulfill.go, …, each with
// one validation call in validate.go) → internal/resilience (limit, break,
// deadline) → the plugin's process (plugin.go; started by internal/launch)
// → internal/wire → the plugin. The request and response types are package
// api's; the journal is package journal's, with its drivers in
// journal/bolt, journal/memory and journal/postgres; limits and breaker
// state shared across nodes are package cluster's (driver: cluster/redis).
// Those packages never import host.
//
// Decisions where the contract is silent are written beside the code they
// concern (the journal's, resilience's and cluster's in their packages);
// here, in brief:
//   - patron pseudonyms: per-instance HMAC keys (secrets.go)
//   - notification tokens: "<loan id>.<mac>" (secrets.go)
//   - which answers an Idempotency-Key replays (idempotency.go)
//   - claims beat every lease/4; takeover after a lease without a beat (idempotency.go)
//   - a failed hot swap leaves the running plugin serving (host.go)
//   - webhooks: a cursor per endpoint, one driving node, retries, secrets (webhook.go)
//   - a notification token is checked before its body is read (notify.go)
//   - links are http(s) only, bounded, counted when dropped (links.go)
//   - every plugin answer passes one guard (guard.go)
//   - the Bearer scheme in any case; secrets of at least 32 bytes (auth.go)
//   - a redirect URL reuses its fresh link for 30 s (redirects.go)
//   - a plugin runs from the host's private, hashed copy of its binary (host.go)
//   - a reload's sha256 becomes the pin for later restarts (host.go)
//   - one instance's refused settings or failed health stay its own (instance.go)
//   - a swap is refused only for the build's own faults (host.go)
//   - at most once: a call that may have reached the distributor (by the plugin's
//     sdk.Outcome, or the host's own failure mid-call) keeps its loan and parks its key;
//     renewals and returns are re-sent only where the plugin declares a dedupe (outcome.go)
//   - a failing journal answers journal_unavailable and stops orders (journal.go)
//   - the sweeper resolves unknown loans through the plugin's resolve (resolve.go)
//   - loan writes are compare-and-set; on a conflict the later expiry wins, a
//     notification applies to the loan as read again, a checkout's answer
//     wins over pending or unknown, the sweeper and resolve give way (cas.go)
//   - a retry of a checkout stamps its own attempt time; the sweeper's lease
//     runs from it, not from created_at (checkout_attempt.go)
package host
