-- Months whose bronze input changed since silver/gold/platinum last rebuilt them.
-- Written in the same transaction as the input that made them stale; cleared by the last
-- monthly asset of the chain once the month is rebuilt.
create table if not exists audit.PendingMonths (
    txn_month   date not null,
    reason      varchar not null,
    batch_id    varchar not null,
    queued_at   timestamp not null
);
