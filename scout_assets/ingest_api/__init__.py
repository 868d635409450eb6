"""The real-time path: devices post payloads over HTTP; the API lands them as Drive files."""
