// Package cluster is what the host needs to share an instance's rate limit
// and breaker state across host nodes (config cluster.redis): a shared token
// bucket to admit calls through, and a shared "open until" for breakers.
// Drivers register themselves like database/sql drivers, so an embedder
// links only the ones it imports:
//
//	import _ "github.com/lendgate/lendgate/host/cluster/redis"
//
// Decisions:
//   - A node that cannot reach the shared state falls back to its own
//     limiter (and logs it) rather than refusing every call.
//   - A breaker opened on one node holds on every node until open_for has
//     passed; after that each node probes on its own.
//   - Calls are never wrapped in a cluster-wide lock (gobreaker's
//     DistributedCircuitBreaker would serialise them): nodes still call one
//     instance in parallel.
package cluster
