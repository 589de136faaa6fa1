// Package resilience is what stands between an operation of the host and a
// provider instance's plugin: a rate limiter, a circuit breaker and a
// deadline, each a middleware around one call shape (go-kit's), so an
// instance's chain reads, outermost first: limit, break, deadline, plugin.
// Around the whole operation, outermost, an Observer writes the call's one
// log line and counts it. The package takes plain settings, an hclog logger
// and metrics interfaces of its own; it knows nothing of the host's
// configuration or types.
//
// Decisions:
//   - When a distributor asks the instance to pause (try_later with
//     Retry-After and sdk.ScopeInstance: its HTTP 429, or 503 with
//     Retry-After), calls to that instance within the pause wait if the
//     pause is shorter than max_wait and otherwise answer try_later with the
//     time left. A pause about one request (sdk.ScopeRequest, e.g. CB's
//     EBS-10060) answers try_later with Retry-After for that request and
//     pauses nothing.
//   - A call that would wait for a token past max_wait is refused at once
//     with rate_limited and its reservation is given back.
//   - The breaker counts what sdk's code table counts (Code.CountsForBreaker).
//     A caller that gave up says nothing about the distributor, so
//     context.Canceled never counts; the host adds its own exclusions
//     (BreakerSettings.Excluded): calls that were in flight when their
//     plugin process died (a crash is the restart logic's business, and
//     counting it would open the breaker for open_for after every crash
//     under load), and instances that do not serve (their Configure or
//     Health failed: they asked nothing of the distributor).
//   - With a shared limit (cluster.redis), a node that cannot reach it falls
//     back to its own bucket, and logs it, rather than refusing every call.
//     A breaker opened on one node holds on every node until open_for has
//     passed; after that each node probes on its own.
package resilience
