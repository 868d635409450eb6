SELECT device_id, token_id, created_at, revoked_at
FROM device_tokens
ORDER BY device_id, created_at
