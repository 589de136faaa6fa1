-- Claims in progress (and parked claims of unknown outcome) expire too:
-- PurgeIdempotency finds those whose heartbeat stopped before the TTL.
CREATE INDEX idempotency_claims_updated_at ON idempotency (updated_at) WHERE status = 0;
