INSERT INTO idempotency_keys
    (device_id, idempotency_key, request_sha256, landing_path, answer, created_at)
VALUES (?, ?, ?, ?, ?, ?)
