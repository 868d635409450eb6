-- The warehouse's schema version: one row per migration (scout_assets/migrations) applied, or
-- recorded as applied when the warehouse was created from this DDL already at that version.
create table if not exists audit.SchemaMigrations (
    version     integer not null,
    name        varchar not null,
    applied_at  timestamp not null
);
