SELECT request_sha256, landing_path, answer
FROM idempotency_keys
WHERE device_id = ? AND idempotency_key = ?
