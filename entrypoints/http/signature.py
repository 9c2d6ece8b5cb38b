"""The request signature merchants send (`X-Signature`), on its own so that `paygate sign`
computes it without importing the HTTP framework."""

from __future__ import annotations

import hashlib
import hmac


def signature(secret: bytes, timestamp: str, method: str, target: str, body: bytes) -> str:
    message = f"{timestamp}\n{method}\n{target}\n".encode() + body
    return hmac.new(secret, message, hashlib.sha256).hexdigest()
