-- Bronze: every sales interaction as delivered, one row per delivery, never replaced. A
-- rollback marks a batch's deliveries (processing_status = 'rollback'); dbo.SalesInteractions
-- is the latest live delivery of each interaction, derived from this table.
create table if not exists dbo.InteractionDeliveries (
    interaction_key      varchar not null,  -- InteractionID (else canonical_tx_id), lower-case, no hyphens
    interaction_id       varchar,
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
    source_file          varchar not null,
    source_member        varchar,
    source_position      integer,
    validation_errors    varchar,           -- keys delivered twice, unreadable descriptive values
    file_hash            varchar not null,
    etl_batch_id         varchar not null,
    ingestion_timestamp  timestamp not null,
    processing_status    varchar not null   -- loaded / rollback
);
