-- Webhook delivery: one row per endpoint, its cursor on the event log and
-- the lease of the node that drives it. Nothing is copied per event: an
-- endpoint's pending deliveries are the events after its cursor.

CREATE TABLE webhook_endpoints (
    endpoint    text COLLATE "C" PRIMARY KEY,
    -- cursor, attempts, failing since, last success and error (WebhookState)
    state       jsonb NOT NULL,
    -- the node driving the endpoint ('' for none) and until when
    holder      text NOT NULL DEFAULT '',
    lease_until timestamptz NOT NULL DEFAULT '-infinity'
);
