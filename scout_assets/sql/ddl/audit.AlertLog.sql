-- Every alert sent (or attempted) and every recovery, one row per problem transition.
create table if not exists audit.AlertLog (
    alert_id       bigint not null,
    problem_key    varchar not null,     -- stable identity of the problem (check + asset + month)
    state          varchar not null,     -- problem / recovered
    severity       varchar not null,     -- WARN / ERROR / INFO
    title          varchar not null,
    details        varchar,
    channels       varchar,              -- where it was delivered
    delivered      boolean not null,
    attempts       integer default 1,
    created_at     timestamp not null
);
