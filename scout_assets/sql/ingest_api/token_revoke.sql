UPDATE device_tokens
SET revoked_at = ?
WHERE device_id = ? AND revoked_at IS NULL
