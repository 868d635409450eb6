-- Every file ever listed in the Drive, by path and content hash: decides what is new.
create table if not exists audit.FileManifest (
    file_path        varchar not null,
    file_hash        varchar,                 -- sha256 of the file's bytes (NULL: unreadable)
    file_size        bigint not null,
    modified_at      timestamp,
    first_seen_at    timestamp not null,
    status           varchar not null,        -- loaded / duplicate / quarantined / unreadable / rollback
    duplicate_of     varchar,                 -- path of the file first loaded with this hash
    batch_id         varchar not null,
    payload_rows     integer default 0,
    interaction_rows integer default 0,
    quarantined_rows integer default 0,
    notes            varchar
);
