SELECT device_id, secret_sha256, revoked_at
FROM device_tokens
WHERE token_id = ?
