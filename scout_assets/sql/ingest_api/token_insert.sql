INSERT INTO device_tokens (token_id, device_id, secret_sha256, created_at)
VALUES (?, ?, ?, ?)
