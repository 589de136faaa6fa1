// Package redis shares instances' rate limits and breaker state across host
// nodes through Redis (config cluster.redis): go-redis for the connection,
// go-redis/redis_rate (GCRA) for the token buckets. Importing it registers
// the driver "redis" with package cluster:
//
//	import _ "github.com/lendgate/lendgate/host/cluster/redis"
//
// Decisions:
//   - The address is a URL (redis://, rediss://) or a plain host:port,
//     dialled within 2 s and checked with a PING within 5 s.
//   - Rates are kept to three decimals: redis_rate counts whole events per
//     period, so per_second becomes events per 1000 s.
//   - An open breaker is one key, "lendgate:breaker:<instance>", holding
//     its "open until" (unix nanoseconds) and expiring with it. Every node
//     reads it at most every 50 ms per instance, one read at a time.
package redis
