UPDATE idempotency_keys
SET status = ?, answer = ?
WHERE device_id = ? AND idempotency_key = ?
