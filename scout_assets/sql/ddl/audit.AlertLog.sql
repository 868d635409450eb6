-- Every alert sent (or attempted) and every recovery, one row per problem transition.
create sequence if not exists audit.alert_seq;
create table if not exists audit.AlertLog (
    alert_id       bigint default nextval('audit.alert_seq') primary key,
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
