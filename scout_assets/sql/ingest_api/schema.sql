-- The ingestion API's own state, in SQLite beside the warehouse (never in the Drive, never in
-- DuckDB: ingestion runs hold DuckDB's write lock, and every request authenticates).
CREATE TABLE IF NOT EXISTS device_tokens (
    token_id      TEXT PRIMARY KEY,  -- the public part of a token: scout_<token_id>_<secret>
    device_id     TEXT NOT NULL,     -- upper case, as bronze writes DeviceID
    secret_sha256 TEXT NOT NULL,     -- the secret itself is shown once and never stored
    created_at    TEXT NOT NULL,
    revoked_at    TEXT
);
CREATE INDEX IF NOT EXISTS device_tokens_by_device ON device_tokens (device_id);

CREATE TABLE IF NOT EXISTS idempotency_keys (
    device_id       TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_sha256  TEXT NOT NULL,   -- route, body kind and body: "same key, another body" is 409
    landing_path    TEXT NOT NULL,   -- recorded before the file is written
    answer          BLOB NOT NULL,   -- the 202's body, replayed to every retry
    created_at      TEXT NOT NULL,
    PRIMARY KEY (device_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_by_age ON idempotency_keys (created_at);
