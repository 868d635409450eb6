-- Sales interactions of rolled-back batches, kept with the reason. dbo.SalesInteractions has no
-- status column and every consumer reads it whole, so a rolled-back row moves here (same
-- columns as dbo.SalesInteractions, then why and when).
create table if not exists audit.RolledBackInteractions (
    interaction_key      varchar not null,
    interaction_id       varchar not null,
    canonical_tx_id      varchar not null,
    store_id             integer,
    device_id            varchar,
    transaction_date     timestamp,
    facial_id            varchar,
    gender               varchar,
    age                  integer,
    age_bracket          varchar,
    emotional_state      varchar,
    transcription_text   varchar,
    barangay             varchar,
    customer_type        varchar,
    substitution_event   boolean,
    substitution_reason  varchar,
    suggestion_accepted  boolean,
    source_file          varchar,
    source_position      integer,
    file_hash            varchar,
    etl_batch_id         varchar not null,
    ingestion_timestamp  timestamp not null,
    rollback_reason      varchar not null,
    rolled_back_at       timestamp not null
);
