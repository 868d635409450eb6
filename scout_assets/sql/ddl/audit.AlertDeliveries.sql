-- One row per alert and channel (log, webhook, email): the outbox the alert sensor drains.
-- An undelivered row is retried on later ticks with backoff, never dropped; a delivered channel
-- is never sent again, so a retry after a partial failure does not repeat the others.
create table if not exists audit.AlertDeliveries (
    alert_id         bigint not null,    -- audit.AlertLog.alert_id
    channel          varchar not null,   -- log / webhook / email
    delivered        boolean not null,
    attempts         integer not null,
    last_error       varchar,
    last_attempt_at  timestamp,
    next_attempt_at  timestamp,
    delivered_at     timestamp
);
