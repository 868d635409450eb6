-- Content fingerprint of each reference table as last written: unchanged input writes nothing.
create table if not exists ref.reference_fingerprints (
    table_name   varchar not null,
    fingerprint  varchar not null,
    updated_at   timestamp not null
);
