-- Every supplement workbook version that passed validation, with its bytes: when a later
-- version of the same file fails, the last good one still applies (scout_assets/bronze/
-- reference.py), so a corrupt workbook never replaces the reference data it would update.
create table if not exists audit.SupplementVersions (
    file_path    varchar not null,
    file_hash    varchar not null,
    content      blob not null,
    accepted_at  timestamp not null,
    batch_id     varchar not null
);
