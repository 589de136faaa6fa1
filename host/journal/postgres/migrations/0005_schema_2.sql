-- Journal schema 2 (journal.SchemaVersion): records are the journal's own
-- types. A loan's record is flat rather than nested under "loan"; an
-- idempotency record keeps its outcome ("answer" or "refusal") rather than
-- an HTTP status. Readers take both shapes, so no row is rewritten.
COMMENT ON COLUMN idempotency.status IS
    '0 while the key is in progress; otherwise done (1, or the HTTP status of the first answer in rows of schema 1)';
