-- The journal: loans, the event log and idempotency records. Key and
-- filter columns are copied out of the JSON records so that they can be
-- indexed; text compares bytewise (COLLATE "C"), as the other drivers do.

CREATE TABLE loans (
    provider   text COLLATE "C" NOT NULL,
    id         text COLLATE "C" NOT NULL,
    patron     text COLLATE "C" NOT NULL,
    status     text COLLATE "C" NOT NULL,
    expires_at timestamptz,
    record     jsonb NOT NULL,
    PRIMARY KEY (provider, id)
);
CREATE INDEX loans_provider_patron ON loans (provider, patron);
CREATE INDEX loans_provider_status ON loans (provider, status);
CREATE INDEX loans_status_expires_at ON loans (status, expires_at);

-- Events commit in seq order (Apply holds an advisory lock), so a reader
-- paging with "seq > cursor" never skips one.
CREATE TABLE events (
    seq        bigserial PRIMARY KEY,
    event      jsonb NOT NULL,
    dedupe_key text UNIQUE
);

CREATE TABLE idempotency (
    scope      text COLLATE "C" NOT NULL,
    key        text COLLATE "C" NOT NULL,
    record     jsonb NOT NULL,
    status     integer NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_completed_created_at ON idempotency (created_at) WHERE status <> 0;
