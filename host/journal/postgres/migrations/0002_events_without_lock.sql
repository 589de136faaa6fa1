-- Events commit in parallel (no lock across a commit): a number drawn by a
-- transaction that has not committed yet leaves a gap that readers settle
-- (see PostgresStore.Events). A settled gap that no event will fill is a
-- tombstone: a row without an event. events_purged_below is the retention
-- horizon: numbers below it were purged and are not gaps.

ALTER TABLE events ALTER COLUMN event DROP NOT NULL;

CREATE TABLE events_horizon (
    one   boolean PRIMARY KEY DEFAULT true CHECK (one),
    below bigint NOT NULL
);
INSERT INTO events_horizon (below) VALUES (1);

-- The sweeper's pending pass and the status listings read loans of one
-- status in id order.
CREATE INDEX loans_status_id ON loans (status, id);
