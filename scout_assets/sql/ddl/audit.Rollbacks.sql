-- Every batch rolled back: why, when, and what it took out. One row per batch.
create table if not exists audit.Rollbacks (
    batch_id         varchar not null,   -- the ingestion run rolled back
    reason           varchar not null,
    rolled_back_at   timestamp not null,
    rollback_id      varchar not null,      -- the run (or CLI invocation) that rolled it back
    months           varchar,               -- YYYY-MM, comma-separated: queued for rebuilding
    payloads         integer not null,
    interactions     integer not null,
    files            integer not null,
    transactions     integer not null       -- distinct transactions the batch touched
);
