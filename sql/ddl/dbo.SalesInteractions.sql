-- Bronze: one row per sales interaction (latest delivery wins), demographics normalised.
create table if not exists dbo.SalesInteractions (
    interaction_key      varchar primary key,  -- InteractionID, lower-case without hyphens
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
    ingestion_timestamp  timestamp not null
);
