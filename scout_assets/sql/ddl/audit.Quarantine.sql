-- Bad input, kept with its reason and raw text so nothing is silently lost.
create table if not exists audit.Quarantine (
    batch_id         varchar not null,
    file_hash        varchar,
    source_file      varchar not null,
    source_member    varchar,
    source_position  integer,
    reason           varchar not null,
    raw_text         varchar,
    quarantined_at   timestamp not null
);
