-- Every verdict of a quality check: one row per check, asset and subject (a month, the latest
-- batch, a table) per evaluation. The latest row per (check_name, asset, subject) is the
-- current verdict: what `scout doctor` shows and what the alert sensor turns into alerts.
-- Monthly checks write their rows in the same transaction as the month they judge.
create table if not exists audit.CheckResults (
    result_id     bigint not null,
    check_name    varchar not null,
    asset         varchar not null,   -- asset key as layer/name, or the judge (doctor, a job)
    subject       varchar not null,   -- YYYY-MM for a month, 'latest', 'batch', a table name
    txn_month     date,               -- the month judged (NULL when the subject is no month)
    severity      varchar not null,   -- OK / INFO / WARN / ERROR
    passed        boolean not null,
    description   varchar,
    figures_json  varchar,            -- the figures behind the verdict
    run_id        varchar,            -- the Dagster run that judged (NULL outside Dagster)
    evaluated_at  timestamp not null
);
