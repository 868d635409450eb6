-- One row per sales interaction: its latest delivery that is not rolled back, demographics
-- normalised. Derived from dbo.InteractionDeliveries for the interactions a batch or a
-- rollback touches (sql/bronze/current_interactions.sql).
create table if not exists dbo.SalesInteractions (
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
    source_file          varchar,
    source_member        varchar,
    source_position      integer,
    validation_errors    varchar,
    file_hash            varchar,
    etl_batch_id         varchar not null,
    ingestion_timestamp  timestamp not null
);
